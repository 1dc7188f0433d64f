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
    mirror.textContent = count ? String(count) : "";
    toggle.setAttribute("aria-label", count ? "Menu, " + count + " unread notification" + (count === 1 ? "" : "s") : "Menu");
  }
  if (badge && mirror && window.MutationObserver) {
    new MutationObserver(sync).observe(badge, { attributes: true, attributeFilter: ["data-count"] });
  }
  if (mirror) sync();
})();
