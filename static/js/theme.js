/* Loaded in <head> without defer: it must run before the first paint. */
/* Apply a saved theme before first paint to avoid a flash. */
(function () {
  try {
    var theme = localStorage.getItem("servicedesk.theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {}
})();
