// Portfolio page charts (Chart.js from unfold's static files). The CSP allows no inline script, so
// the data comes from <script type="application/json"> blocks (Django's json_script); amounts are
// strings there and become numbers only for drawing. The period picker swaps the value chart's block
// with htmx; the chart is redrawn after the swap.
(function () {
  "use strict";
  var charts = {};
  var COLOURS = ["#7c3aed", "#0ea5e9", "#16a34a", "#f59e0b", "#dc2626", "#64748b", "#db2777", "#0d9488"];

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    try { return JSON.parse(element.textContent); } catch (error) { return null; }
  }

  function draw(canvasId, dataId, build) {
    var canvas = document.getElementById(canvasId);
    var data = readJson(dataId);
    if (!canvas || !data || !window.Chart) { return; }
    if (charts[canvasId]) { charts[canvasId].destroy(); }
    charts[canvasId] = new window.Chart(canvas, build(data));
    canvas.dataset.rendered = data.period || "yes";
  }

  function valueChart(data) {
    return {
      type: "line",
      data: {
        labels: data.points.map(function (point) { return point.date; }),
        datasets: [{
          label: "Value (" + data.fiat + ")",
          data: data.points.map(function (point) { return Number(point.value); }),
          borderColor: COLOURS[0], backgroundColor: "rgba(124, 58, 237, 0.1)", fill: true,
          pointRadius: 0, tension: 0.2
        }]
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { ticks: { maxTicksLimit: 8 } } } }
    };
  }

  function allocationChart(data) {
    return {
      type: "doughnut",
      data: {
        labels: data.slices.map(function (slice) { return slice.name; }),
        datasets: [{
          data: data.slices.map(function (slice) { return Number(slice.value); }),
          backgroundColor: data.slices.map(function (_, index) { return COLOURS[index % COLOURS.length]; })
        }]
      },
      options: { animation: false }
    };
  }

  function drawAll() {
    draw("portfolio-value-canvas", "portfolio-history-data", valueChart);
    draw("portfolio-allocation-canvas", "portfolio-allocation-data", allocationChart);
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "portfolio-value-chart") {
      draw("portfolio-value-canvas", "portfolio-history-data", valueChart);
    }
  });
})();
