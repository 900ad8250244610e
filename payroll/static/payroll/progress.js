// Live progress of a payroll run on the period page: each "payroll.payout_progress" event of the page's
// live socket (static/backoffice/live.js re-dispatches it on <body>) updates the payslip's stage cell:
// queued -> intent (signed, stored) -> sent (the node has it) -> confirmed (paid), or failed.
(function () {
  "use strict";
  var LABELS = { queued: "Queued", intent: "Intent stored", sent: "Sent", confirmed: "Confirmed, paid",
                 failed: "Failed" };
  document.body.addEventListener("live:payroll.payout_progress", function (event) {
    var data = event.detail || {};
    var row = document.getElementById("payslip-" + data.payslip);
    if (!row) { return; }
    var cell = row.querySelector("[data-payout-stage]");
    if (!cell) { return; }
    cell.dataset.payoutStage = data.stage;
    cell.textContent = (LABELS[data.stage] || data.stage) + (data.nonce !== undefined ? " (nonce " + data.nonce + ")" : "");
  });
})();
