// Live updates: one websocket per page; each event makes the page's live
// regions (hx-trigger="live from:body") re-fetch themselves, at most every 300 ms.
// After a drop, the reconnect does the same: events sent meanwhile were lost. So does the first connect of a
// page that may change before its socket opens (an element with data-live-refetch-on-open: a running job's
// page, whose end could otherwise come and go unseen in between).
// A page that names its topics (<meta name="live-topics" content="host:3 job">) gets only their events.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var gettext = window.gettext || function (text) { return text; };  // Django's catalog (/jsi18n/), in base.html
  var pending = null;
  var retry = 1000;
  var dropped = false;

  function show(state) {
    if (!status) return;
    status.className = "nav-link " + state;
    status.querySelector("span").textContent = state === "live" ? gettext("live") : gettext("reconnecting");
  }

  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      htmx.trigger(document.body, "live");
    }, 300);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var topics = document.querySelector('meta[name="live-topics"]');
    var query = topics && topics.content ? "?topics=" + encodeURIComponent(topics.content) : "";
    var socket = new WebSocket(scheme + location.host + "/ws/inventory/" + query);
    socket.onopen = function () {
      retry = 1000;
      show("live");
      if (dropped || document.querySelector("[data-live-refetch-on-open]")) refresh();
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      document.dispatchEvent(new CustomEvent("virtdeck:" + message.kind, { detail: message.data }));
      refresh();
    };
    socket.onclose = function (event) {
      show("offline");
      dropped = true;
      if (event.code === 4401) return; // logged out
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  connect();
})();
