// Financial statement pages: a bar chart of the main totals per column (Chart.js from unfold's static
// files). The CSP allows no inline script, so the data comes from the panel's <script
// type="application/json"> block (Django's json_script); amounts are exact strings there and become
// numbers only for drawing. The picker swaps the panel with htmx; the chart is redrawn after the swap.
(function () {
  "use strict";
  var chart = null;
  var COLOURS = ["#7c3aed", "#0ea5e9", "#16a34a", "#f59e0b", "#dc2626"];

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function draw() {
    var canvas = document.getElementById("statement-chart-canvas");
    var data = readJson("statement-chart-data");
    if (chart) { chart.destroy(); chart = null; }
    if (!canvas || !data || !window.Chart) { return; }
    chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.series.map(function (serie) { return serie.label; }),
        datasets: data.columns.map(function (column, index) {
          return {
            label: column,
            data: data.series.map(function (serie) { return Number(serie.values[index]); }),
            backgroundColor: COLOURS[index % COLOURS.length]
          };
        })
      },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { title: { display: true, text: data.currency } } }
      }
    });
    canvas.dataset.rendered = data.kind + ":" + data.columns.length;
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "statement-panel") { draw(); }
  });
})();
