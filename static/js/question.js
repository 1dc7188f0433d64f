/*
 * Question page: say so, politely, when someone else answers, comments or accepts while it is open.
 *
 * The page subscribes to its community's stream (data-live-stream); live.js fires `live:activity`
 * for each activity there. Only this question's activities by other people count; the page is
 * never changed under the reader: a button reloads it when they choose.
 *
 * Scores and the accepted mark are different: they are small and change often, so when the
 * question's own stream hints that they changed (`live:event` kind "answers"), the page asks the
 * server for them again (htmx, out-of-band swaps) and updates them in place.
 */
(function () {
  "use strict";

  var region = document.getElementById("question-live");
  if (!region) return;
  var key = region.getAttribute("data-question");
  var me = document.body.getAttribute("data-username");
  var count = 0;

  document.addEventListener("live:subscribed", function (event) {
    if (event.detail && event.detail.stream === region.getAttribute("data-live-stream")) {
      region.setAttribute("data-live-subscribed", "true");
    }
  });

  var scores = document.getElementById("answer-scores");
  var timer = null;

  function refreshScores() {
    timer = null;
    if (scores && window.htmx) window.htmx.trigger(scores, "answers-changed");
  }

  function scheduleScores() {
    if (scores && !timer) timer = setTimeout(refreshScores, 300); // a burst of votes: one fetch
  }

  function markAccepted() {
    var answers = document.querySelectorAll("li.answer");
    for (var i = 0; i < answers.length; i++) {
      var mark = answers[i].querySelector(".accepted-mark");
      answers[i].classList.toggle("is-accepted", Boolean(mark && !mark.hidden));
    }
  }

  if (scores) {
    document.addEventListener("live:subscribed", function (event) {
      if (event.detail && event.detail.stream === scores.getAttribute("data-live-stream")) {
        scores.setAttribute("data-live-subscribed", "true");
      }
    });
    document.addEventListener("live:event", function (event) {
      var hint = event.detail || {};
      if (hint.kind === "answers" && String(hint.question) === key) scheduleScores();
    });
    // Hints sent while the socket was away are lost: fetch once after a reconnect.
    document.addEventListener("live:resumed", scheduleScores);
    scores.addEventListener("htmx:afterRequest", function () {
      markAccepted();
      scores.setAttribute("data-refreshed", String(Date.now()));
    });
  }

  document.addEventListener("live:activity", function (event) {
    var activity = event.detail || {};
    var object = activity.object || {};
    if (object.type !== "question" || String(object.key) !== key) return;
    if (activity.actor && activity.actor.username === me) return;
    count += 1;
    region.innerHTML = "";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-primary btn-small";
    button.textContent = count === 1 ? "1 new update on this question \u2014 show" : count + " new updates on this question \u2014 show";
    button.addEventListener("click", function () { window.location.reload(); });
    region.appendChild(button);
  });
})();
