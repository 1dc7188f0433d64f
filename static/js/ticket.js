/*
 * Ticket page.
 *
 * - SLA countdowns (<time data-countdown datetime="...">) tick every 30 s.
 * - Live: when an activity about this ticket arrives (live.js fires
 *   `live:activity`), the server-rendered conversation is fetched again and
 *   swapped in, with the badges and details out of band. The reply form sits
 *   outside the swapped part, so nothing being typed is lost. An agent's
 *   triage controls come along too, unless the agent is using them: then
 *   their choices stay and a note says the ticket changed meanwhile.
 * - /tickets/<pk>/#reply puts the cursor in the reply box.
 */
(function () {
  "use strict";

  // --- SLA countdowns ---

  var TICK_MS = 30000;

  var tick = window.ServiceDeskUI.countdowns;

  tick();
  setInterval(tick, TICK_MS);

  // --- A form came back with errors: take the reader to the summary ---
  var errorSummary = document.querySelector(".form-errors[tabindex='-1']");
  if (errorSummary) errorSummary.focus();

  // --- Reply box from a link such as /tickets/42/#reply ---

  function focusReply() {
    if (window.location.hash !== "#reply") return;
    var box = document.getElementById("reply-body");
    if (box && document.activeElement !== box) box.focus();
  }
  focusReply();
  // The browser moves focus to the fragment's target once the page is
  // laid out; put the cursor back in the box after that.
  window.addEventListener("load", function () {
    window.requestAnimationFrame(focusReply);
  });
  window.addEventListener("hashchange", focusReply);

  // --- Live conversation ---

  var section = document.getElementById("conversation-section");
  if (!section || !window.htmx) return;
  var ticketId = section.getAttribute("data-ticket-id");
  var url = section.getAttribute("data-conversation-url");
  var stream = "ticket:" + ticketId;
  var me = document.body.getAttribute("data-username") || "";
  var status = document.getElementById("conversation-status");

  function announce(text) {
    if (!status) return;
    // Clear first so the same words are announced again.
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function commentIds() {
    var ids = {};
    var items = document.querySelectorAll("#conversation [data-comment-id]");
    for (var i = 0; i < items.length; i++) ids[items[i].getAttribute("data-comment-id")] = true;
    return ids;
  }

  // --- Triage controls (agents) ---

  var controlsTouched = false;

  function markTouched(event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-triage-form]")) controlsTouched = true;
  }
  document.addEventListener("input", markTouched);
  document.addEventListener("change", markTouched);

  function controlsInUse() {
    var controls = document.getElementById("agent-controls");
    return controlsTouched || (controls !== null && controls.contains(document.activeElement));
  }

  // Decided at swap time, not request time: the agent may start editing while the request runs.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail || {};
    if (!detail.target || detail.target.id !== "agent-controls") return;
    if (!controlsInUse()) {
      controlsTouched = false;
      return;
    }
    detail.shouldSwap = false;
    var stale = document.getElementById("controls-stale");
    if (stale) {
      stale.textContent = "This ticket changed while you were editing. Saving applies your choices; reload the page to see the latest.";
    }
  });

  var requestUrl = url;
  if (document.getElementById("agent-controls")) {
    requestUrl = url + (url.indexOf("?") === -1 ? "?" : "&") + "controls=1";
  }

  function load() {
    var before = commentIds();
    return window.htmx
      .ajax("GET", requestUrl, { target: "#conversation", swap: "outerHTML" })
      .then(function () {
        var fresh = [];
        var items = document.querySelectorAll("#conversation [data-comment-id]");
        for (var i = 0; i < items.length; i++) {
          if (!before[items[i].getAttribute("data-comment-id")]) fresh.push(items[i]);
        }
        var fromOthers = fresh.filter(function (item) { return item.getAttribute("data-author") !== me; });
        fresh.forEach(function (item) {
          item.classList.add("is-new");
          setTimeout(function () { item.classList.remove("is-new"); }, 4000);
        });
        if (fromOthers.length === 1) announce("New reply");
        else if (fromOthers.length > 1) announce(fromOthers.length + " new replies");
        tick();
      });
  }

  var schedule = window.ServiceDeskUI.refresher(load, 150).schedule;

  document.addEventListener("live:activity", function (event) {
    var activity = event.detail || {};
    var object = activity.object || {};
    if (object.type !== "ticket" || String(object.key) !== String(ticketId)) return;
    schedule();
  });

  document.addEventListener("live:subscribed", function (event) {
    if (event.detail && event.detail.stream === stream) section.setAttribute("data-live-subscribed", "true");
  });
})();
