// Storage benchmark charts (templates/storage/benchmark_detail.html): one bar chart per metric, the volume kinds
// side by side, one series per workload (and per run when two are compared). The figures come from the page's
// data-chart attribute (htmx drops swapped-in script elements); htmx.onLoad draws them again when the live region is swapped in (a run that just finished).
(function () {
  "use strict";
  const COLORS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997", "#6c757d", "#ffc107"];

  function draw(root) {
    const source = document.getElementById("benchmark-chart-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    const data = JSON.parse(source.dataset.chart);
    root.querySelectorAll("canvas[data-benchmark-chart]").forEach(function (canvas) {
      const metric = canvas.dataset.benchmarkChart;
      const existing = Chart.getChart(canvas);
      if (existing) {
        existing.destroy();
      }
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (series, index) {
            return {label: series.label, data: series[metric], backgroundColor: COLORS[index % COLORS.length]};
          }),
        },
        options: {
          animation: false,  // the live region redraws on every event: no replayed animation
          plugins: {title: {display: true, text: data.titles[metric]}},
          scales: {y: {beginAtZero: true}},
        },
      });
      canvas.dataset.drawn = "true";
    });
  }

  if (window.htmx) {
    htmx.onLoad(draw);
  } else {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  }
})();
