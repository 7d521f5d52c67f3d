/* Usage charts (uPlot) and the expandable rows of the statistics page.
 *
 * The page embeds its data as JSON (Django's json_script: a data block, allowed by the strict
 * CSP); every label is translated on the server. The chart is decoration over the data table
 * that follows it, which is the text alternative. */
(function () {
  "use strict";

  var COLORS = {
    within: "#2453d6",
    over: "#b42318",
    mtd: "#147a4b",
    included: "#9a5b00",
    limit: "#1c2333",
  };

  function numbers(values) {
    return values.map(function (v) { return v === null ? null : Number(v); });
  }

  function constant(n, value) {
    var out = [];
    for (var i = 0; i < n; i++) { out.push(value === null ? null : Number(value)); }
    return out;
  }

  function fmt(unit) {
    return function (u, v) { return v === null || v === undefined ? "—" : v.toLocaleString() + " " + unit; };
  }

  function build(el, data) {
    var n = data.days.length;
    var values = numbers(data.values);
    var within = values.map(function (v, i) { return data.over[i] ? null : v; });
    var over = values.map(function (v, i) { return data.over[i] ? v : null; });
    var bars = uPlot.paths.bars({ size: [0.7, 64], align: 0 });
    // Rated per month, the included amount is compared with the month's running total (its
    // own scale, on the right); rated per day, with each day's value.
    var limitScale = data.per_day ? "y" : "mtd";
    var series = [
      {},
      { label: data.labels.within, scale: "y", paths: bars, points: { show: false },
        fill: COLORS.within + "cc", stroke: COLORS.within, value: fmt(data.unit) },
      { label: data.labels.over, scale: "y", paths: bars, points: { show: false },
        fill: COLORS.over + "dd", stroke: COLORS.over, value: fmt(data.unit) },
    ];
    var columns = [data.days, within, over];
    if (!data.per_day) {
      series.push({ label: data.labels.mtd, scale: "mtd", stroke: COLORS.mtd, width: 2,
        value: fmt(data.unit) });
      columns.push(numbers(data.mtd));
    }
    series.push({ label: data.labels.included, scale: limitScale, stroke: COLORS.included,
      width: 2, dash: [8, 4], points: { show: false }, value: fmt(data.unit) });
    columns.push(constant(n, data.included));
    if (data.limit !== null) {
      series.push({ label: data.labels.limit, scale: limitScale, stroke: COLORS.limit, width: 2,
        dash: [2, 3], points: { show: false }, value: fmt(data.unit) });
      columns.push(constant(n, data.limit));
    }
    // Day ticks only (never hours): the data is a value a day.
    var DAY = 86400;
    var axes = [
      { space: 70, incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 365 * DAY],
        values: function (u, splits) {
          return splits.map(function (ts) {
            return new Date(ts * 1000).toLocaleDateString(data.locale, { month: "short", day: "numeric", timeZone: "UTC" });
          });
        } },
      { scale: "y", label: data.labels.axis_daily, size: 70 },
    ];
    var scales = { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.1]; } } };
    if (!data.per_day) {
      axes.push({ scale: "mtd", side: 1, label: data.labels.axis_mtd, size: 80, grid: { show: false } });
      scales.mtd = { range: function (u, min, max) {
        var top = Math.max(max, Number(data.included), data.limit === null ? 0 : Number(data.limit), 1);
        return [0, top * 1.1];
      } };
    } else {
      scales.y.range = function (u, min, max) {
        var top = Math.max(max, Number(data.included), data.limit === null ? 0 : Number(data.limit), 1);
        return [0, top * 1.1];
      };
    }
    // Half a day of room each side, so the first and last bars are whole (and one day has a width).
    scales.x.range = function () { return [data.days[0] - 43200, data.days[n - 1] + 43200]; };
    var width = function () { return Math.max(el.clientWidth, 280); };
    var opts = {
      width: width(),
      height: 320,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      series: series,
      axes: axes,
      scales: scales,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
    var plot = new uPlot(opts, columns, el);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: 320 }); });
    el.setAttribute("data-ready", "1");
    return plot;
  }

  function charts() {
    var blocks = document.querySelectorAll("[data-usage-chart]");
    for (var i = 0; i < blocks.length; i++) {
      var el = blocks[i];
      var source = document.getElementById(el.getAttribute("data-usage-chart"));
      if (!source || typeof uPlot === "undefined") { continue; }
      build(el, JSON.parse(source.textContent));
    }
  }

  // The range radios submit the form at once; custom dates wait for the button.
  function rangeForms() {
    var forms = document.querySelectorAll("form[data-usage-range]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        var custom = form.querySelector("[data-custom-dates]");
        // Hidden dates are also disabled, so a named range does not send them.
        var showCustom = function (show) {
          if (!custom) { return; }
          custom.hidden = !show;
          var inputs = custom.querySelectorAll("input");
          for (var k = 0; k < inputs.length; k++) { inputs[k].disabled = !show; }
        };
        form.addEventListener("change", function (ev) {
          var t = ev.target;
          if (t.name !== "range") { return; }
          showCustom(t.value === "custom");
          if (t.value !== "custom") { form.submit(); }
        });
        var checked = form.querySelector("input[name=range]:checked");
        showCustom(!checked || checked.value === "custom");
      })(forms[i]);
    }
  }

  // Statistics page: a service row's button shows or hides its addon rows.
  function expanders() {
    var buttons = document.querySelectorAll("button[data-expands]");
    for (var i = 0; i < buttons.length; i++) {
      (function (btn) {
        var rows = document.querySelectorAll("[data-addon-of='" + btn.getAttribute("data-expands") + "']");
        var set = function (open) {
          btn.setAttribute("aria-expanded", open ? "true" : "false");
          for (var j = 0; j < rows.length; j++) { rows[j].hidden = !open; }
        };
        btn.hidden = false;
        set(btn.getAttribute("data-open") === "1");
        btn.addEventListener("click", function () { set(btn.getAttribute("aria-expanded") !== "true"); });
      })(buttons[i]);
    }
  }

  function init() { charts(); rangeForms(); expanders(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
