// The journal entry line editor: add and remove lines, and the totals with the debits = credits
// check as you type. Exact decimal sums (BigInt in units of 1e-8, the books' precision); the
// service checks the same rules again on save. No inline script, no eval (the page's CSP).
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form) { return; }
  var body = document.getElementById("entry-lines-body");
  var template = document.getElementById("entry-line-template");
  var SCALE = 8;

  function parse(text) {
    // null for an unreadable amount, 0n for an empty one.
    text = (text || "").trim().replace(/,/g, "");
    if (text === "") { return BigInt(0); }
    var match = /^(\d+)(?:\.(\d*))?$/.exec(text);
    if (!match) { return null; }
    var fraction = (match[2] || "");
    if (fraction.length > SCALE) { return null; }
    return BigInt(match[1] + fraction.padEnd(SCALE, "0"));
  }

  function show(value) {
    var negative = value < 0;
    var digits = (negative ? -value : value).toString().padStart(SCALE + 1, "0");
    var whole = digits.slice(0, -SCALE), fraction = digits.slice(-SCALE).replace(/0+$/, "");
    if (fraction.length < 2) { fraction = fraction.padEnd(2, "0"); }
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + whole + "." + fraction;
  }

  function update() {
    var debit = BigInt(0), credit = BigInt(0), bad = false, lines = 0;
    body.querySelectorAll("tr.je-line").forEach(function (row) {
      var d = parse(row.querySelector(".je-debit").value), c = parse(row.querySelector(".je-credit").value);
      if (d === null || c === null) { bad = true; return; }
      if (d > 0 || c > 0) { lines += 1; }
      debit += d; credit += c;
    });
    document.getElementById("total-debit").textContent = show(debit);
    document.getElementById("total-credit").textContent = show(credit);
    var status = document.getElementById("entry-balance");
    var balanced = !bad && lines >= 2 && debit === credit && debit > 0;
    status.dataset.balanced = balanced ? "true" : "false";
    if (bad) {
      status.textContent = "An amount is not a number (up to 8 decimals).";
    } else if (lines < 2) {
      status.textContent = "An entry needs at least two lines.";
    } else if (debit === credit) {
      status.textContent = "Balanced: debits = credits = " + show(debit) + ".";
    } else {
      status.textContent = "Out of balance by " + show(debit > credit ? debit - credit : credit - debit) +
        (debit > credit ? " (more debits)." : " (more credits).");
    }
  }

  document.getElementById("add-line").addEventListener("click", function () {
    body.appendChild(template.content.cloneNode(true));
    update();
  });
  body.addEventListener("click", function (event) {
    var button = event.target.closest(".je-remove");
    if (!button) { return; }
    var row = button.closest("tr");
    if (body.querySelectorAll("tr.je-line").length > 1) { row.remove(); } else { row.querySelectorAll("input").forEach(function (i) { i.value = ""; }); }
    update();
  });
  body.addEventListener("input", update);
  update();
})();
