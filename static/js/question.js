/*
 * Question page: say so, politely, when someone else answers, comments or accepts while it is open.
 *
 * The page subscribes to its community's stream (data-live-stream); live.js fires `live:activity`
 * for each activity there. Only this question's activities by other people count; the page is
 * never changed under the reader: a button reloads it when they choose.
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
