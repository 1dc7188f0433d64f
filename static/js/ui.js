/* Page chrome shared by every page (base.html). */
/* Theme toggle: system → light → dark, remembered in this browser. */
(function () {
  var button = document.getElementById("theme-toggle");
  if (!button) return;
  var order = ["system", "light", "dark"];
  function current() {
    return document.documentElement.getAttribute("data-theme") || "system";
  }
  function render() {
    button.textContent = "Theme: " + current();
  }
  button.addEventListener("click", function () {
    var next = order[(order.indexOf(current()) + 1) % order.length];
    if (next === "system") {
      document.documentElement.removeAttribute("data-theme");
    } else {
      document.documentElement.setAttribute("data-theme", next);
    }
    try {
      if (next === "system") localStorage.removeItem("servicedesk.theme");
      else localStorage.setItem("servicedesk.theme", next);
    } catch (e) {}
    render();
  });
  render();
  button.hidden = false;
})();

/* Menus (<details class="menu">): close on Escape or a click elsewhere. */
(function () {
  function closeMenus(except, restoreFocus) {
    var open = document.querySelectorAll("details.menu[open]");
    for (var i = 0; i < open.length; i++) {
      if (open[i] === except) continue;
      var hadFocus = open[i].contains(document.activeElement);
      open[i].removeAttribute("open");
      if (restoreFocus && hadFocus) open[i].querySelector("summary").focus();
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null, true);
  });
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.menu") : null, false);
  });
})();

/* Live refresh of a server-rendered part (the queue table, a ticket's conversation), shared by
   queue.js and ticket.js: window.ServiceDeskUI.refresher(load, delay) returns {schedule, run}.
   `load` fetches and swaps, returning a promise. schedule() runs it `delay` ms after the last live
   event; one load at a time, and once more if events arrived while it ran. A failed load is left
   for the next event or a reload. */
(function () {
  function refresher(load, delay) {
    var timer = null;
    var running = null;
    var again = false;

    function run() {
      if (running) {
        again = true;
        return running;
      }
      running = new Promise(function (resolve) { resolve(load()); })
        .catch(function () { /* the next event or a reload brings it */ })
        .then(function () {
          running = null;
          if (again) {
            again = false;
            schedule();
          }
        });
      return running;
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(run, delay);
    }

    return { schedule: schedule, run: run };
  }

  /* SLA countdowns: every <time data-countdown datetime="..."> says "in 2 h 5 min" or, once
     due, "Overdue 10 min" (and is marked is-breached). */
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return "less than a minute";
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + mins + " min";
    return mins + " min";
  }

  function countdowns() {
    var items = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < items.length; i++) {
      var due = Date.parse(items[i].getAttribute("datetime"));
      if (isNaN(due)) continue;
      var left = due - Date.now();
      if (left <= 0) {
        items[i].classList.add("is-breached");
        items[i].textContent = "Overdue " + span(left);
      } else {
        items[i].textContent = "in " + span(left);
      }
    }
  }

  window.ServiceDeskUI = window.ServiceDeskUI || {};
  window.ServiceDeskUI.refresher = refresher;
  window.ServiceDeskUI.countdowns = countdowns;
})();

/* Collapsed header under ~700 px: one "Menu" button opens the search, the person and the bar.
   Without JavaScript everything stays shown (the fold only collapses once this runs). */
(function () {
  var toggle = document.getElementById("nav-toggle");
  var header = document.querySelector(".site-header");
  var fold = document.getElementById("header-fold");
  if (!toggle || !header || !fold) return;
  header.classList.add("is-foldable");
  toggle.hidden = false;

  function setOpen(open) {
    header.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
    if (!fold.contains(document.activeElement) && document.activeElement !== toggle) return;
    setOpen(false);
    toggle.focus();
  });

  // The button shows the unread count while the bar (and its badge) is folded away.
  var badge = document.getElementById("unread-badge");
  var mirror = document.getElementById("nav-toggle-unread");
  function sync() {
    var count = badge ? Number(badge.getAttribute("data-count")) || 0 : 0;
    // The count is visible text, so the button's name is "Menu 3 unread notifications": what is
    // shown is part of what is announced (no aria-label that would hide it).
    mirror.textContent = count ? String(count) : "";
    var label = document.getElementById("nav-toggle-unread-label");
    if (label) label.textContent = count ? " unread notification" + (count === 1 ? "" : "s") : "";
  }
  if (badge && mirror && window.MutationObserver) {
    new MutationObserver(sync).observe(badge, { attributes: true, attributeFilter: ["data-count"] });
  }
  if (mirror) sync();
})();
