/* sched: a chart with bands and callouts on one self-contained page (`sched check -o x.html`).
 * Data comes from the JSON block #sched-data, written by sched_cli/render/chart_page.py. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("sched-data").textContent);
  // Matplotlib's tab10, as `sched check -o x.png` draws; alarm curves in its red.
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var ALARM = "#d62728";
  var plot = null;

  var curves = DATA.curves;
  var plain = 0;
  curves.forEach(function (c) {
    c.color = c.alarm ? ALARM : COLORS[plain++ % COLORS.length];
  });

  function tickText(v) {
    if (v === null || v === undefined) return "";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
    return Number(v.toPrecision(6)).toLocaleString("en-US", { maximumFractionDigits: 6 });
  }
  function valueText(u, v) {
    return v === null || v === undefined ? "–" : String(Number(v.toPrecision(6)));
  }
  function inBox(u, px) {
    return px >= u.bbox.left - 1 && px <= u.bbox.left + u.bbox.width + 1;
  }

  // Bands first, behind the grid and the curves: a pale red stretch each, clipped to the plot.
  function drawBands(u) {
    var ctx = u.ctx, box = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.width, box.height);
    ctx.clip();
    ctx.fillStyle = "rgba(214, 39, 40, 0.12)";
    DATA.bands.forEach(function (b) {
      var left = u.valToPos(b.start, "x", true), right = u.valToPos(b.end, "x", true);
      ctx.fillRect(left, box.top, Math.max(right - left, 2), box.height);
    });
    ctx.restore();
  }

  // Each callout: a ring around its point and its text, with a white halo, towards the middle.
  function drawCallouts(u) {
    var ctx = u.ctx, box = u.bbox, dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.font = Math.round(12 * dpr) + "px system-ui, sans-serif";
    DATA.callouts.forEach(function (c) {
      var px = u.valToPos(c.x, "x", true), py = u.valToPos(c.y, "y", true);
      if (!inBox(u, px)) return;
      ctx.strokeStyle = ALARM;
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.arc(px, py, 7 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
      var right = px > box.left + box.width / 2, up = py < box.top + box.height / 2;
      var tx = px + (right ? -30 : 30) * dpr, ty = py + (up ? 30 : -30) * dpr;
      ctx.beginPath();
      ctx.moveTo(px + (right ? -7 : 7) * dpr, py + (up ? 7 : -7) * dpr);
      ctx.lineTo(tx, ty);
      ctx.stroke();
      ctx.textAlign = right ? "right" : "left";
      ctx.textBaseline = up ? "top" : "bottom";
      ctx.lineWidth = 4 * dpr;
      ctx.strokeStyle = "#fff";
      ctx.strokeText(c.text, tx, ty);
      ctx.fillStyle = ALARM;
      ctx.fillText(c.text, tx, ty);
    });
    ctx.restore();
  }

  function build() {
    var el = document.getElementById("chart");
    var width = Math.max(320, el.clientWidth || 900);
    var tables = curves.map(function (c) {
      return [c.x, DATA.log_y ? c.y.map(function (y) { return y > 0 ? y : null; }) : c.y];
    });
    var opts = {
      width: width,
      height: Math.round(Math.min(560, Math.max(320, width * 0.5))),
      scales: { x: { time: false }, y: { distr: DATA.log_y ? 3 : 1, log: 10 } },
      axes: [
        { label: DATA.x_label, values: function (u, vals) { return vals.map(tickText); }, grid: { stroke: "#0001" } },
        {
          label: DATA.y_label,
          size: 70,
          values: function (u, vals) { return vals.map(tickText); },
          grid: { stroke: "#0001" },
        },
      ],
      series: [{ label: DATA.x_label }].concat(
        curves.map(function (c) {
          var s = { label: c.label, stroke: c.color, value: valueText, spanGaps: true };
          if (c.points) {
            s.paths = function () { return null; };
            s.points = { show: true, size: c.alarm ? 8 : 5, width: 1, fill: c.color, stroke: c.color };
          } else {
            s.width = 2;
            s.points = { show: false };
            if (c.dashed) s.dash = [8, 5];
          }
          return s;
        })
      ),
      cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false } },
      hooks: { drawClear: [drawBands], draw: [drawCallouts] },
    };
    plot = new uPlot(opts, uPlot.join(tables), el);
    window.schedChart.readyAt = window.schedChart.readyAt || performance.now();
    document.body.dataset.ready = "1";
  }

  // For tests and the curious: the plot, the data, and where a value is drawn in page pixels.
  window.schedChart = {
    plot: function () { return plot; },
    data: DATA,
    toPage: function (x, y) {
      var box = plot.over.getBoundingClientRect();
      return [box.left + plot.valToPos(x, "x"), y === undefined ? null : box.top + plot.valToPos(y, "y")];
    },
  };
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var width = Math.max(320, document.getElementById("chart").clientWidth);
      plot.setSize({ width: width, height: Math.round(Math.min(560, Math.max(320, width * 0.5))) });
    }, 100);
  });
  build();
})();
