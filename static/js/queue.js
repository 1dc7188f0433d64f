/*
 * Agent queue: keyboard triage, selection for bulk changes, live refresh.
 *
 * Keys (never while typing in a field): j / k next / previous ticket,
 * Enter or o open, x select, a assign to me, r open and reply, / search,
 * ? shortcut help.
 *
 * Filters apply as they change (htmx on the filter form swaps the rows in
 * and shows the queue's address for them). The bulk bar shows while rows
 * are selected.
 *
 * Live: on any ticket activity (live.js fires `live:activity`) the
 * server-rendered rows for the same filters are fetched again and swapped
 * in with the views' counts; the focused row and the selection are kept,
 * new rows are highlighted and announced.
 */
(function () {
  "use strict";

  var live = document.getElementById("queue-live");
  if (!live) return;

  function tableUrl() {
    var rowsBox = document.getElementById("queue-rows");
    return rowsBox ? rowsBox.getAttribute("data-table-url") : null;
  }
  var status = document.getElementById("queue-status");
  var selectionCount = document.getElementById("selection-count");
  var bulkBar = document.getElementById("bulk-form");
  var dialog = document.getElementById("shortcuts-dialog");
  var helpButton = document.getElementById("shortcuts-button");
  var search = document.getElementById("filter-q");
  var currentId = null; // ticket id of the row the keyboard is on
  var TICK_MS = 30000;
  var NEW_ROW_MS = 3000;

  // --- Announcements ---

  function announce(text) {
    if (!status) return;
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  // --- Rows and the current row (roving tabindex) ---

  function rows() {
    return Array.prototype.slice.call(live.querySelectorAll("tr.queue-row"));
  }

  function rowFor(id) {
    return id ? document.getElementById("queue-row-" + id) : null;
  }

  function setCurrent(row, focus) {
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      list[i].tabIndex = -1;
      list[i].removeAttribute("aria-current");
    }
    if (!row) {
      currentId = null;
      if (list.length) list[0].tabIndex = 0;
      return;
    }
    row.tabIndex = 0;
    row.setAttribute("aria-current", "true");
    currentId = row.getAttribute("data-ticket-id");
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(delta) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(rowFor(currentId));
    var next = index < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + delta));
    setCurrent(list[next], true);
  }

  function currentRow() {
    var row = rowFor(currentId);
    if (!row) announce("Move to a ticket first with j or k.");
    return row;
  }

  function open(suffix) {
    var row = currentRow();
    if (row) window.location.href = row.getAttribute("data-url") + (suffix || "");
  }

  live.addEventListener("focusin", function (event) {
    var row = event.target.closest ? event.target.closest("tr.queue-row") : null;
    if (row && row.getAttribute("data-ticket-id") !== currentId) setCurrent(row, false);
  });

  live.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("a, button, input, label, select, textarea")) return;
    var row = target.closest("tr.queue-row");
    if (row) setCurrent(row, true);
  });

  // --- Selection ---

  function boxes() {
    return Array.prototype.slice.call(live.querySelectorAll("input.row-select"));
  }

  function selectedIds() {
    return boxes().filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
  }

  function updateSelection() {
    var all = boxes();
    var chosen = 0;
    all.forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("is-selected", box.checked);
      if (box.checked) chosen += 1;
    });
    if (selectionCount) selectionCount.textContent = chosen + " selected";
    if (bulkBar) bulkBar.hidden = chosen === 0;
    var master = document.getElementById("select-all");
    if (master) {
      master.hidden = all.length === 0;
      master.checked = all.length > 0 && chosen === all.length;
      master.indeterminate = chosen > 0 && chosen < all.length;
    }
  }

  live.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      var on = event.target.checked;
      boxes().forEach(function (box) { box.checked = on; });
    }
    updateSelection();
  });

  function clearSelection() {
    var had = selectedIds().length;
    boxes().forEach(function (box) { box.checked = false; });
    updateSelection();
    if (had) announce("Selection cleared");
    return had > 0;
  }

  var clearButton = document.getElementById("bulk-clear");
  if (clearButton) {
    clearButton.addEventListener("click", function () {
      clearSelection();
      var row = rowFor(currentId) || rows()[0];
      if (row) row.focus();
    });
  }

  // The query string of the rows on screen goes with a bulk change and a saved view.
  function syncQuery() {
    var rowsBox = document.getElementById("queue-rows");
    if (!rowsBox) return;
    var query = rowsBox.getAttribute("data-query") || "";
    var inputs = document.querySelectorAll('form input[name="query"]');
    for (var i = 0; i < inputs.length; i++) inputs[i].value = query;
  }

  // Parts of a response that replace their namesakes elsewhere on the page (the views' counts).
  function swapOutOfBand(container) {
    var parts = container.querySelectorAll("[hx-swap-oob]");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var old = part.id ? document.getElementById(part.id) : null;
      part.parentNode.removeChild(part);
      part.removeAttribute("hx-swap-oob");
      if (old && old !== part) old.parentNode.replaceChild(part, old);
    }
  }

  function toggleSelected() {
    var row = currentRow();
    if (!row) return;
    var box = row.querySelector("input.row-select");
    if (!box) return;
    box.checked = !box.checked;
    updateSelection();
    announce(row.getAttribute("data-number") + (box.checked ? " selected" : " unselected"));
  }

  // --- Assign to me ---

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* fall through */ }
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function assignToMe() {
    var row = currentRow();
    if (!row) return;
    var number = row.getAttribute("data-number");
    var body = new URLSearchParams();
    body.set("assignee", "me");
    fetch(row.getAttribute("data-update-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: body.toString(),
    })
      .then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) throw new Error(text || "the server said no");
          announce(number + " is assigned to you.");
          return refresh();
        });
      })
      .catch(function (error) {
        announce("Could not assign " + number + ": " + error.message);
      });
  }

  // --- Live refresh ---

  function load() {
    var known = {};
    rows().forEach(function (row) { known[row.getAttribute("data-ticket-id")] = true; });
    var selected = selectedIds();
    var index = rows().indexOf(rowFor(currentId));
    var active = document.activeElement;
    var focusWasOnRow = !!(active && active.classList && active.classList.contains("queue-row"));

    var url = tableUrl();
    if (!url) return null;
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        // Server-rendered for this agent: the same partial the page was built with.
        var holder = document.createElement("div");
        holder.innerHTML = html;
        swapOutOfBand(holder);
        live.innerHTML = "";
        while (holder.firstChild) live.appendChild(holder.firstChild);
        boxes().forEach(function (box) { box.checked = selected.indexOf(box.value) >= 0; });
        updateSelection();

        var list = rows();
        var row = rowFor(currentId);
        if (!row && currentId && index >= 0 && list.length) row = list[Math.min(index, list.length - 1)];
        if (row) setCurrent(row, focusWasOnRow);
        else setCurrent(null, false);

        var fresh = list.filter(function (item) { return !known[item.getAttribute("data-ticket-id")]; });
        fresh.forEach(function (item) {
          item.classList.add("is-new");
          setTimeout(function () { item.classList.remove("is-new"); }, NEW_ROW_MS);
        });
        if (fresh.length === 1) announce("1 new ticket");
        else if (fresh.length > 1) announce(fresh.length + " new tickets");
        tick();
      });
  }

  var refresher = window.ServiceDeskUI.refresher(load, 200);
  var refresh = refresher.run;
  var schedule = refresher.schedule;

  // A filter changed: htmx swapped in new rows (and the views, out of band).
  var filterForm = document.getElementById("queue-filters");
  if (filterForm) {
    filterForm.addEventListener("htmx:beforeRequest", function () { live.setAttribute("aria-busy", "true"); });
    filterForm.addEventListener("htmx:afterRequest", function () { live.setAttribute("aria-busy", "false"); });
  }
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target !== live) return;
    live.setAttribute("aria-busy", "false");
    updateSelection();
    setCurrent(null, false);
    syncQuery();
    tick();
    var count = rows().length;
    announce(count ? count + (count === 1 ? " ticket" : " tickets") + (document.querySelector('a[rel="next"]') ? " on this page" : "") : "No ticket matches these filters");
  });

  // Back or forward to an earlier filter: load that address afresh, so that this script's
  // handlers and the live stream belong to the page on screen.
  document.body.addEventListener("htmx:historyRestore", function () { window.location.reload(); });

  document.addEventListener("live:activity", function (event) {
    var object = (event.detail || {}).object || {};
    if (object.type === "ticket") schedule();
  });

  document.addEventListener("live:subscribed", function (event) {
    if (event.detail && event.detail.stream === live.getAttribute("data-live-stream")) {
      live.setAttribute("data-live-subscribed", "true");
    }
  });

  // --- SLA countdowns ---

  var tick = window.ServiceDeskUI.countdowns;

  // --- Help dialog ---

  var returnFocus = null;

  function openHelp() {
    if (!dialog || dialog.open || typeof dialog.showModal !== "function") return;
    returnFocus = document.activeElement;
    dialog.showModal();
  }

  if (dialog) {
    dialog.addEventListener("close", function () {
      if (returnFocus && typeof returnFocus.focus === "function" && document.contains(returnFocus)) returnFocus.focus();
      returnFocus = null;
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
    var close = dialog.querySelector("[data-close-dialog]");
    if (close) close.addEventListener("click", function () { dialog.close(); });
  }
  if (helpButton) helpButton.addEventListener("click", openHelp);

  // --- Keyboard ---

  function isTyping(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset", "image"].indexOf(type) < 0;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    if (dialog && dialog.open) return; // Escape closes it natively
    var target = event.target;
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "Enter":
        // Only on the row itself: Enter on a link, button or checkbox does its own thing.
        if (!(target.classList && target.classList.contains("queue-row"))) return;
        open("");
        break;
      case "o":
        open("");
        break;
      case "x":
        toggleSelected();
        break;
      case "a":
        assignToMe();
        break;
      case "r":
        open("#reply");
        break;
      case "/":
        if (!search) return;
        search.focus();
        search.select();
        break;
      case "?":
        openHelp();
        break;
      case "Escape":
        if (!clearSelection()) return;
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  var errorSummary = document.getElementById("filter-errors");
  if (errorSummary) errorSummary.focus();

  updateSelection();
  tick();
  setInterval(tick, TICK_MS);
})();
