/*
 * Question page: keep the answers current while it is open, without moving anything under the reader.
 *
 * Votes and acceptance: when the question's own stream hints that they changed (`live:event` kind
 * "answers"), the page fetches the answers list again, drawn for this reader (their votes, the
 * accept buttons they may use), and swaps it whole with htmx: scores, the accepted mark and the
 * order (accepted first) follow. While focus is inside the list (typing a comment, a menu open) the
 * swap waits until focus leaves it; the answer form is outside the list and never swapped. What
 * moved is said politely in the status region.
 *
 * New answers and comments by other people: the page subscribes to its community's stream
 * (data-live-stream); live.js fires `live:activity` for each activity there, and a button offers
 * to reload when the reader chooses.
 */
(function () {
  "use strict";

  var region = document.getElementById("question-live");
  if (!region) return;
  var key = region.getAttribute("data-question");
  var me = document.body.getAttribute("data-username");
  var count = 0;

  var note = document.createElement("span");
  var updates = document.createElement("span");
  region.appendChild(note);
  region.appendChild(updates);

  document.addEventListener("live:subscribed", function (event) {
    if (event.detail && event.detail.stream === region.getAttribute("data-live-stream")) {
      region.setAttribute("data-live-subscribed", "true");
    }
  });

  var driver = document.getElementById("answers-live");
  var timer = null;
  var waiting = false; // a refresh held back while the reader is busy inside the list
  var before = null;

  function list() {
    return document.getElementById("answers");
  }

  function busyInside() {
    var answers = list();
    if (!answers) return false;
    var active = document.activeElement;
    return Boolean((active && active !== document.body && answers.contains(active)) ||
      answers.querySelector("details[open]"));
  }

  function refresh() {
    timer = null;
    if (!driver || !window.htmx) return;
    if (busyInside()) {
      waiting = true;
      driver.setAttribute("data-held", "true");
      return;
    }
    waiting = false;
    driver.removeAttribute("data-held");
    window.htmx.trigger(driver, "answers-changed");
  }

  function schedule() {
    if (driver && !timer) timer = setTimeout(refresh, 300); // a burst of votes: one fetch
  }

  function say(text) {
    note.textContent = "";
    // Emptied first, then filled a moment later, so that the same sentence twice is announced twice.
    setTimeout(function () { note.textContent = text; }, 50);
  }

  if (driver) {
    document.addEventListener("live:subscribed", function (event) {
      if (event.detail && event.detail.stream === driver.getAttribute("data-live-stream")) {
        driver.setAttribute("data-live-subscribed", "true");
      }
    });
    document.addEventListener("live:event", function (event) {
      var hint = event.detail || {};
      if (hint.kind === "answers" && String(hint.question) === key) schedule();
    });
    // Hints sent while the socket was away are lost: fetch once after a reconnect.
    document.addEventListener("live:resumed", schedule);
    // A held-back refresh runs once focus leaves the list (or a menu in it closes).
    document.addEventListener("focusout", function (event) {
      if (!waiting) return;
      var answers = list();
      if (answers && answers.contains(event.target) && !(event.relatedTarget && answers.contains(event.relatedTarget))) {
        setTimeout(schedule, 0);
      }
    });
    document.addEventListener("toggle", function () {
      if (waiting) schedule();
    }, true);

    driver.addEventListener("htmx:beforeRequest", function () {
      var answers = list();
      before = answers ? {accepted: answers.getAttribute("data-accepted"), order: answers.getAttribute("data-order")} : null;
    });
    // htmx swaps before it fires afterRequest on the element that asked.
    driver.addEventListener("htmx:afterRequest", function () {
      var answers = list();
      if (answers && before) {
        var accepted = answers.getAttribute("data-accepted");
        if (accepted !== before.accepted) {
          say(accepted ? "An answer was accepted: it is now shown first." : "The accepted answer was taken back.");
        } else if (answers.getAttribute("data-order") !== before.order) {
          say("Votes changed the order of the answers.");
        }
      }
      driver.setAttribute("data-refreshed", String(Date.now()));
    });
  }

  document.addEventListener("live:activity", function (event) {
    var activity = event.detail || {};
    var object = activity.object || {};
    if (object.type !== "question" || String(object.key) !== key) return;
    if (activity.actor && activity.actor.username === me) return;
    // An acceptance already shows in the list, which follows it live.
    if (driver && activity.verb === "accepted") return;
    count += 1;
    updates.innerHTML = "";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-primary btn-small";
    button.textContent = count === 1 ? "1 new update on this question \u2014 show" : count + " new updates on this question \u2014 show";
    button.addEventListener("click", function () { window.location.reload(); });
    updates.appendChild(button);
  });
})();
