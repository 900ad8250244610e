// The live-update area: one WebSocket to /ws/live/ per page. Each event is re-dispatched on <body>
// as "live:<type>", so any element can refresh itself with
// hx-trigger="live:task_run.updated from:body". After a reconnect
// "live:reconnected" is dispatched: events sent while the socket was down are lost, so listeners
// refresh on it too. Reconnects with backoff; pings to keep proxies from closing an idle socket.
(function () {
  "use strict";
  var area = document.getElementById("live-area");
  if (!area || !window.WebSocket) { return; }
  var text = area.querySelector(".bo-live-text");
  var CLOSE_UNAUTHENTICATED = 4401;
  var CLOSE_FORBIDDEN = 4403;
  var delay = 500;
  var socket = null;
  var everConnected = false;

  function setState(state, label) {
    area.dataset.live = state;
    if (text) { text.textContent = label; }
  }

  function dispatch(type, detail) {
    document.body.dispatchEvent(new CustomEvent("live:" + type, { detail: detail }));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + area.dataset.wsPath);
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (!event || typeof event.type !== "string" || event.type === "pong") { return; }
      if (event.type === "connected") {
        // Only now is the socket authenticated and in its groups.
        delay = 500;
        setState("connected", "live");
        if (everConnected) { dispatch("reconnected", {}); }
        everConnected = true;
        return;
      }
      area.dataset.lastEvent = event.type;
      dispatch(event.type, event.data);
    };
    socket.onclose = function (closing) {
      if (closing.code === CLOSE_UNAUTHENTICATED || closing.code === CLOSE_FORBIDDEN) {
        // Retrying cannot help: the login ended or this page is not for this user.
        setState("denied", closing.code === CLOSE_UNAUTHENTICATED ? "signed out" : "not allowed");
        return;
      }
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
