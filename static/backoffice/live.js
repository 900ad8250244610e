// Live sockets of a page.
// - The live-update area (#live-area, one WebSocket to /ws/live/ per page): each event is re-dispatched
//   on <body> as "live:<type>", so any element can refresh itself with
//   hx-trigger="live:task_run.updated from:body". After a reconnect "live:reconnected" is dispatched:
//   events sent while the socket was down are lost, so listeners refresh on it too.
// - Any element with data-live-socket and data-ws-path (e.g. the dashboard's /ws/admin/dashboard-stats/
//   feed): the same connection handling, its events dispatched on the element itself as "feed:<type>"
//   ("feed:reconnected" after a reconnect); its data-live attribute says the state.
// Every socket pings every PING_MS; a pong missing for PONG_TIMEOUT_MS means a dead connection (a
// server gone without a close frame): it is closed and reconnected. Reconnects back off from 500 ms
// doubling to 15 s, and start again at 500 ms once connected.
(function () {
  "use strict";
  if (!window.WebSocket) { return; }
  var CLOSE_UNAUTHENTICATED = 4401;
  var CLOSE_FORBIDDEN = 4403;
  var PING_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var FIRST_DELAY_MS = 500;
  var MAX_DELAY_MS = 15000;

  function liveSocket(element, options) {
    var text = element.querySelector(".bo-live-text");
    var delay = FIRST_DELAY_MS;
    var socket = null;
    var everConnected = false;
    var pongTimer = null;

    function setState(state, label) {
      element.dataset.live = state;
      if (text) { text.textContent = label; }
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + element.dataset.wsPath);
      socket.onmessage = function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (error) { return; }
        if (!event || typeof event.type !== "string") { return; }
        if (event.type === "pong") {
          window.clearTimeout(pongTimer);
          pongTimer = null;
          element.dataset.lastPong = String(Date.now());
          return;
        }
        if (event.type === "connected") {
          // Only now is the socket authenticated and in its groups.
          delay = FIRST_DELAY_MS;
          setState("connected", "live");
          element.dataset.connections = String(Number(element.dataset.connections || "0") + 1);
          if (everConnected) { options.dispatch("reconnected", {}); }
          everConnected = true;
          return;
        }
        element.dataset.lastEvent = event.type;
        options.dispatch(event.type, event.data);
      };
      socket.onclose = function (closing) {
        window.clearTimeout(pongTimer);
        pongTimer = null;
        if (closing.code === CLOSE_UNAUTHENTICATED || closing.code === CLOSE_FORBIDDEN) {
          // Retrying cannot help: the login ended or this page is not for this user.
          setState("denied", closing.code === CLOSE_UNAUTHENTICATED ? "signed out" : "not allowed");
          return;
        }
        setState("disconnected", "reconnecting…");
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      };
    }

    function ping() {
      if (!socket || socket.readyState !== WebSocket.OPEN || pongTimer !== null) { return; }
      socket.send(JSON.stringify({ type: "ping" }));
      pongTimer = window.setTimeout(function () {
        pongTimer = null;
        if (socket) { socket.close(); }  // no pong: a dead connection; onclose reconnects
      }, Number(element.dataset.pongTimeoutMs || PONG_TIMEOUT_MS));
    }

    window.setInterval(ping, Number(element.dataset.pingMs || PING_MS));
    connect();
  }

  var area = document.getElementById("live-area");
  if (area) {
    liveSocket(area, {
      dispatch: function (type, detail) {
        document.body.dispatchEvent(new CustomEvent("live:" + type, { detail: detail }));
      }
    });
  }
  var feeds = document.querySelectorAll("[data-live-socket][data-ws-path]");
  Array.prototype.forEach.call(feeds, function (feed) {
    liveSocket(feed, {
      dispatch: function (type, detail) {
        feed.dispatchEvent(new CustomEvent("feed:" + type, { detail: detail, bubbles: true }));
      }
    });
  });
})();
