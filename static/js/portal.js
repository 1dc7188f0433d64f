/*
 * Portal: matching incidents while the summary is typed.
 *
 * htmx asks tickets:suggestions as the summary changes (see the title
 * field's hx-* attributes); this script sends the text as ?q=, and notes in
 * the form that suggestions were shown, so logging the ticket anyway is
 * counted as such.
 */
(function () {
  "use strict";

  var form = document.getElementById("portal-form");
  if (!form) return;

  // A form came back with errors: take the reader to the summary.
  var errorSummary = document.querySelector(".form-errors[tabindex='-1']");
  if (errorSummary) errorSummary.focus();

  var title = form.querySelector('[name="title"]');
  var region = document.getElementById("suggestions");
  var shown = form.querySelector('[name="suggestions_shown"]');
  var shownQuery = form.querySelector('[name="suggestions_query"]');
  if (!title || !region) return;

  // "Ask the community instead" goes to the communities of the chosen service, with the summary.
  var askLink = document.getElementById("ask-community");
  var service = form.querySelector('[name="service"]');
  function updateAskLink() {
    if (!askLink) return;
    var params = new URLSearchParams();
    if (service && service.value) params.set("service", service.value);
    if (title.value.trim()) params.set("title", title.value.trim());
    var base = askLink.getAttribute("href").split("?")[0];
    askLink.setAttribute("href", params.toString() ? base + "?" + params.toString() : base);
  }
  title.addEventListener("input", updateAskLink);
  if (service) service.addEventListener("change", updateAskLink);
  updateAskLink();

  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== title) return;
    var params = event.detail.parameters;
    var text = title.value;
    if (params && typeof params.delete === "function") {
      params.delete("title");
      params.set("q", text);
    } else if (params) {
      delete params.title;
      params.q = text;
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== region) return;
    var box = region.querySelector("[data-suggestion-count]");
    if (!box || !shown) return;
    shown.value = "1";
    if (shownQuery) shownQuery.value = box.getAttribute("data-query") || title.value;
  });
})();
