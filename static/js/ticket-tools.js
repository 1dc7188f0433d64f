/*
 * The agent's tools on the ticket page.
 *
 * - Canned responses: pick one from the menu above the reply, or type "/" at the
 *   start of a line in the reply box and choose from the list that opens
 *   (arrows, Enter, Escape). The text comes back from the server with the
 *   ticket's placeholders filled in and is inserted at the cursor; the
 *   response's status and priority are applied when the reply is sent.
 * - Knowledge: "Insert" on a suggested article records its reuse on this
 *   ticket and inserts a link with its summary; an accepted answer's link is
 *   inserted as is.
 * - Links and merge: typing a number or words lists matching tickets; picking
 *   one fills the field.
 * - Suggested assignees: a suggestion's button sets the assignee select (saved with the form).
 * - Presence: says "viewing" on the ticket's stream (renewed every ttl / 3),
 *   "typing" while the agent types a reply, and shows who else is here.
 */
(function () {
  "use strict";

  var box = document.getElementById("reply-body");
  var form = document.getElementById("reply-form");
  var status = document.getElementById("reply-tools-status");

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(text) {
    if (!status) return;
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function insertText(text, replaceSlash, ownLine) {
    if (!box) return;
    var start = box.selectionStart, end = box.selectionEnd;
    if (replaceSlash && start > 0 && box.value.charAt(start - 1) === "/") start -= 1;
    if (ownLine && start > 0 && box.value.charAt(start - 1) !== "\n") text = "\n" + text;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    var at = start + text.length;
    box.focus();
    box.setSelectionRange(at, at);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- canned responses ---

  var select = document.getElementById("canned-select");
  var hidden = document.getElementById("reply-canned");
  var menu = document.getElementById("canned-menu");

  function applyCanned(id, replaceSlash) {
    if (!select || !id) return Promise.resolve();
    var url = select.getAttribute("data-canned-url") + id + "/";
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        insertText(data.text, replaceSlash);
        if (hidden && (data.set_status || data.set_priority)) hidden.value = String(data.id);
        say("Inserted \u201c" + data.title + "\u201d.");
      })
      .catch(function () { say("The canned response could not be loaded."); });
  }

  if (select) {
    select.addEventListener("change", function () {
      var id = select.value;
      select.value = "";
      applyCanned(id, false);
    });
  }

  function options() {
    if (!select) return [];
    return Array.prototype.slice.call(select.options, 1);
  }

  function closeMenu() {
    if (!menu) return;
    menu.hidden = true;
    menu.textContent = "";
    if (box) box.removeAttribute("aria-activedescendant");
  }

  function openMenu() {
    if (!menu || !options().length) return;
    menu.textContent = "";
    options().forEach(function (option, index) {
      var item = document.createElement("button");
      item.type = "button";
      item.className = "canned-option";
      item.id = "canned-option-" + option.value;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === 0 ? "true" : "false");
      item.setAttribute("data-canned-id", option.value);
      item.textContent = option.textContent;
      menu.appendChild(item);
    });
    menu.hidden = false;
  }

  function menuItems() {
    return menu ? Array.prototype.slice.call(menu.querySelectorAll("[role=option]")) : [];
  }

  function moveSelection(step) {
    var items = menuItems();
    if (!items.length) return;
    var current = items.findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; });
    var next = (current + step + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === next ? "true" : "false"); });
  }

  if (menu) {
    menu.addEventListener("click", function (event) {
      var item = event.target.closest("[data-canned-id]");
      if (!item) return;
      var id = item.getAttribute("data-canned-id");
      closeMenu();
      applyCanned(id, true);
    });
  }

  if (box) {
    box.addEventListener("keydown", function (event) {
      if (menu && !menu.hidden) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          moveSelection(event.key === "ArrowDown" ? 1 : -1);
        } else if (event.key === "Enter") {
          event.preventDefault();
          var chosen = menuItems().filter(function (item) { return item.getAttribute("aria-selected") === "true"; })[0];
          closeMenu();
          if (chosen) applyCanned(chosen.getAttribute("data-canned-id"), true);
        } else if (event.key === "Escape") {
          event.preventDefault();
          closeMenu();
        } else {
          closeMenu();
        }
      }
    });
    box.addEventListener("input", function (event) {
      if (event.inputType !== "insertText" || event.data !== "/") return;
      var before = box.value.slice(0, box.selectionStart - 1);
      if (before === "" || before.charAt(before.length - 1) === "\n") openMenu();
    });
  }

  // --- knowledge ---

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-knowledge-url], [data-knowledge-text]") : null;
    if (!button) return;
    event.preventDefault();
    if (button.hasAttribute("data-knowledge-text")) {
      insertText(button.getAttribute("data-knowledge-text") + "\n", false, true);
      say("Link inserted.");
      return;
    }
    fetch(button.getAttribute("data-knowledge-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        insertText(data.text + "\n", false, true);
        say("Article link inserted.");
      })
      .catch(function () { say("The article could not be inserted."); });
  });

  // --- finding tickets to link or merge ---

  function wireFind(findForm) {
    var input = findForm.querySelector("[data-find-input]");
    var results = document.getElementById(findForm.getAttribute("data-find-results"));
    var base = findForm.getAttribute("data-find-url");
    var timer = null;
    if (!input || !results) return;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2) {
          results.textContent = "";
          return;
        }
        fetch(base + "&q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : ""; })
          .then(function (html) { results.innerHTML = html; })
          .catch(function () { /* typing again retries */ });
      }, 250);
    });
    results.addEventListener("click", function (event) {
      var pick = event.target.closest("[data-pick-number]");
      if (!pick) return;
      input.value = pick.getAttribute("data-pick-number");
      results.textContent = "";
      input.focus();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-find-form]"), wireFind);

  // --- the ticket changed while the agent was writing ---

  var stale = document.getElementById("reply-stale");
  var me = document.body.getAttribute("data-username") || "";
  var ticketId = (document.getElementById("conversation-section") || {}).getAttribute
    ? document.getElementById("conversation-section").getAttribute("data-ticket-id") : "";
  document.addEventListener("live:activity", function (event) {
    var activity = event.detail || {};
    var object = activity.object || {};
    if (!stale || !box || object.type !== "ticket" || String(object.key) !== String(ticketId)) return;
    if ((activity.actor || {}).username === me || !box.value.trim()) return;
    stale.textContent = "This ticket changed while you were writing: " + (activity.summary || "see above") +
      ". Check the conversation before you send.";
  });
  if (form) form.addEventListener("submit", function () { if (stale) stale.textContent = ""; });

  // --- presence ---

  var panel = document.getElementById("presence");
  var typingLine = document.getElementById("typing");
  if (!panel) return;
  var stream = panel.getAttribute("data-presence-stream");
  var people = {}; // username -> {name, state, until}
  var myState = "viewing";
  var renewTimer = null;
  var typingTimer = null;
  var ttl = 45;

  function live() { return window.ServiceDeskLive; }

  function announce(state) {
    myState = state;
    if (live() && live().send) live().send({ action: "presence", stream: stream, state: state });
  }

  function render() {
    var now = Date.now();
    var names = [], typing = [];
    Object.keys(people).forEach(function (user) {
      var p = people[user];
      if (p.until < now || p.state === "left") {
        delete people[user];
        return;
      }
      names.push(p.name + (p.state === "typing" ? " (typing)" : ""));
      if (p.state === "typing") typing.push(p.name);
    });
    panel.textContent = "";
    var line = document.createElement("p");
    line.className = "small presence-line" + (names.length ? "" : " muted presence-empty");
    line.textContent = names.length ? "Also here: " + names.join(", ") : "Only you have this ticket open.";
    panel.appendChild(line);
    if (typingLine) typingLine.textContent = typing.length ? typing.join(", ") + (typing.length === 1 ? " is" : " are") + " typing a reply\u2026" : "";
  }

  document.addEventListener("live:presence", function (event) {
    var frame = event.detail || {};
    if (frame.stream !== stream || !frame.user) return;
    ttl = Number(frame.ttl) || ttl;
    var known = people[frame.user];
    people[frame.user] = { name: frame.name || frame.user, state: frame.state, until: Date.now() + ttl * 1000 };
    // Someone new arrived: tell them we are here too.
    if (!known && frame.state !== "left") announce(myState);
    render();
  });

  document.addEventListener("live:subscribed", function (event) {
    if (!event.detail || event.detail.stream !== stream) return;
    announce(myState);
    clearInterval(renewTimer);
    renewTimer = setInterval(function () { announce(myState); render(); }, Math.max(5, ttl / 3) * 1000);
  });

  if (box) {
    box.addEventListener("input", function () {
      if (myState !== "typing") announce("typing");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { announce("viewing"); }, 5000);
    });
  }
  if (form) form.addEventListener("submit", function () { announce("viewing"); });

  // --- Suggested assignees: set the select, the agent saves with the rest of the triage form ---
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-assign]");
    if (!button) return;
    var select = document.getElementById("update_assignee");
    if (!select) return;
    select.value = button.getAttribute("data-assign");
    select.dispatchEvent(new Event("change", { bubbles: true }));
    select.focus();
    var note = document.getElementById("suggested-assignee-status");
    if (note) note.textContent = "Assignee set to " + select.options[select.selectedIndex].text + ". Save changes to apply.";
  });
})();
