/*
 * Leaderboard page: when the server hints that points changed (live.js fires
 * `live:event` with kind "leaderboard"), fetch the board again, rendered by
 * the server, and swap it in. Bursts are folded into one refresh.
 */
(function () {
  "use strict";

  var section = document.getElementById("leaderboard");
  var holder = document.getElementById("board");
  if (!section || !holder) return;
  var url = section.getAttribute("data-board-url");
  var timer = null;
  var loading = false;
  var again = false;

  function refresh() {
    timer = null;
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("board-content");
        var current = document.getElementById("board-content");
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
        section.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next hint or a reload brings it back */ })
      .then(function () {
        loading = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (!timer) timer = setTimeout(refresh, 300);
  }

  document.addEventListener("live:event", function (event) {
    if (event.detail && event.detail.kind === "leaderboard") schedule();
  });
  document.addEventListener("live:subscribed", function (event) {
    if (event.detail && event.detail.stream === "leaderboard:all") {
      section.setAttribute("data-live-subscribed", "true");
    }
  });
  // After a reconnect we may have missed hints: refresh once.
  document.addEventListener("live:resumed", schedule);
})();
