/* Live: put new notifications at the top of the first page as they arrive.
   Built with textContent only: notification text is user-generated. */
(function () {
  // live.js (loaded before this file) owns the rule: only http(s) links, never script.
  var safeUrl = window.ServiceDeskLive.safeUrl;

  // What a notification points to, as the server groups them (feeds.selectors.notification_target).
  function target(notification) {
    var url = String(notification.url || "").split("#")[0].split("?")[0];
    return url || "#" + notification.id;
  }

  function buildItem(notification) {
    var item = document.createElement("li");
    item.id = "notification-" + notification.id;
    item.className = "notification-row" + (notification.read ? "" : " is-unread");
    item.setAttribute("data-unread", notification.read ? "" : String(notification.id));
    item.setAttribute("data-target", target(notification));

    var marker = document.createElement("span");
    marker.className = "unread-marker";
    marker.setAttribute("aria-hidden", "true");
    item.appendChild(marker);

    var text = document.createElement("div");
    text.className = "item-text";
    if (!notification.read) {
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden unread-label";
      hidden.textContent = "Unread: ";
      text.appendChild(hidden);
    }
    var href = safeUrl(notification.url);
    var label = notification.text || "New notification";
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = label;
      text.appendChild(link);
    } else {
      text.appendChild(document.createTextNode(label));
    }
    item.appendChild(text);

    var meta = document.createElement("div");
    meta.className = "item-meta cluster";
    if (notification.kind_label) {
      var badge = document.createElement("span");
      badge.className = "badge badge-neutral";
      badge.textContent = String(notification.kind_label);
      meta.appendChild(badge);
    }
    var time = document.createElement("time");
    if (notification.created_at) time.setAttribute("datetime", notification.created_at);
    time.textContent = "just now";
    meta.appendChild(time);
    item.appendChild(meta);
    return item;
  }

  document.addEventListener("live:notification", function (event) {
    var notification = event.detail || {};
    var holder = document.getElementById("notification-list");
    // Only the first page shows the newest items.
    if (!holder || holder.getAttribute("data-page") !== "1") return;
    if (notification.id != null && document.getElementById("notification-" + notification.id)) return;

    var list = holder.querySelector(".item-list");
    if (!list) {
      var empty = holder.querySelector(".empty-state");
      if (empty) empty.parentNode.removeChild(empty);
      list = document.createElement("ul");
      list.className = "item-list";
      list.setAttribute("aria-label", "Notifications");
      holder.insertBefore(list, holder.firstChild);
    }
    // One row per thing: a newer notification about it replaces the row (keeping its unread ids).
    var item = buildItem(notification);
    Array.prototype.forEach.call(list.querySelectorAll(".notification-row"), function (row) {
      if (row.getAttribute("data-target") !== item.getAttribute("data-target")) return;
      var unread = (row.getAttribute("data-unread") || "") + " " + (item.getAttribute("data-unread") || "");
      item.setAttribute("data-unread", unread.trim());
      if (unread.trim()) item.classList.add("is-unread");
      row.parentNode.removeChild(row);
    });
    list.insertBefore(item, list.firstChild);
  });

  // Confirm "Mark all as read" for screen reader users: the list changes
  // silently otherwise.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target || event.target.id !== "notification-list") return;
    var status = document.getElementById("notification-status");
    if (status) status.textContent = "All notifications marked as read.";
  });

  // Notifications read elsewhere (another tab, or the page they point to) clear here too,
  // on this page and in the home's recent list.
  document.addEventListener("live:notifications-read", function (event) {
    var ids = (event.detail && event.detail.ids) || [];
    var all = !!(event.detail && event.detail.all);
    var rows = document.querySelectorAll(".notification-row.is-unread");
    Array.prototype.forEach.call(rows, function (row) {
      var left = all ? [] : (row.getAttribute("data-unread") || "").split(" ").filter(function (id) {
        return id && ids.indexOf(Number(id)) === -1;
      });
      row.setAttribute("data-unread", left.join(" "));
      if (left.length) return;
      row.classList.remove("is-unread");
      var label = row.querySelector(".unread-label");
      if (label) label.parentNode.removeChild(label);
    });
  });
})();
