/* Indicator trend charts (历年指标趋势). Loaded as a file (CSP script-src 'self'); the data and
   every label come from the page's json_script block, so this file holds no text to translate.
   One ECharts line chart per indicator: the catalogue reference band in force at each date as
   shaded areas (markArea), points coloured by flag, and a tooltip with date, value, unit, flag
   and, where it differs, the laboratory's own range. The tooltip is built from elements with
   classes (no inline style attributes: CSP style-src 'self'). */
(function () {
  "use strict";

  var FLAG_COLOURS = {
    N: "#2b8a3e",
    H: "#e8590c",
    L: "#e8590c",
    A: "#e8590c",
    HH: "#c92a2a",
    LL: "#c92a2a",
    "": "#868e96"
  };
  var LINE = "#5c7080";
  var BAND = "rgba(43, 138, 62, 0.12)";
  var DAY = 86400000;

  function escape(text) {
    return String(text === null || text === undefined ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function time(day) {
    var parts = day.split("-");
    return Date.UTC(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }

  // Consecutive points sharing one band make one shaded segment, from the first of them to the
  // first point of the next segment (the first and last segments reach the axis ends).
  function bandSegments(points, xMin, xMax, yMin, yMax) {
    var segments = [];
    points.forEach(function (p) {
      var last = segments[segments.length - 1];
      if (last && last.lo === p.lo && last.hi === p.hi) {
        return;
      }
      segments.push({ lo: p.lo, hi: p.hi, from: time(p.d) });
    });
    var areas = [];
    segments.forEach(function (s, i) {
      if (s.lo === null && s.hi === null) {
        return;
      }
      var from = i === 0 ? xMin : s.from;
      var to = i + 1 < segments.length ? segments[i + 1].from : xMax;
      areas.push([
        { xAxis: from, yAxis: s.lo === null ? yMin : Math.max(s.lo, yMin) },
        { xAxis: to, yAxis: s.hi === null ? yMax : Math.min(s.hi, yMax) }
      ]);
    });
    return areas;
  }

  // A step of 1, 2 or 5 × 10^n giving about four intervals, so the axis ends on tick labels.
  function niceStep(span) {
    var raw = span / 4;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (raw <= steps[i] * magnitude) { return steps[i] * magnitude; }
    }
    return 10 * magnitude;
  }

  // The value axis covers the results and the bands drawn behind them, with a margin, on
  // round numbers; results are not negative, so zero is the floor.
  function extent(chart) {
    var values = [];
    chart.points.forEach(function (p) {
      if (p.v !== null) { values.push(p.v); }
      if (p.lo !== null) { values.push(p.lo); }
      if (p.hi !== null) { values.push(p.hi); }
    });
    if (!values.length) { return [0, 1]; }
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    var step = niceStep(hi - lo + 2 * pad);
    var min = Math.floor((lo - pad) / step) * step;
    if (lo >= 0 && min < 0) { min = 0; }
    return [min, Math.ceil((hi + pad) / step) * step, step];
  }

  function tooltip(chart, labels) {
    return function (item) {
      var p = item.data.point;
      var shown = chart.ordinal ? p.s : p.s + (chart.unit ? " " + chart.unit : "");
      var html = '<div class="tt-title">' + escape(chart.name) + " " +
        '<span class="tt-muted">' + escape(chart.abbr) + "</span></div>" +
        '<div class="tt-row"><span class="tt-muted">' + escape(labels.date) + "</span> " + escape(p.d) + "</div>" +
        '<div class="tt-row"><span class="tt-muted">' + escape(labels.result) + "</span> " +
        '<strong class="tt-value">' + escape(shown) + "</strong> " +
        '<span class="tt-flag tt-flag-' + (p.f || "none") + '">' + escape(labels.flags[p.f] || p.f) + "</span></div>";
      if (p.bt) {
        html += '<div class="tt-row"><span class="tt-muted">' + escape(labels.range) + "</span> " + escape(p.bt) + "</div>";
      }
      if (p.sr) {
        html += '<div class="tt-row"><span class="tt-muted">' + escape(labels.source_range) + "</span> " + escape(p.sr) + "</div>";
      }
      if (p.sf) {
        html += '<div class="tt-row"><span class="tt-muted">' + escape(labels.source_flag) + "</span> " + escape(p.sf) + "</div>";
      }
      return html;
    };
  }

  function option(chart, labels) {
    var first = time(chart.points[0].d), last = time(chart.points[chart.points.length - 1].d);
    var margin = Math.max((last - first) * 0.04, 45 * DAY);
    // Start on 1 January of the first year when that leaves some room, so the axis opens on a
    // year label.
    var january = Date.UTC(new Date(first).getUTCFullYear(), 0, 1);
    var xMin = first - january >= 20 * DAY ? january : first - margin, xMax = last + margin;
    var y;
    var yAxis;
    if (chart.ordinal) {
      // Ranks 0…n−1 of the scale (阴性, ±, 1+, …), labelled with their names.
      var ranks = chart.scale.map(function (_label, i) { return i; });
      y = [-0.5, Math.max(chart.scale.length - 0.5, 1.5)];
      yAxis = {
        type: "value", min: y[0], max: y[1],
        axisLabel: {
          customValues: ranks,
          formatter: function (v) { return chart.scale[v] !== undefined ? chart.scale[v] : ""; }
        },
        axisTick: { customValues: ranks },
        splitLine: { show: false }
      };
    } else {
      y = extent(chart);
      yAxis = {
        type: "value", min: y[0], max: y[1], interval: y[2],
        axisLabel: {
          formatter: function (v) { return Number(v.toFixed(6)).toString(); }
        },
        splitLine: { lineStyle: { color: "#eef1f4" } }
      };
    }
    var areas = chart.ordinal
      ? [[{ xAxis: xMin, yAxis: y[0] }, { xAxis: xMax, yAxis: 0.5 }]]
      : bandSegments(chart.points, xMin, xMax, y[0], y[1]);
    var data = chart.points.map(function (p) {
      var colour = FLAG_COLOURS[p.f] || FLAG_COLOURS[""];
      var abnormal = p.f && p.f !== "N";
      return {
        value: [time(p.d), p.v],
        point: p,
        symbolSize: abnormal ? 9 : 7,
        itemStyle: { color: colour, borderColor: "#fff", borderWidth: 1 }
      };
    });
    return {
      animation: false,
      grid: { left: 8, right: 14, top: 12, bottom: 6, containLabel: true },
      tooltip: {
        trigger: "item",
        confine: true,
        className: "trend-tooltip",
        borderColor: "#d0d7de",
        formatter: tooltip(chart, labels)
      },
      xAxis: {
        type: "time", min: xMin, max: xMax, minInterval: 365 * DAY,
        axisLabel: { hideOverlap: true, showMinLabel: true, formatter: "{yyyy}" },
        splitLine: { show: false }
      },
      yAxis: yAxis,
      series: [{
        type: "line",
        name: chart.name,
        data: data,
        showAllSymbol: true,
        symbol: "circle",
        lineStyle: { color: LINE, width: 1.5 },
        connectNulls: true,
        markArea: { silent: true, itemStyle: { color: BAND }, data: areas }
      }]
    };
  }

  function draw() {
    var source = document.getElementById("trend-data");
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var payload = JSON.parse(source.textContent);
    var byCode = {};
    payload.charts.forEach(function (c) { byCode[c.code] = c; });
    var instances = [];
    document.querySelectorAll(".trend-chart[data-code]").forEach(function (el) {
      var chart = byCode[el.getAttribute("data-code")];
      if (!chart || !chart.points.length) {
        return;
      }
      var instance = window.echarts.init(el, null, { renderer: "canvas" });
      instance.setOption(option(chart, payload.labels));
      instances.push(instance);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        instances.forEach(function (i) { i.resize(); });
      }, 120);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
