// The migration job page's chart of memory remaining per iteration (templates/instances/_job_migration.html).
// The job page's live region is swapped on every job event, so the chart is drawn again from the new content
// each time (htmx.onLoad), without animation.
(function () {
  "use strict";
  var MIB = 1024 * 1024;

  function draw(root) {
    var box = root.querySelector ? root.querySelector("[data-migration-chart]") : null;
    if (!box) return;
    var canvas = box.querySelector("canvas");
    var old = Chart.getChart(canvas);
    if (old) old.destroy();
    var points = JSON.parse(box.dataset.points || "[]");
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: points.map(function (p) { return p.iteration; }),
        datasets: [{ label: box.dataset.label, data: points.map(function (p) { return p.remaining / MIB; }) }]
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, title: { display: true, text: box.dataset.label } } } }
    });
  }

  htmx.onLoad(draw);
})();
