/* Draws the dashboard's series with uPlot (vendored from npm). The numbers are also in tables on
   the page; this only adds the pictures. Reads the JSON block #chart-data (no inline script). */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("chart-data");
    if (!block || typeof uPlot === "undefined") return;
    var data = JSON.parse(block.textContent);
    data.series.forEach(function (s) {
      var host = document.querySelector(".chart[data-metric='" + s.metric + "']");
      if (!host) return;
      var xs = s.points.map(function (p) { return Date.parse(p.end) / 1000; });
      var ys = s.points.map(function (p) { return p.value === null ? null : p.value; });
      if (ys.every(function (y) { return y === null; })) {
        host.textContent = "No data in this period yet.";
        host.classList.add("chart-empty");
        return;
      }
      var width = Math.max(240, Math.min(host.clientWidth || 360, 560));
      var opts = {
        width: width,
        height: 180,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: "#374151", grid: { stroke: "#e5e7eb" } },
          { stroke: "#374151", grid: { stroke: "#e5e7eb" }, size: 56 }
        ],
        series: [
          {},
          { label: s.title, stroke: "#1d4ed8", width: 2, fill: "rgba(29, 78, 216, 0.08)", spanGaps: false,
            points: { show: true, size: 6, stroke: "#1d4ed8", fill: "#ffffff" } }
        ]
      };
      host.innerHTML = "";
      new uPlot(opts, [xs, ys], host);
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
