// Wallet pages: a live "wallet.balance_changed" (or any wallet event) refreshes the elements of that
// wallet (data-wallet-live="<id>", each with hx-trigger="wallet-changed"); after a reconnect every
// wallet element refreshes (events sent meanwhile are lost). The create form shows the fields of
// the chosen key mode. No inline script, no eval (the page's CSP).
(function () {
  "use strict";
  function refresh(walletId) {
    if (!window.htmx) { return; }
    var selector = walletId ? '[data-wallet-live="' + String(walletId).replace(/[^0-9a-f]/gi, "") + '"]' : "[data-wallet-live]";
    document.querySelectorAll(selector).forEach(function (element) { window.htmx.trigger(element, "wallet-changed"); });
  }
  ["wallet.balance_changed", "wallet.updated", "transaction.created", "transaction.confirmed"].forEach(function (type) {
    document.body.addEventListener("live:" + type, function (event) {
      var detail = event.detail || {};
      refresh(type.indexOf("transaction.") === 0 ? detail.wallet_id : detail.id);
    });
  });
  document.body.addEventListener("live:reconnected", function () { refresh(null); });

  var form = document.getElementById("wallet-new-form");
  if (form) {
    var show = function () {
      var checked = form.querySelector("input[name=mode]:checked");
      var mode = checked ? checked.value : "generate";
      form.querySelectorAll(".bo-mode").forEach(function (block) {
        block.hidden = !block.classList.contains("bo-mode-" + mode);
      });
    };
    form.addEventListener("change", show);
    show();
  }
})();
