// The live-update area: one WebSocket to /ws/live/ per page. Each event is re-dispatched on <body>
// as "live:<type>" (dots become dashes), so any element can refresh itself with
// hx-trigger="live:task_run-updated from:body". Reconnects with backoff; pings to keep it open.
(function () {
  "use strict";
  var area = document.getElementById("live-area");
  if (!area || !window.WebSocket) { return; }
  var text = area.querySelector(".bo-live-text");
  var delay = 500;
  var socket = null;

  function setState(state, label) {
    area.dataset.live = state;
    if (text) { text.textContent = label; }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + area.dataset.wsPath);
    socket.onopen = function () { delay = 500; setState("connected", "live"); };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (!event || !event.type || event.type === "pong" || event.type === "connected") { return; }
      area.dataset.lastEvent = event.type;
      document.body.dispatchEvent(new CustomEvent("live:" + event.type.replace(/\./g, "-"), { detail: event.data }));
    };
    socket.onclose = function () {
      setState("disconnected", "reconnecting…");
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  window.setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ type: "ping" })); }
  }, 25000);
  connect();
})();
