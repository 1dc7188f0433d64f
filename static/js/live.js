/*
 * Service Desk live client.
 *
 * Keeps one websocket per page open to the server, shows the connection
 * state in the header, turns notifications into toasts and keeps the unread
 * counter current. Pages that want to react to live events listen on
 * `document` for:
 *   live:activity      detail = activity object
 *   live:notification  detail = notification object
 *   live:state         detail = {state: "connecting" | "live" | "offline"}
 *   live:event         detail = a content-free hint, e.g. {kind: "leaderboard"}
 *   live:subscribed    detail = {stream}: the server confirmed a stream on this
 *                      socket (again after each reconnect); the socket opens
 *                      only after every deferred page script has run.
 *   live:unsubscribed  detail = {stream, reason}: the server dropped a stream
 *                      (reason "access_ended": the person may no longer see it)
 *   live:presence      detail = {stream, user, name, state, ttl}: another agent
 *                      on a subscribed ticket (see ticket-tools.js)
 *   live:closed        detail = {code, reason}: the server ended the session's
 *                      live updates for good (4401 signed out, 4403 role changed)
 *
 * Pages ask for extra streams with `data-live-stream="ticket:42"` on any
 * element, or with window.ServiceDeskLive.subscribe("ticket:42").
 *
 * Signed-out pages carry no data-live-url, so the client stays idle there.
 */
(function () {
  "use strict";

  var body = document.body;
  var livePath = body && body.dataset.liveUrl;
  if (!livePath || !("WebSocket" in window)) {
    return;
  }

  // Reconnect delays: "full jitter" exponential backoff. After the n-th failure
  // in a row the wait is uniformly random in [0, min(cap, base * 2^(n-1))), so
  // thousands of tabs dropped at once (a server restart, a reconnect storm)
  // spread their returns instead of arriving together.
  var BACKOFF_START_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var STABLE_AFTER_MS = 10000; // a connection this old is "healthy": reset backoff
  // 1013 "try again later": the server is up but cannot serve sockets now
  // (e.g. Redis is down). Retry, but never sooner than this.
  var TRY_AGAIN_LATER = 1013;
  var TRY_AGAIN_MIN_MS = 1000;
  var TOAST_MS = 8000;
  var MAX_TOASTS = 5;
  var RECENT_IDS = 500;
  // Failed attempts in a row before the indicator admits "offline". Before
  // that we say "connecting…", so a short blip does not make screen readers
  // announce offline/connecting on every retry.
  var OFFLINE_AFTER_FAILURES = 3;
  // Close codes the server uses when this page may no longer listen: 4401
  // signed out (sign-out, deactivated account, new password), 4403 role
  // changed. Retrying cannot fix those, so we stop and say why.
  var FATAL_CODES = {
    4401: "You were signed out, so live updates stopped. Sign in again to get them back.",
    4403: "Your role changed, so live updates stopped. Reload the page to continue.",
  };
  var LABELS = { connecting: "connecting\u2026", live: "live", offline: "offline" };

  var username = body.dataset.username || "";
  var socket = null;
  var state = null;
  var attempt = 0; // consecutive failed connection attempts
  var reconnectTimer = null;
  var notBefore = 0; // after a 1013, no reconnect (not even "tab shown") before this time
  var stableTimer = null;
  var stopped = false; // refused by the server: no more retries this page load
  var leaving = false; // page is being unloaded or put in the back/forward cache
  var resuming = false; // replayed notifications are already in the welcome's unread count
  var welcomedOnce = false; // a welcome frame has been seen on this page load
  var streams = new Set();

  // --- Last seen ids ---
  // Kept per user in sessionStorage so that navigating to another page (a
  // new socket) can ask the server for what happened in between instead of
  // silently missing it.

  var cursor = loadCursor();
  var hadStoredCursor = cursor !== null;
  if (!cursor) {
    cursor = { activity: 0, notification: 0 };
  }
  // Dedup: anything at or below the floor was already seen before the
  // current resume; above it we remember exact ids, because a resume and live
  // delivery can interleave and arrive out of order.
  var floor = { activity: cursor.activity, notification: cursor.notification };
  // The newest ids when the server started rendering this page (see
  // feeds.middleware): everything up to them is on screen.
  var pageMarks = body.dataset.liveActivityId === undefined ? null : {
    activity: Number(body.dataset.liveActivityId) || 0,
    notification: Number(body.dataset.liveNotificationId) || 0,
  };
  var recent = { activity: new Set(), notification: new Set() };

  function storageKey() {
    return "servicedesk.live." + username;
  }

  function loadCursor() {
    try {
      var raw = window.sessionStorage.getItem(storageKey());
      if (!raw) return null;
      var data = JSON.parse(raw);
      return {
        activity: Number(data.activity) || 0,
        notification: Number(data.notification) || 0,
      };
    } catch (e) {
      return null; // storage disabled or corrupt: behave like a fresh tab
    }
  }

  function saveCursor() {
    try {
      window.sessionStorage.setItem(storageKey(), JSON.stringify(cursor));
    } catch (e) {
      /* storage full or disabled: resume just covers less */
    }
  }

  // Returns true when the item is new; records it either way.
  function firstSighting(kind, id) {
    id = Number(id);
    if (!id) return true; // no id to compare: cannot be a duplicate we know of
    if (id <= floor[kind] || recent[kind].has(id)) return false;
    recent[kind].add(id);
    if (recent[kind].size > RECENT_IDS) {
      // Sets iterate in insertion order: drop the oldest entry.
      recent[kind].delete(recent[kind].values().next().value);
    }
    if (id > cursor[kind]) {
      cursor[kind] = id;
      saveCursor();
    }
    return true;
  }

  // --- Connection indicator ---

  function setState(next) {
    if (next === state) return; // the indicator is a live region: no repeats
    state = next;
    var el = document.getElementById("live-indicator");
    if (el) {
      var text = LABELS[next];
      el.setAttribute("data-state", next);
      el.setAttribute("title", "Live updates: " + text);
      el.setAttribute("aria-label", "Live updates: " + text);
      var label = el.querySelector(".live-label");
      if (label) label.textContent = text;
    }
    emit("live:state", { state: next });
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  // --- Socket lifecycle ---

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + livePath;
  }

  function isOpenOrOpening() {
    return socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING);
  }

  function connect() {
    if (stopped || leaving || isOpenOrOpening()) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (attempt < OFFLINE_AFTER_FAILURES) setState("connecting");

    var ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket = ws;

    ws.addEventListener("open", function () {
      if (ws !== socket) return;
      // "live" waits for the server's welcome: an accepted socket can still be
      // dropped before the server has joined us to our groups.
      // Only forgive past failures once the connection has proven stable;
      // a server that accepts then drops at once must still back off.
      stableTimer = setTimeout(function () { attempt = 0; }, STABLE_AFTER_MS);
      streams.forEach(sendSubscribe);
    });

    ws.addEventListener("message", function (event) {
      if (ws !== socket) return;
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === "object") handleFrame(frame);
    });

    ws.addEventListener("close", function (event) {
      if (ws !== socket) return;
      socket = null;
      clearTimeout(stableTimer);
      if (FATAL_CODES[event.code]) {
        stopped = true;
        setState("offline");
        clearTimeout(reconnectTimer);
        reconnectTimer = null;
        showNotice(FATAL_CODES[event.code], event.code === 4401 ? "/accounts/login/" : window.location.href,
                   event.code === 4401 ? "Sign in" : "Reload");
        emit("live:closed", { code: event.code, reason: event.reason || "" });
        return;
      }
      if (leaving) return;
      scheduleReconnect(event.code);
    });
    // "error" is always followed by "close", which does the work.
  }

  // The wait before reconnect attempt number `failures` (1 = first retry).
  // `random` is Math.random unless a test passes its own.
  function backoffDelay(failures, random) {
    var n = Math.max(1, Math.floor(Number(failures) || 1));
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * Math.pow(2, Math.min(n - 1, 30)));
    return Math.floor((random || Math.random)() * ceiling);
  }

  function scheduleReconnect(closeCode) {
    if (stopped || leaving || reconnectTimer) return;
    attempt += 1;
    if (attempt >= OFFLINE_AFTER_FAILURES || !navigator.onLine) setState("offline");
    else setState("connecting");
    var delay = backoffDelay(attempt);
    if (closeCode === TRY_AGAIN_LATER) {
      delay = Math.max(delay, TRY_AGAIN_MIN_MS);
      notBefore = Date.now() + delay;
    }
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  // The user is back (tab shown, network up): try now rather than wait out
  // a long backoff delay.
  function reconnectNow() {
    if (stopped || leaving || isOpenOrOpening() || Date.now() < notBefore) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    connect();
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function sendSubscribe(stream) {
    send({ action: "subscribe", stream: stream });
  }

  // --- Server frames ---

  function handleFrame(frame) {
    switch (frame.type) {
      case "welcome":
        onWelcome(frame);
        break;
      case "activity":
        if (frame.activity && firstSighting("activity", frame.activity.id)) {
          emit("live:activity", frame.activity);
        }
        break;
      case "notification":
        if (frame.notification && firstSighting("notification", frame.notification.id)) {
          onNotification(frame.notification);
        }
        break;
      case "unread":
        setUnread(Number(frame.count) || 0);
        // Read in another tab (or by opening what they point to): rows clear everywhere.
        // A repeat made a notification unread again: read it if this tab shows what it points to.
        if (Array.isArray(frame.again)) {
          frame.again.forEach(function (note) { if (note && pointsHere(note)) markRead(note.id); });
        }
        if (frame.all_read || (Array.isArray(frame.read) && frame.read.length)) {
          emit("live:notifications-read", { ids: frame.read || [], all: !!frame.all_read });
        }
        break;
      case "event":
        if (frame.event && typeof frame.event === "object") emit("live:event", frame.event);
        break;
      case "presence":
        emit("live:presence", frame);
        break;
      case "subscribed":
        emit("live:subscribed", { stream: frame.stream });
        break;
      case "unsubscribed":
        onUnsubscribed(frame);
        break;
      case "resumed":
        resuming = false;
        emit("live:resumed", { activities: frame.activities, notifications: frame.notifications });
        break;
      case "error":
        if (window.console) console.warn("Live updates:", frame.message);
        emit("live:error", { message: frame.message });
        break;
    }
  }

  function onWelcome(frame) {
    setState("live");
    if (frame.user && frame.user !== username) {
      // The server knows best who we are (e.g. signed in again in another
      // tab); never mix one user's ids into another's storage.
      username = String(frame.user);
      cursor = loadCursor();
      hadStoredCursor = cursor !== null;
      cursor = cursor || { activity: 0, notification: 0 };
      recent.activity.clear();
      recent.notification.clear();
    }
    // The server's unread count already includes anything a resume will replay.
    if (typeof frame.unread === "number") setUnread(frame.unread);
    var serverActivity = Number(frame.last_activity_id) || 0;
    var serverNotification = Number(frame.last_notification_id) || 0;

    if (welcomedOnce || hadStoredCursor) {
      // We have been away (reconnect, or a previous page of this tab):
      // ask for what we missed. Items at or below the cursor are known.
      floor.activity = cursor.activity;
      floor.notification = cursor.notification;
      resuming = true;
      send({ action: "resume", since: cursor.activity, notifications_since: cursor.notification });
    } else if (pageMarks) {
      // Fresh tab: the page shows everything up to the ids it was rendered
      // at; ask for what happened between the render and this welcome.
      cursor.activity = Math.max(cursor.activity, pageMarks.activity);
      cursor.notification = Math.max(cursor.notification, pageMarks.notification);
      floor.activity = cursor.activity;
      floor.notification = cursor.notification;
      saveCursor();
      resuming = true;
      send({ action: "resume", since: cursor.activity, notifications_since: cursor.notification });
    } else {
      // Fresh tab on a page without marks: assume everything up to the
      // server's latest ids is already on screen.
      cursor.activity = Math.max(cursor.activity, serverActivity);
      cursor.notification = Math.max(cursor.notification, serverNotification);
      floor.activity = cursor.activity;
      floor.notification = cursor.notification;
      saveCursor();
    }
    welcomedOnce = true;
  }

  // The server dropped a stream. When access to it ended, forget it (so a
  // reconnect does not ask again) and tell the person why updates stopped.
  function onUnsubscribed(frame) {
    var stream = typeof frame.stream === "string" ? frame.stream : "";
    if (frame.reason === "access_ended" && stream) {
      streams.delete(stream);
      showNotice("You no longer have access to this, so its live updates stopped.", null, null);
    }
    emit("live:unsubscribed", { stream: stream, reason: frame.reason || "" });
  }

  function onNotification(notification) {
    if (!notification.read && pointsHere(notification)) {
      // The page already shows it (a reply on the ticket open in this tab): no toast, and it
      // is read, as if the page had just been opened.
      notification.read = true;
      markRead(notification.id);
    } else if (!notification.read) {
      showToast(notification);
      if (!resuming) setUnread(currentUnread() + 1);
    }
    emit("live:notification", notification);
  }

  function pointsHere(notification) {
    var href = safeUrl(notification.url);
    if (!href) return false;
    var target = new URL(href);
    return target.origin === window.location.origin && target.pathname === window.location.pathname;
  }

  function markRead(id) {
    var token = "";
    try {
      token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { /* no token: the server refuses, the notification stays unread */ }
    fetch("/api/v1/notifications/read/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ ids: [id] }),
    }).catch(function () { /* stays unread; opening the page again reads it */ });
  }

  // --- Unread counter ---

  function currentUnread() {
    var badge = document.getElementById("unread-badge");
    return badge ? Number(badge.getAttribute("data-count")) || 0 : 0;
  }

  function setUnread(count) {
    var badge = document.getElementById("unread-badge");
    if (!badge) return;
    count = Math.max(0, count);
    badge.setAttribute("data-count", String(count));
    badge.textContent = String(count);
    badge.setAttribute("aria-label", count + " unread notification" + (count === 1 ? "" : "s"));
  }

  // --- Toasts ---

  // Only follow http(s) links; a notification URL must never run script.
  function safeUrl(url) {
    if (!url) return null;
    try {
      var parsed = new URL(String(url), window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // A message from the live client itself: it stays until dismissed, since
  // it explains why updates stopped.
  function showNotice(text, url, linkText) {
    showToast({ kind: "live.notice", text: text, url: url, linkText: linkText }, true);
  }

  function showToast(notification, persistent) {
    var container = document.getElementById("toasts");
    if (!container) return;

    // Built with textContent only: notification text is user-generated.
    var toast = document.createElement("div");
    toast.className = "toast";
    if (notification.kind) toast.setAttribute("data-kind", String(notification.kind));

    var content = document.createElement("div");
    content.className = "toast-body";
    var text = document.createElement("p");
    text.textContent = notification.text || "New notification";
    content.appendChild(text);
    var href = safeUrl(notification.url);
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = notification.linkText || "View";
      content.appendChild(link);
    }

    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss notification");
    close.textContent = "\u00d7";

    toast.appendChild(content);
    toast.appendChild(close);
    container.appendChild(toast);

    // Auto-dismiss, but never while the pointer or keyboard focus is on the
    // toast: someone reading or about to click it must not lose it.
    var remaining = TOAST_MS;
    var startedAt = 0;
    var timer = null;
    var hovered = false;
    var focused = false;

    function start() {
      if (persistent || timer || hovered || focused) return;
      startedAt = Date.now();
      timer = setTimeout(dismiss, remaining);
    }
    function pause() {
      if (!timer) return;
      clearTimeout(timer);
      timer = null;
      remaining = Math.max(1000, remaining - (Date.now() - startedAt));
    }
    function dismiss() {
      clearTimeout(timer);
      if (!toast.parentNode) return;
      var hadFocus = toast.contains(document.activeElement);
      toast.classList.add("is-leaving");
      setTimeout(function () {
        if (toast.parentNode) toast.parentNode.removeChild(toast);
      }, 160);
      // Do not strand keyboard users on a removed element.
      if (hadFocus) {
        var main = document.getElementById("main");
        if (main) main.focus({ preventScroll: true });
      }
    }

    toast.addEventListener("mouseenter", function () { hovered = true; pause(); });
    toast.addEventListener("mouseleave", function () { hovered = false; start(); });
    toast.addEventListener("focusin", function () { focused = true; pause(); });
    toast.addEventListener("focusout", function (event) {
      if (toast.contains(event.relatedTarget)) return;
      focused = false;
      start();
    });
    close.addEventListener("click", dismiss);
    start();

    // A burst (e.g. after a long absence) should not bury the page.
    while (container.children.length > MAX_TOASTS) {
      container.removeChild(container.firstElementChild);
    }
  }

  // --- Streams declared in the page ---

  function subscribe(stream) {
    stream = String(stream || "").trim();
    if (!stream || streams.has(stream)) return;
    streams.add(stream);
    sendSubscribe(stream); // no-op while closed; sent again on (re)connect
  }

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.getAttribute && scope.hasAttribute("data-live-stream")) {
      subscribe(scope.getAttribute("data-live-stream"));
    }
    var nodes = scope.querySelectorAll("[data-live-stream]");
    for (var i = 0; i < nodes.length; i++) {
      subscribe(nodes[i].getAttribute("data-live-stream"));
    }
  }

  // htmx swaps bring new markup: pick up streams in it, and let a swapped
  // fragment carry the server's unread count (data-unread-count) so the
  // header badge agrees after e.g. "mark all as read".
  document.addEventListener("htmx:afterSwap", function (event) {
    // htmx fires this on each newly swapped element (for outerHTML swaps the
    // old target is gone), so look at the event target, not detail.target.
    var swapped = event.target;
    scan(document);
    if (!swapped || !swapped.querySelector || !swapped.isConnected) return;
    var holder = swapped.hasAttribute("data-unread-count")
      ? swapped
      : swapped.querySelector("[data-unread-count]");
    if (holder) setUnread(Number(holder.getAttribute("data-unread-count")) || 0);
  });

  // --- Page lifecycle ---

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });
  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", function () {
    if (!stopped) setState("offline");
  });
  // Close cleanly on navigation so the close handler does not flash
  // "connecting…"; reopen if the page comes back from the back/forward cache.
  window.addEventListener("pagehide", function () {
    leaving = true;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    leaving = false;
    reconnectNow();
  });

  window.ServiceDeskLive = {
    subscribe: subscribe,
    send: send,
    state: function () { return state; },
    backoffDelay: backoffDelay,
    safeUrl: safeUrl,
  };

  // Open the socket once every deferred page script has run (they run before DOMContentLoaded):
  // frames that arrive earlier would find none of their listeners (a ticket's presence, a feed).
  function start() {
    scan(document);
    connect();
  }
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
