// Draws the dashboard's charts with Chart.js from the JSON the page carries (json_script "dashboard-data").
//
// No inline script or style, so the Content-Security-Policy holds. Every chart has its numbers in the
// table right below it; a hidden figure ("<5") arrives as null and is not drawn.
(function () {
  "use strict";

  const source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  const charts = JSON.parse(source.textContent);
  // Colours with at least 3:1 contrast against white, told apart also by their order in the legend.
  const COLOURS = ["#0b3d5c", "#b85c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#455a64"];

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const chart = charts[canvas.dataset.chart];
    if (!chart) {
      return;
    }
    const stacked = chart.type === "stacked";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (dataset, index) {
          const colour = COLOURS[index % COLOURS.length];
          if (dataset.total) {
            // A total is a line in a stack of its own, drawn over the bars: stacked with its parts it would
            // count them twice.
            return {
              type: "line",
              stack: "total",
              order: 0,
              label: dataset.label,
              data: dataset.data,
              borderColor: colour,
              backgroundColor: colour,
              pointRadius: 4,
            };
          }
          return { label: dataset.label, data: dataset.data, backgroundColor: colour, order: 1 };
        }),
      },
      options: {
        responsive: true,
        aspectRatio: 3,
        animation: false,
        plugins: { legend: { display: chart.datasets.length > 1 } },
        scales: {
          x: { stacked: stacked },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  });
})();
