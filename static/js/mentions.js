/*
 * @mention autocomplete for every text box that notifies (a textarea in or with
 * data-mention-place="type:key", the wall the text goes to; a one-line box opts in with
 * data-mention-box, as an answer's comment does).
 * Typing "@al" lists people whose name starts so AND who may see the place the text goes to
 * (GET /api/v1/mentions/?q=&place=); mentioning anyone else would tell nobody.
 * Keyboard: Down/Up move, Enter or Tab picks, Escape closes. Built with textContent only.
 */
(function () {
  "use strict";
  var TOKEN = /(^|[^\w@])@([\w.+\-]{1,40})$/;
  var counter = 0;

  function setUp(box) {
    var holder = box.closest("[data-mention-place]");
    var place = holder && holder.getAttribute("data-mention-place");
    if (!place) return;
    var list = document.createElement("ul");
    list.id = "mention-list-" + ++counter;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "People who can see this");
    list.hidden = true;
    box.parentNode.insertBefore(list, box.nextSibling);
    box._mentionList = list;
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);

    var people = [];
    var active = -1;
    var timer = null;
    var asked = "";

    function close() {
      list.hidden = true;
      list.textContent = "";
      people = [];
      active = -1;
      box.removeAttribute("aria-activedescendant");
    }

    function typed() {
      var before = box.value.slice(0, box.selectionStart);
      var match = TOKEN.exec(before);
      return match ? match[2] : "";
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) box.setAttribute("aria-activedescendant", list.children[index].id);
      else box.removeAttribute("aria-activedescendant");
    }

    function pick(index) {
      var person = people[index];
      if (!person) return;
      var caret = box.selectionStart;
      var before = box.value.slice(0, caret).replace(/@[\w.+\-]{1,40}$/, "@" + person.username + " ");
      box.value = before + box.value.slice(caret);
      box.selectionStart = box.selectionEnd = before.length;
      close();
      box.focus();
    }

    function show(results) {
      people = results;
      list.textContent = "";
      if (!people.length) return close();
      people.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.textContent = person.display_name + " (@" + person.username + ")";
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the caret in the box
          pick(i);
        });
        list.appendChild(item);
      });
      list.hidden = false;
      highlight(0);
    }

    function ask() {
      var text = typed();
      if (!text) return close();
      if (text === asked && !list.hidden) return;
      asked = text;
      var url = "/api/v1/mentions/?q=" + encodeURIComponent(text) + "&place=" + encodeURIComponent(place);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (typed() === text) show(body.results || []); })
        .catch(close);
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    box.addEventListener("keydown", function (event) {
      if (list.hidden || !people.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % people.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + people.length) % people.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        pick(active < 0 ? 0 : active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    box.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function scan(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("textarea[data-mention-place], [data-mention-place] textarea, [data-mention-place] input[data-mention-box]"), function (box) {
      if (box.getAttribute("data-mentions-ready")) {
        // A box htmx preserved across a swap keeps its listeners, but the swap removed its list:
        // put the same list back, so aria-controls names an element that exists.
        if (box._mentionList && !document.contains(box._mentionList)) {
          box.parentNode.insertBefore(box._mentionList, box.nextSibling);
        }
        return;
      }
      box.setAttribute("data-mentions-ready", "true");
      setUp(box);
    });
  }
  scan(document);
  document.addEventListener("htmx:afterSwap", function (event) { scan(event.target); });
})();
