// The public payment page: one WebSocket to /ws/pay/<token>/ (data-ws-path). On "payment.seen" it says
// so; on "payment.confirmed" / "invoice.updated" (and after every reconnect) it reloads the status
// block from data-status-url. If the socket cannot be opened or drops, it polls that URL every
// data-poll-seconds until the socket is back. A closed invoice (4404: unknown token) stops both.
(function () {
  "use strict";
  var page = document.getElementById("pay-page");
  if (!page) { return; }
  var live = document.getElementById("pay-live");
  var pollMs = (parseInt(page.dataset.pollSeconds, 10) || 10) * 1000;
  var CLOSE_UNKNOWN = 4404;
  var delay = 1000;
  var pollTimer = null;
  var connectedOnce = false;

  function say(text) { if (live) { live.textContent = text; } }

  function refresh() {
    var request = new XMLHttpRequest();
    request.open("GET", page.dataset.statusUrl);
    request.onload = function () {
      if (request.status !== 200) { return; }
      var current = document.getElementById("pay-status");
      if (!current) { return; }
      var holder = document.createElement("div");
      holder.innerHTML = request.responseText;
      var fresh = holder.querySelector("#pay-status");
      if (fresh) { current.replaceWith(fresh); }
    };
    request.send();
  }

  function startPolling() {
    page.dataset.live = "polling";
    if (pollTimer === null) { pollTimer = window.setInterval(refresh, pollMs); }
  }

  function stopPolling() {
    if (pollTimer !== null) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    var socket;
    try {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + page.dataset.wsPath);
    } catch (error) {
      startPolling();
      return;
    }
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (!event || typeof event.type !== "string") { return; }
      if (event.type === "connected") {
        stopPolling();
        page.dataset.live = "connected";
        delay = 1000;
        if (connectedOnce) { refresh(); }  // events sent while it was down are lost
        connectedOnce = true;
      } else if (event.type === "payment.seen") {
        page.dataset.lastEvent = event.type;
        say("A payment was seen on chain; it is being confirmed.");
      } else if (event.type === "payment.confirmed" || event.type === "invoice.updated") {
        page.dataset.lastEvent = event.type;
        say(event.type === "payment.confirmed" ? "Payment confirmed." : "");
        refresh();
      }
    };
    socket.onclose = function (closing) {
      if (closing.code === CLOSE_UNKNOWN) { stopPolling(); page.dataset.live = "closed"; return; }
      startPolling();
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if (window.WebSocket) { connect(); } else { startPolling(); }
})();
