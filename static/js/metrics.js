// Live graphs of a host or VM (templates/metrics/_graphs.html) with Chart.js.
// Polling rather than the websocket: points arrive on the sampler's clock, only an open graph needs them,
// and each poll asks only for points newer than the last one (?since=), one indexed query.
(function () {
  "use strict";
  // Numbers and dates in the page's language (<html lang>, set by the language switcher), not the browser's.
  var LANGUAGE = document.documentElement.lang || undefined;
  function number(v, digits) {
    return v.toLocaleString(LANGUAGE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  var UNITS = {
    percent: function (v) { return number(v, v < 10 ? 1 : 0) + " %"; },
    kib: function (v) { return bytes(v * 1024); },
    bps: function (v) { return bytes(v) + "/s"; },
  };

  function bytes(v) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return number(v, i ? 1 : 0) + " " + units[i];
  }

  function time(ms, span) {
    var date = new Date(ms);
    return span > 86400 ? date.toLocaleDateString(LANGUAGE, { weekday: "short", hour: "2-digit" })
                        : date.toLocaleTimeString(LANGUAGE, { hour: "2-digit", minute: "2-digit" });
  }

  function chartFor(canvas, box) {
    var fields = canvas.dataset.fields.split(" ");
    var labels = canvas.dataset.labels.split("|");
    var format = UNITS[canvas.dataset.unit];
    return {
      fields: fields,
      chart: new Chart(canvas, {
        type: "line",
        data: { datasets: fields.map(function (field, i) {
          return { label: labels[i], data: [], pointRadius: 0, borderWidth: 1.5, spanGaps: false };
        }) },
        options: {
          animation: false, parsing: false, normalized: true, maintainAspectRatio: false,
          interaction: { mode: "nearest", axis: "x", intersect: false },
          scales: {
            x: { type: "linear", ticks: { maxTicksLimit: 6, callback: function (v) { return time(v, box.span); } } },
            y: { beginAtZero: true, ticks: { callback: format } },
          },
          plugins: { tooltip: { callbacks: {
            title: function (items) { return items.length ? new Date(items[0].parsed.x).toLocaleString(LANGUAGE) : ""; },
            label: function (item) { return item.dataset.label + ": " + format(item.parsed.y); },
          } } },
        },
      }),
    };
  }

  function setup(box) {
    var url = box.dataset.metrics;
    var charts = Array.prototype.map.call(box.querySelectorAll("canvas[data-fields]"), function (canvas) {
      canvas.parentNode.style.height = "180px";
      return chartFor(canvas, box);
    });
    var state = { range: "hour", last: null, timer: null, generation: 0 };
    box.span = 3600;

    function add(body, replace) {
      var columns = body.fields;
      box.span = body.span;
      charts.forEach(function (entry) {
        entry.chart.data.datasets.forEach(function (dataset, i) {
          var column = columns.indexOf(entry.fields[i]);
          var points = body.points.map(function (row) { return { x: row[0] * 1000, y: row[column] }; });
          dataset.data = replace ? points : dataset.data.concat(points);
          var oldest = (Date.now() / 1000 - body.span) * 1000;
          while (dataset.data.length && dataset.data[0].x < oldest) dataset.data.shift();
        });
        // The whole range on the x axis, so a graph with a few points shows them at its right end.
        entry.chart.options.scales.x.min = Date.now() - body.span * 1000;
        entry.chart.options.scales.x.max = Date.now();
        entry.chart.update("none");
      });
      if (body.points.length) state.last = body.points[body.points.length - 1][0];
      var count = charts.length ? charts[0].chart.data.datasets[0].data.length : 0;
      box.dataset.points = String(count);
      box.querySelector("[data-metrics-empty]").hidden = count > 0;
      return body.step;
    }

    function load(replace) {
      var generation = state.generation;
      var query = "?range=" + state.range + (replace || state.last === null ? "" : "&since=" + state.last);
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (body) {
          if (generation !== state.generation) return; // the range changed meanwhile
          schedule(add(body, replace));
        })
        .catch(function () { if (generation === state.generation) schedule(30); });
    }

    function schedule(seconds) {
      clearTimeout(state.timer);
      state.timer = setTimeout(function () { load(false); }, Math.max(5, Math.min(seconds, 300)) * 1000);
    }

    box.querySelectorAll("[data-range]").forEach(function (button) {
      button.addEventListener("click", function () {
        box.querySelectorAll("[data-range]").forEach(function (other) {
          other.classList.toggle("active", other === button);
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
        state.range = button.dataset.range;
        state.last = null;
        state.generation += 1;
        load(true);
      });
    });
    load(true);
  }

  function start() { document.querySelectorAll("[data-metrics]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
