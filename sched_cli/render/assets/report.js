/* sched report: the interactive chart of one self-contained page (uPlot draws it).
 * Data comes from the JSON block #sched-data, written by sched_cli/render/html.py. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("sched-data").textContent);
  var AXIS_NAMES = {
    ba: "batches (ba)",
    ep: "epochs (ep)",
    sp: "samples (sp)",
    tok: "tokens (tok)",
    dur: "fraction of run (dur)",
  };
  // Matplotlib's tab10, as `sched plot -o x.png` draws.
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var MODE_NAMES = { formula: "formula", trainer: "as the Trainer applies it" };

  // A float as `sched export` writes it: the shortest digits that read back as the same double
  // (as JavaScript finds them), laid out as orjson lays them out: 1.0, 0.00001, 9.999e-6, 1.5e+16.
  function exportText(x) {
    if (x === null || x === undefined) return "";
    if (typeof x === "string") return x;
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    var sign = x < 0 ? "-" : "";
    var parts = Math.abs(x).toExponential().split("e");
    var digits = parts[0].replace(".", "");
    var point = parseInt(parts[1], 10) + 1; // digits[0 .. point) come before the decimal point
    var zeros = point - digits.length;
    var s;
    if (zeros >= 0 && point <= 16) s = digits + "0".repeat(zeros) + ".0";
    else if (point > 0 && point <= 16) s = digits.slice(0, point) + "." + digits.slice(point);
    else if (point > -5 && point <= 0) s = "0." + "0".repeat(-point) + digits;
    else {
      var exponent = (point > 0 ? "e+" : "e") + (point - 1);
      s = (digits.length === 1 ? digits : digits[0] + "." + digits.slice(1)) + exponent;
    }
    return sign + s;
  }
  // Integers with thousands separators (exact: large ones arrive as text).
  function intText(v) {
    return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function numeric(column) {
    if (column.length && typeof column[0] === "string") return column.map(Number);
    return column;
  }

  var curves = DATA.curves;
  var modes = [DATA.mode, DATA.mode === "formula" ? "trainer" : "formula"];
  curves.forEach(function (c, i) {
    c.index = i;
    c.color = COLORS[i % COLORS.length];
    c.num = {};
    Object.keys(c.counters).forEach(function (k) {
      c.num[k] = numeric(c.counters[k]);
    });
  });
  // One series per curve and mode: the main mode first, then the other where it differs.
  var series = [];
  modes.forEach(function (mode, m) {
    curves.forEach(function (c) {
      if (c.values[mode]) series.push({ curve: c, mode: mode, alt: m > 0, values: c.values[mode] });
    });
  });
  var hasAlt = series.some(function (s) {
    return s.alt;
  });
  var unitsOk = {
    ba: true,
    sp: true,
    tok: true,
    dur: true,
    ep: curves.every(function (c) {
      return c.dataloader_len !== null;
    }),
  };
  var lrOk = series.every(function (s) {
    return s.values.lr !== undefined;
  });

  var state = { unit: DATA.x_unit, axis: DATA.y_axis, log: DATA.log_y, alt: false };
  var plot = null;
  var xCache = {};

  function xOf(c, unit) {
    var key = c.index + " " + unit;
    if (xCache[key]) return xCache[key];
    var b = c.num.batch;
    var out;
    if (unit === "ba") out = b;
    else if (unit === "sp") out = c.num.sample;
    else if (unit === "tok") out = c.num.token;
    else if (unit === "ep") out = b.map(function (v) { return v / c.dataloader_len; });
    else out = b.map(function (v) { return v / c.batches; });
    xCache[key] = out;
    return out;
  }
  function markX(c, mark, unit) {
    var b = Number(mark.batch);
    if (unit === "ba") return b;
    if (unit === "sp") return Number(mark.sample);
    if (unit === "tok") return Number(mark.token);
    if (unit === "ep") return b / c.dataloader_len;
    return b / c.batches;
  }
  function yOf(s) {
    var v = s.values[state.axis];
    if (!state.log) return v;
    return v.map(function (y) {
      return y !== null && y > 0 ? y : null;
    });
  }
  function visible(i) {
    return plot && plot.series[i + 1].show;
  }

  // -- number formats on the axes ------------------------------------------------------------
  function tickText(v) {
    if (v === null || v === undefined) return "";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
    return Number(v.toPrecision(6)).toLocaleString("en-US", { maximumFractionDigits: 6 });
  }

  // Tick steps for the x axis: 1, 2, 2.5, 5 times powers of ten, never finer than a few units
  // in the last place of the values (deep zooms into 10^12 batches would otherwise ask for
  // ticks that floating point cannot tell apart), nor than 1 for counted units.
  var STEPS = [];
  for (var e = -16; e <= 19; e++) [1, 2, 2.5, 5].forEach(function (m) { STEPS.push(m * Math.pow(10, e)); });
  function xIncrs(u, axisIdx, min, max) {
    var floor = Math.max(Math.abs(min), Math.abs(max)) * 1e-14;
    if (state.unit === "ba" || state.unit === "sp" || state.unit === "tok") floor = Math.max(floor, 1);
    return STEPS.filter(function (v) { return v >= floor; });
  }
  // The narrowest x range a zoom may show around `at`.
  function minSpan(at) {
    var counted = state.unit === "ba" || state.unit === "sp" || state.unit === "tok";
    return Math.max(Math.abs(at) * 1e-12, counted ? 1 : 0, 1e-300);
  }

  // The y range of what is in view, padded; one value alone (deep zoom on a flat stretch) gets
  // a range around it, not an empty one.
  var Y_PAD = { min: { pad: 0.1, soft: 0, mode: 3 }, max: { pad: 0.1, soft: 0, mode: 3 } };
  function yRange(u, min, max) {
    if (min === null || max === null || !isFinite(min) || !isFinite(max)) return state.log ? [1e-3, 1] : [0, 1];
    if (state.log) return min === max ? [min / 2, max * 2] : uPlot.rangeLog(min, max, 10, false);
    var r = uPlot.rangeNum(min, max, Y_PAD);
    // uPlot rounds its padding to round numbers, which collapses a range like 0.9999999999..1
    if (!(r[1] > r[0]) || r[0] > min || r[1] < max) {
      var pad = Math.max((max - min) * 0.1, Math.abs(max) * 1e-12, 1e-300);
      r = [min - pad, max + pad];
    }
    return r;
  }

  // Powers of ten within [min, max]; inside one decade, 1, 2 and 5 times its power.
  function logSplits(u, axisIdx, min, max) {
    var out = [];
    var lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    for (var e = lo; e <= hi && out.length < 400; e++) {
      var v = Number("1e" + e);
      if (v >= min && v <= max) out.push(v);
    }
    if (out.length >= 2) return out;
    out = [];
    for (var k = lo; k <= hi; k++)
      [1, 2, 5].forEach(function (m) {
        var v = Number(m + "e" + k);
        if (v >= min && v <= max) out.push(v);
      });
    return out.length ? out : [min, max];
  }

  // -- drawing -------------------------------------------------------------------------------
  function build() {
    var el = document.getElementById("chart");
    var width = Math.max(320, el.clientWidth || 900);
    if (plot) {
      plot.destroy();
      plot = null;
    }
    var tables = series.map(function (s) {
      return [xOf(s.curve, state.unit), yOf(s)];
    });
    var data = uPlot.join(tables);
    var opts = {
      // No chart title: the page's heading already names it.
      width: width,
      height: Math.round(Math.min(560, Math.max(320, width * 0.5))),
      scales: {
        x: { time: false },
        y: { distr: state.log ? 3 : 1, log: 10, range: yRange },
      },
      axes: [
        {
          label: AXIS_NAMES[state.unit],
          incrs: xIncrs,
          values: function (u, vals) { return vals.map(tickText); },
          grid: { stroke: "#0001" },
        },
        {
          label: state.axis === "lr" ? "learning rate" : "LR multiplier",
          size: 70,
          // On a log axis, lines and ticks at powers of ten only (not at 2, 3, ... 9 of each).
          splits: state.log ? logSplits : undefined,
          values: function (u, vals) { return vals.map(tickText); },
          grid: { stroke: "#0001" },
        },
      ],
      series: [{ label: AXIS_NAMES[state.unit] }].concat(
        series.map(function (s) {
          return {
            label: s.curve.label + (hasAlt ? " · " + MODE_NAMES[s.mode] : ""),
            stroke: s.curve.color,
            width: s.alt ? 1.5 : 2,
            dash: s.alt ? [6, 4] : undefined,
            spanGaps: true,
            show: !s.alt || state.alt,
            points: { show: false },
          };
        })
      ),
      legend: { live: false },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        points: { show: false },
        bind: { mousedown: panOrSelect },
      },
      hooks: {
        draw: [drawMarks],
        setCursor: [hover],
        setSeries: [function () { hover(plot); }],
      },
    };
    plot = new uPlot(opts, data, el);
    // Curves of the other mode stay out of the legend until they are switched on.
    var entries = plot.root.querySelectorAll(".u-legend .u-series");
    var first = entries.length - series.length; // 1 when the legend lists the x series too
    series.forEach(function (s, i) {
      if (s.alt && entries[first + i]) entries[first + i].classList.add("alt");
    });
    plot.over.addEventListener("wheel", wheelZoom, { passive: false });
    plot.over.addEventListener("mouseleave", function () { tip.hidden = true; dot.hidden = true; });
    plot.over.appendChild(tip);
    plot.over.appendChild(dot);
    document.body.dataset.xUnit = state.unit;
    window.schedReport.readyAt = window.schedReport.readyAt || performance.now();
    document.body.dataset.ready = "1";
  }

  function drawMarks(u) {
    var ctx = u.ctx;
    var box = u.bbox;
    var seen = {};
    var labelled = [];
    var dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.width, box.height);
    ctx.clip();
    ctx.lineWidth = dpr;
    ctx.font = Math.round(11 * dpr) + "px system-ui, sans-serif";
    series.forEach(function (s, i) {
      if (s.alt || !u.series[i + 1].show) return;
      s.curve.marks.forEach(function (mark) {
        var x = markX(s.curve, mark, state.unit);
        var key = x + "\u0000" + mark.label;
        if (seen[key]) return;
        seen[key] = true;
        var px = u.valToPos(x, "x", true);
        if (px < box.left - 1 || px > box.left + box.width + 1) return;
        ctx.strokeStyle = s.curve.color + "99";
        ctx.setLineDash([4 * dpr, 4 * dpr]);
        ctx.beginPath();
        ctx.moveTo(px, box.top);
        ctx.lineTo(px, box.top + box.height);
        ctx.stroke();
        if (DATA.mark_labels) {
          // Read bottom to top, just right of the line, ending at the top of the plot. A label
          // already written close by (the same milestone of another SSR) is not written again;
          // labels of other marks close by stand side by side instead of on top of each other.
          var near = labelled.filter(function (l) { return Math.abs(l.px - px) < 13 * dpr; });
          if (near.some(function (l) { return l.label === mark.label; })) return;
          var beside = near.length;
          labelled.push({ px: px, label: mark.label });
          ctx.save();
          ctx.translate(px + (3 + 13 * beside) * dpr, box.top + 4 * dpr);
          ctx.rotate(-Math.PI / 2);
          ctx.textAlign = "right";
          ctx.textBaseline = "top";
          ctx.setLineDash([]);
          ctx.lineWidth = 3 * dpr;
          ctx.strokeStyle = "#fff";
          ctx.strokeText(mark.label, 0, 0);
          ctx.fillStyle = s.curve.color;
          ctx.fillText(mark.label, 0, 0);
          ctx.restore();
        }
      });
    });
    ctx.restore();
  }

  // -- hover: the nearest point of any visible curve, exact values -----------------------------
  var tip = document.createElement("div");
  tip.id = "tip";
  tip.hidden = true;
  var dot = document.createElement("div");
  dot.id = "dot";
  dot.hidden = true;

  function lowerBound(xs, v) {
    var lo = 0, hi = xs.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (xs[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // The point nearest to the pointer in pixels, among points within 24 px horizontally (else
  // the nearest horizontally): at a step, both sides of it are candidates, and the pointer's
  // height picks one.
  function nearest(u, left, top) {
    var best = null;
    var xMin = u.posToVal(left - 24, "x"), xMax = u.posToVal(left + 24, "x");
    series.forEach(function (s, i) {
      if (!u.series[i + 1].show) return;
      var xs = xOf(s.curve, state.unit);
      var ys = s.values[state.axis];
      if (!xs.length) return;
      var from = Math.max(0, lowerBound(xs, xMin) - 1);
      var to = Math.min(xs.length - 1, lowerBound(xs, xMax));
      if (to - from > 4000) {
        var mid = lowerBound(xs, u.posToVal(left, "x"));
        from = Math.max(0, mid - 2000);
        to = Math.min(xs.length - 1, mid + 2000);
      }
      for (var j = from; j <= to; j++) {
        var y = ys[j];
        if (y === null || (state.log && y <= 0)) continue;
        var dx = u.valToPos(xs[j], "x") - left;
        var dy = u.valToPos(y, "y") - top;
        var d = dx * dx + dy * dy;
        if (best === null || d < best.d) best = { d: d, s: s, j: j, px: dx + left, py: dy + top };
      }
    });
    return best;
  }

  var FIELDS = [
    ["batch", "batch", "int"],
    ["epoch", "epoch", "int"],
    ["sample", "sample", "int"],
    ["token", "token", "int"],
    ["duration", "duration", "float"],
  ];

  function rowsOf(hit) {
    var c = hit.s.curve, j = hit.j;
    var rows = [["curve", c.label, c.label], ["ssr", String(c.ssr), exportText(c.ssr)]];
    if (hasAlt) rows.push(["mode", MODE_NAMES[hit.s.mode], hit.s.mode]);
    FIELDS.forEach(function (f) {
      var v = c.counters[f[0]][j];
      rows.push([f[1], f[2] === "int" ? intText(v) : exportText(v), f[2] === "int" ? String(v) : exportText(v)]);
    });
    rows.push(["multiplier", exportText(hit.s.values.multiplier[j]), exportText(hit.s.values.multiplier[j])]);
    if (hit.s.values.lr !== undefined) rows.push(["lr", exportText(hit.s.values.lr[j]), exportText(hit.s.values.lr[j])]);
    var b = String(c.counters.batch[j]);
    var at = c.marks.filter(function (m) { return String(m.batch) === b; }).map(function (m) { return m.label; });
    if (at.length) rows.push(["breakpoint", at.join(", "), at.join(", ")]);
    return rows;
  }

  function hover(u) {
    if (!u) return;
    var left = u.cursor.left, top = u.cursor.top;
    if (left === undefined || left < 0) {
      tip.hidden = true;
      dot.hidden = true;
      return;
    }
    var hit = nearest(u, left, top);
    if (!hit) {
      tip.hidden = true;
      dot.hidden = true;
      return;
    }
    var rows = rowsOf(hit);
    // The readout under the chart: a table, each value also in data-value as export writes it.
    var readout = document.getElementById("readout");
    var table = document.createElement("table");
    table.id = "readout-table";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = r[0];
      var td = document.createElement("td");
      td.textContent = r[1];
      td.dataset.field = r[0];
      td.dataset.value = r[2];
      tr.appendChild(th);
      tr.appendChild(td);
      table.appendChild(tr);
    });
    readout.replaceChildren(readout.firstElementChild, table);
    // The tooltip by the pointer.
    tip.replaceChildren();
    rows.forEach(function (r) {
      var line = document.createElement("div");
      var key = document.createElement("span");
      key.textContent = r[0] + " ";
      var val = document.createElement("b");
      val.textContent = r[1];
      line.appendChild(key);
      line.appendChild(val);
      tip.appendChild(line);
    });
    tip.style.borderColor = hit.s.curve.color;
    tip.hidden = false;
    var w = u.over.clientWidth, h = u.over.clientHeight;
    var tx = hit.px + 14, ty = hit.py + 14;
    if (tx + tip.offsetWidth > w) tx = hit.px - tip.offsetWidth - 14;
    if (ty + tip.offsetHeight > h) ty = Math.max(0, hit.py - tip.offsetHeight - 14);
    tip.style.left = tx + "px";
    tip.style.top = ty + "px";
    dot.style.left = hit.px + "px";
    dot.style.top = hit.py + "px";
    dot.style.background = hit.s.curve.color;
    dot.hidden = false;
  }

  // -- zoom and pan --------------------------------------------------------------------------
  function fullRange() {
    var lo = Infinity, hi = -Infinity;
    series.forEach(function (s) {
      var xs = xOf(s.curve, state.unit);
      if (xs.length) {
        lo = Math.min(lo, xs[0]);
        hi = Math.max(hi, xs[xs.length - 1]);
      }
    });
    return [lo, hi];
  }
  function setX(lo, hi) {
    var full = fullRange();
    var span = Math.min(Math.max(hi - lo, minSpan((lo + hi) / 2)), full[1] - full[0]);
    if (!(span > 0)) return;
    var centre = (lo + hi) / 2;
    lo = centre - span / 2;
    hi = centre + span / 2;
    if (lo < full[0]) { lo = full[0]; hi = lo + span; }
    if (hi > full[1]) { hi = full[1]; lo = hi - span; }
    plot.setScale("x", { min: lo, max: hi });
  }
  function wheelZoom(e) {
    e.preventDefault();
    var u = plot;
    var at = u.posToVal(e.offsetX, "x");
    var lo = u.scales.x.min, hi = u.scales.x.max;
    var f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
    setX(at - (at - lo) * f, at + (hi - at) * f);
  }
  function panOrSelect(u, targ, handler) {
    return function (e) {
      if (!e.shiftKey && e.button !== 1) return handler(e);
      // (no preventDefault: uPlot listens passively; the chart's text is not selectable anyway)
      var startX = e.clientX, lo = u.scales.x.min, hi = u.scales.x.max;
      var perPx = (hi - lo) / u.over.clientWidth;
      function move(ev) {
        var dx = (ev.clientX - startX) * perPx;
        setX(lo - dx, hi - dx);
      }
      function up() {
        document.removeEventListener("mousemove", move);
        document.removeEventListener("mouseup", up);
      }
      document.addEventListener("mousemove", move);
      document.addEventListener("mouseup", up);
      return null;
    };
  }

  // -- switches ------------------------------------------------------------------------------
  function radios(name, onChange) {
    document.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.checked) onChange(input.value);
      });
    });
  }
  document.querySelectorAll('input[name="x"]').forEach(function (input) {
    if (!unitsOk[input.value]) {
      input.disabled = true;
      input.parentElement.title = "epochs need dataloader_len in every spec";
    }
  });
  if (!lrOk) {
    var lrInput = document.querySelector('input[name="y"][value="lr"]');
    lrInput.disabled = true;
    lrInput.parentElement.title = "no base LR: set lr in the spec or pass --lr";
  }
  radios("x", function (v) { state.unit = v; build(); });
  radios("y", function (v) { state.axis = v; build(); });
  radios("scale", function (v) { state.log = v === "log"; build(); });
  document.getElementById("reset").addEventListener("click", function () {
    var full = fullRange();
    plot.setScale("x", { min: full[0], max: full[1] });
  });
  if (hasAlt) {
    var other = modes[1];
    document.getElementById("alt-wrap").hidden = false;
    document.getElementById("alt-label").textContent =
      "also show " + (other === "trainer" ? "what Composer's Trainer applies (--as-trainer)" : "the formula") + ", dashed";
    document.getElementById("alt").addEventListener("change", function (e) {
      state.alt = e.target.checked;
      document.body.classList.toggle("show-alt", state.alt);
      series.forEach(function (s, i) {
        if (s.alt) plot.setSeries(i + 1, { show: state.alt });
      });
    });
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var el = document.getElementById("chart");
      var width = Math.max(320, el.clientWidth);
      plot.setSize({ width: width, height: Math.round(Math.min(560, Math.max(320, width * 0.5))) });
    }, 100);
  });

  // For tests and the curious: the plot, the series and the number formatter.
  window.schedReport = {
    plot: function () { return plot; },
    series: series,
    xOf: function (i) { return xOf(series[i].curve, state.unit); },
    // Where series i draws its point at `batch`, in page pixels (null if it has none there);
    // with zoom, first narrow the x axis to that point's neighbourhood.
    pointAt: function (i, batch, zoom) {
      var s = series[i], b = s.curve.counters.batch, key = String(batch), j = -1;
      for (var k = 0; k < b.length; k++) if (String(b[k]) === key) { j = k; break; }
      if (j < 0) return null;
      var xs = xOf(s.curve, state.unit);
      if (zoom) {
        // Centred on the point, half way to its nearer neighbour on either side.
        var gaps = [];
        if (j > 0) gaps.push(xs[j] - xs[j - 1]);
        if (j + 1 < xs.length) gaps.push(xs[j + 1] - xs[j]);
        var half = Math.max(gaps.length ? Math.min.apply(null, gaps) / 2 : 1, minSpan(xs[j]) / 2);
        // batch: commit the new scale now, not in a microtask, so the pixels below are for it
        plot.batch(function (u) {
          u.setScale("x", { min: xs[j] - half, max: xs[j] + half });
        });
      }
      var box = plot.over.getBoundingClientRect();
      return [box.left + plot.valToPos(xs[j], "x"), box.top + plot.valToPos(s.values[state.axis][j], "y")];
    },
    exportText: exportText,
  };
  build();
})();
