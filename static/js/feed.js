/*
 * Feed and wall pages.
 *
 * New activities are not inserted while someone reads: each list
 * ([data-feed-list]) counts what arrives for it (live.js fires
 * `live:activity`) and shows an "N new — show" button in a polite live
 * region. The button fetches the first page again, rendered by the server,
 * and swaps the list in place; the reading position is kept.
 *
 * - The feed (no data-wall-stream) counts activities addressed to the
 *   person that belong to the chosen filter (data-context).
 * - A wall (data-wall-stream="tag:vpn") counts activities on that stream.
 */
(function () {
  "use strict";

  var COMMUNITY_TYPES = ["community", "question", "answer", "article", "idea", "poll"];
  var TICKET_TYPES = ["ticket", "service", "queue", "security_report"];

  // Same rule as the server uses to file an activity under a feed filter.
  function contextOf(activity) {
    var types = [(activity.object || {}).type, (activity.target || {}).type];
    function any(list) {
      return types.some(function (t) { return list.indexOf(t) !== -1; });
    }
    if (any(COMMUNITY_TYPES)) return "communities";
    if (any(TICKET_TYPES)) return "tickets";
    return "people";
  }

  function streamOf(ref) {
    return ref && ref.type ? ref.type + ":" + ref.key : "";
  }

  function setUp(list) {
    var id = list.id;
    var region = document.querySelector('[data-new-for="' + id + '"]');
    if (!region) return null;

    // The button exists only while there is something to show, so that the
    // live region announces it when it appears.
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-primary btn-small";
    button.setAttribute("data-show-new", "");

    var state = { list: list, button: button, pending: new Set(), loading: false };

    function known(activityId) {
      var newest = Number(state.list.getAttribute("data-newest-id")) || 0;
      if (activityId <= newest) return true;
      return Boolean(document.getElementById("activity-" + activityId));
    }

    function wants(activity) {
      // The feed leaves out the person's own actions unless they asked for them.
      var hidden = state.list.getAttribute("data-hide-actor");
      if (hidden && activity.actor && activity.actor.username === hidden) return false;
      var wall = state.list.getAttribute("data-wall-stream");
      if (wall) return streamOf(activity.object) === wall || streamOf(activity.target) === wall;
      var context = state.list.getAttribute("data-context") || "all";
      if (context !== "all" && contextOf(activity) !== context) return false;
      // A view about one followed thing; tags are not in the frame, so the refresh decides.
      var about = state.list.getAttribute("data-about") || "";
      if (!about || about.indexOf("tag:") === 0) return true;
      var actor = activity.actor ? "user:" + activity.actor.username : "";
      return streamOf(activity.object) === about || streamOf(activity.target) === about || actor === about;
    }

    function render() {
      var n = state.pending.size;
      if (!n) {
        if (button.parentNode) button.parentNode.removeChild(button);
        return;
      }
      button.textContent = n + " new \u2014 show";
      if (!button.parentNode) region.appendChild(button);
    }

    state.offer = function (activity) {
      var activityId = Number(activity.id) || 0;
      if (!activityId || known(activityId) || state.pending.has(activityId) || !wants(activity)) return;
      state.pending.add(activityId);
      render();
    };

    button.addEventListener("click", function () {
      if (!window.htmx) {
        window.location.reload();
        return;
      }
      if (state.loading) return;
      state.loading = true;
      button.setAttribute("aria-busy", "true");
      // Keep what is on screen where it is: measure the list's position before
      // the swap and scroll by the difference after it.
      var top = state.list.getBoundingClientRect().top;
      var url = state.list.getAttribute("data-items-url");
      window.htmx
        .ajax("GET", url, { target: "#" + id, swap: "outerHTML" })
        .then(function () {
          var fresh = document.getElementById(id);
          if (fresh) {
            state.list = fresh;
            var shift = fresh.getBoundingClientRect().top - top;
            if (shift) window.scrollBy(0, shift);
            // The button goes away: keep keyboard focus on what it showed.
            fresh.focus({ preventScroll: true });
          }
          state.pending.clear();
          render();
        })
        .catch(function () { /* leave the button: another try may work */ })
        .then(function () {
          state.loading = false;
          button.removeAttribute("aria-busy");
        });
    });

    return state;
  }

  var lists = [];
  var nodes = document.querySelectorAll("[data-feed-list]");
  for (var i = 0; i < nodes.length; i++) {
    var state = setUp(nodes[i]);
    if (state) lists.push(state);
  }
  if (!lists.length) return;

  document.addEventListener("live:activity", function (event) {
    var activity = event.detail || {};
    lists.forEach(function (state) { state.offer(activity); });
  });

  document.addEventListener("live:subscribed", function (event) {
    lists.forEach(function (state) {
      var stream = state.list.getAttribute("data-live-stream");
      if (stream && event.detail && event.detail.stream === stream) {
        state.list.setAttribute("data-live-subscribed", "true");
      }
    });
  });
})();

/* A form that came back with errors: take the reader to its summary. */
(function () {
  var summary = document.querySelector(".form-errors[tabindex='-1']");
  if (summary) summary.focus();
})();
