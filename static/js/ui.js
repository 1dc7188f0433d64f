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
