/* The dashboard's page script: builds the ECharts visuals from the JSON embedded in the page and
 * re-draws them, and the KPI cards, when the meter or date filter changes.
 *
 * Every figure is re-aggregated here from sums per meter and day (and per meter and hour for the
 * trend), never from averages, so with no filter the page shows the marts' own figures and any
 * selection adds up the same way the marts do. No network: ECharts is inlined before this file.
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dashboard-data').textContent);
  var NDASH = '\u2013', NBSP = '\u202f';
  var COLOURS = { Night: '#1e3a8a', Morning: '#f59e0b', Afternoon: '#ea580c', Evening: '#7c3aed' };
  var ACCENT = '#2563eb', BAR = '#0f766e', TARGET = '#dc2626', MUTED = '#64748b';
  var charts = {};

  // ---- formatting (the same as dashboard/fmt.py) ----
  function group(text) {
    var neg = text.charAt(0) === '-', s = neg ? text.slice(1) : text;
    var dot = s.indexOf('.'), int = dot < 0 ? s : s.slice(0, dot), frac = dot < 0 ? '' : s.slice(dot);
    var out = '';
    while (int.length > 3) { out = ',' + int.slice(-3) + out; int = int.slice(0, -3); }
    return (neg ? '-' : '') + int + out + frac;
  }
  function fmt(v, digits, unit) {
    if (v === null || v === undefined || isNaN(v)) return NDASH;
    var text = group(Number(v).toFixed(digits));
    return unit ? text + NBSP + unit : text;
  }
  function fmtPct(share, digits) {
    if (share === null || share === undefined) return NDASH;
    digits = digits === undefined ? 1 : digits;
    var smallest = Math.pow(10, -digits);
    if (share * 100 > 0 && Math.abs(share * 100) < smallest) return '<' + smallest.toFixed(digits) + NBSP + '%';
    return (share * 100).toFixed(digits) + NBSP + '%';
  }
  function fmtEnergy(kwh) {
    if (kwh === null || kwh === undefined) return NDASH;
    if (Math.abs(kwh) >= 10000) return fmt(kwh / 1000, 1, 'MWh');
    return fmt(kwh, Math.abs(kwh) < 1000 ? 1 : 0, 'kWh');
  }
  // Tooltips: exact values (kWh to the watt-hour, watts to a tenth).
  function kwhExact(v) { return fmt(v, 3, 'kWh'); }
  function wattsExact(v) { return fmt(v, 1, 'W'); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }

  // ---- the filter state ----
  var meterSel = document.getElementById('meter-filter');
  var fromInput = document.getElementById('date-from');
  var toInput = document.getElementById('date-to');
  var resetButton = document.getElementById('filter-reset');

  function state() {
    var from = fromInput && fromInput.value ? fromInput.value : D.days[0];
    var to = toInput && toInput.value ? toInput.value : D.days[D.days.length - 1];
    if (from && to && from > to) { var t = from; from = to; to = t; }
    return { meter: meterSel ? meterSel.value : '', from: from, to: to };
  }
  function isFiltered(s) {
    return s.meter !== '' || s.from !== D.days[0] || s.to !== D.days[D.days.length - 1];
  }
  // Indices of the meter-days in the selection.
  function selectRows(s) {
    var md = D.meterDays, rows = [];
    for (var i = 0; i < md.meter.length; i++) {
      var day = D.days[md.day[i]];
      if (s.meter !== '' && D.meters[md.meter[i]] !== s.meter) continue;
      if (day < s.from || day > s.to) continue;
      rows.push(i);
    }
    return rows;
  }

  // ---- aggregation ----
  function kpis(rows) {
    var md = D.meterDays, n = 0, wn = 0, w = 0, kwh = 0, v = 0, vn = 0, hd = 0, an = 0;
    var meters = {}, days = {};
    rows.forEach(function (i) {
      n += md.readings[i]; w += md.watts[i]; wn += md.wattsReadings[i]; kwh += md.kwh[i];
      v += md.volts[i]; vn += md.voltReadings[i]; hd += md.highDemand[i]; an += md.anomalies[i];
      meters[md.meter[i]] = 1; days[md.day[i]] = 1;
    });
    var nd = Object.keys(days).length;
    return {
      readings: n, meters: Object.keys(meters).length, days: nd,
      avgWatts: wn ? w / wn : null, totalKwh: n ? kwh : null, avgDailyKwh: nd ? kwh / nd : null,
      highDemand: n ? hd / n : null, anomaly: n ? an / n : null, avgVoltage: vn ? v / vn : null
    };
  }
  function topMeters(totals, n) {
    return Object.keys(totals).sort(function (a, b) {
      return totals[b] - totals[a] || (a < b ? -1 : a > b ? 1 : 0);
    }).slice(0, n);
  }
  function daypart(rows) {
    var md = D.meterDays, by = {}, totals = {};
    rows.forEach(function (i) {
      var m = D.meters[md.meter[i]], p = md.dayparts[i];
      if (!by[m]) { by[m] = D.dayparts.map(function () { return 0; }); totals[m] = 0; }
      for (var k = 0; k < p.length; k++) { by[m][k] += p[k]; totals[m] += p[k]; }
    });
    var top = topMeters(totals, D.topN);
    return { meters: top, kwh: top.map(function (m) { return by[m]; }), totals: top.map(function (m) { return totals[m]; }) };
  }
  function dailyPerMeter(rows) {
    var md = D.meterDays, sum = {}, cnt = {};
    rows.forEach(function (i) {
      var m = D.meters[md.meter[i]];
      sum[m] = (sum[m] || 0) + md.kwh[i]; cnt[m] = (cnt[m] || 0) + 1;
    });
    var avg = {}, all = Object.keys(sum), total = 0;
    all.forEach(function (m) { avg[m] = sum[m] / cnt[m]; total += avg[m]; });
    var top = topMeters(avg, D.topN);
    return {
      meters: top, avg: top.map(function (m) { return avg[m]; }), days: top.map(function (m) { return cnt[m]; }),
      mean: all.length ? total / all.length : null
    };
  }
  function target(rows) {
    var md = D.meterDays, byDay = {};
    rows.forEach(function (i) { byDay[md.day[i]] = (byDay[md.day[i]] || 0) + md.kwh[i]; });
    var idx = Object.keys(byDay).map(Number).sort(function (a, b) { return a - b; });
    if (!idx.length) return null;
    var values = idx.map(function (d) { return byDay[d]; });
    var sum = values.reduce(function (a, b) { return a + b; }, 0);
    var last = D.days[idx[idx.length - 1]];
    var window = D.rollingDays || 7, lastMs = Date.parse(last + 'T00:00:00Z');
    var tsum = 0, tn = 0;
    idx.forEach(function (d, k) {
      var age = (lastMs - Date.parse(D.days[d] + 'T00:00:00Z')) / 86400000;
      if (age < window) { tsum += values[k]; tn++; }
    });
    return {
      asOf: last, avg: sum / values.length, min: Math.min.apply(null, values),
      max: Math.max.apply(null, values), target: tsum / tn, rollingDays: tn,
      days: idx.map(function (d) { return D.days[d]; }), values: values
    };
  }
  function trend(s) {
    var out = [];
    function inRange(ms) {
      var day = new Date(ms).toISOString().slice(0, 10);
      return day >= s.from && day <= s.to;
    }
    if (s.meter === '') {
      for (var i = 0; i < D.trend.at.length; i++) {
        if (inRange(D.trend.at[i])) out.push([D.trend.at[i], D.trend.watts[i]]);
      }
      return out;
    }
    var h = D.hours, m = D.meters.indexOf(s.meter);
    for (var j = 0; j < h.meter.length; j++) {
      if (h.meter[j] === m && inRange(h.at[j])) out.push([h.at[j], h.watts[j] / h.readings[j]]);
    }
    return out;
  }

  // ---- drawing ----
  function chart(name) {
    if (charts[name]) return charts[name];
    var el = document.querySelector('[data-echart="' + name + '"]');
    if (!el) return null;
    charts[name] = echarts.init(el, null, { renderer: 'canvas' });
    return charts[name];
  }
  var GRID = { left: 8, right: 24, top: 28, bottom: 8, containLabel: true };
  var TOOLTIP = { confine: true, className: 'sg-tooltip', transitionDuration: 0, backgroundColor: 'rgba(255,255,255,.97)', textStyle: { fontSize: 12 } };
  function tip(extra) { var t = {}; Object.keys(TOOLTIP).forEach(function (k) { t[k] = TOOLTIP[k]; }); Object.keys(extra).forEach(function (k) { t[k] = extra[k]; }); return t; }

  function drawTrend(points, meter) {
    var c = chart('global-watts-trend');
    if (!c) return 0;
    var mean = null;
    if (points.length) mean = points.reduce(function (a, p) { return a + p[1]; }, 0) / points.length;
    c.setOption({
      animation: false, grid: GRID,
      tooltip: tip({
        trigger: 'axis',
        formatter: function (ps) {
          var p = ps[0];
          return esc(new Date(p.value[0]).toISOString().slice(0, 16).replace('T', ' ')) + ' UTC<br>' +
            (meter ? esc(meter) : 'Fleet') + ' average: <b>' + wattsExact(p.value[1]) + '</b>';
        }
      }),
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: 'W', scale: false, axisLabel: { color: MUTED } },
      dataZoom: [{ type: 'inside' }],
      series: [{
        name: meter || 'Fleet', type: 'line', showSymbol: false, data: points,
        lineStyle: { width: 1.6, color: ACCENT }, itemStyle: { color: ACCENT },
        areaStyle: { color: 'rgba(37,99,235,.08)' },
        markLine: mean === null ? undefined : {
          symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#475569' },
          label: { position: 'insideEndTop', formatter: 'mean ' + fmt(mean, 0, 'W') }, data: [{ yAxis: mean }]
        }
      }]
    }, true);
    return points.length;
  }
  function drawDaypart(dp) {
    var c = chart('meter-energy-by-daypart');
    if (!c) return 0;
    c.setOption({
      animation: false, grid: GRID,
      legend: { top: 0, itemWidth: 12, itemHeight: 10 },
      tooltip: tip({
        trigger: 'axis', axisPointer: { type: 'shadow' },
        formatter: function (ps) {
          var total = 0, lines = ps.map(function (p) {
            total += p.value;
            return p.marker + esc(p.seriesName) + ': <b>' + kwhExact(p.value) + '</b>';
          });
          return '<b>' + esc(ps[0].name) + '</b><br>' + lines.join('<br>') + '<br>Total: <b>' + kwhExact(total) + '</b>';
        }
      }),
      xAxis: { type: 'category', data: dp.meters, axisLabel: { rotate: dp.meters.length > 6 ? 35 : 0, fontSize: 10 } },
      yAxis: { type: 'value', name: 'kWh' },
      series: D.dayparts.map(function (p, k) {
        return {
          name: p, type: 'bar', stack: 'kwh', itemStyle: { color: COLOURS[p] },
          data: dp.kwh.map(function (row) { return row[k]; })
        };
      })
    }, true);
    return dp.meters.length;
  }
  function drawDaily(daily) {
    var c = chart('daily-kwh-per-meter');
    if (!c) return 0;
    c.setOption({
      animation: false, grid: GRID,
      tooltip: tip({
        trigger: 'axis', axisPointer: { type: 'shadow' },
        formatter: function (ps) {
          var p = ps[0];
          return '<b>' + esc(p.name) + '</b><br>Average daily: <b>' + kwhExact(p.value) + '</b><br>' +
            daily.days[p.dataIndex] + ' day' + (daily.days[p.dataIndex] === 1 ? '' : 's');
        }
      }),
      yAxis: { type: 'category', data: daily.meters, inverse: true, axisLabel: { fontSize: 10 } },
      xAxis: { type: 'value', name: 'kWh/day' },
      series: [{
        name: 'Average daily kWh', type: 'bar', data: daily.avg, itemStyle: { color: BAR },
        label: { show: true, position: 'right', formatter: function (p) { return fmt(p.value, 1); }, fontSize: 10 },
        markLine: daily.mean === null ? undefined : {
          symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#475569' },
          label: { position: 'insideEndTop', formatter: 'mean ' + fmt(daily.mean, 1, 'kWh') }, data: [{ xAxis: daily.mean }]
        }
      }]
    }, true);
    return daily.meters.length;
  }
  function drawTarget(t) {
    var g = chart('target-daily-kwh'), h = chart('target-daily-history');
    if (!g) return 0;
    var facts = document.querySelector('[data-gauge-facts]');
    if (!t) {
      g.clear(); if (h) h.clear();
      if (facts) facts.innerHTML = '<div><b>' + NDASH + '</b>no days selected</div>';
      return 0;
    }
    var lo = t.min, hi = t.max;
    if (hi - lo < 1e-9) { var pad = Math.abs(hi) * 0.05 || 1; lo -= pad; hi += pad; }
    g.setOption({
      animation: false,
      tooltip: tip({
        trigger: 'item',
        formatter: function (p) { return esc(p.name) + ': <b>' + kwhExact(p.value) + '</b>'; }
      }),
      series: [{
        name: 'Target Daily kWh', type: 'gauge', min: lo, max: hi, startAngle: 180, endAngle: 0,
        radius: '150%', center: ['50%', '88%'], splitNumber: 4,
        progress: { show: true, width: 22, itemStyle: { color: ACCENT } },
        axisLine: { lineStyle: { width: 22, color: [[1, '#e7ecf4']] } },
        pointer: { show: false }, anchor: { show: false },
        axisTick: { show: false }, splitLine: { show: false },
        axisLabel: { distance: -52, fontSize: 10, color: MUTED, formatter: function (v) { return fmt(v, 0); } },
        title: { show: false },
        detail: { valueAnimation: false, offsetCenter: [0, '-12%'], fontSize: 30, fontWeight: 600, formatter: function (v) { return fmt(v, 1, 'kWh'); } },
        data: [{ value: t.avg, name: 'Average daily' }]
      }, {
        name: 'Rolling target', type: 'gauge', min: lo, max: hi, startAngle: 180, endAngle: 0,
        radius: '150%', center: ['50%', '88%'], axisLine: { show: false }, axisTick: { show: false },
        splitLine: { show: false }, axisLabel: { show: false }, anchor: { show: false }, title: { show: false },
        detail: { show: false }, progress: { show: false },
        pointer: { show: true, icon: 'rect', length: '14%', width: 4, offsetCenter: [0, '-89%'], itemStyle: { color: TARGET } },
        data: [{ value: t.target, name: 'Rolling target' }]
      }]
    }, true);
    if (facts) {
      var gap = t.target ? (t.avg - t.target) / t.target : null;
      facts.innerHTML =
        '<div><b>' + fmt(t.avg, 1, 'kWh') + '</b>average daily</div>' +
        '<div class="t"><b>' + fmt(t.target, 1, 'kWh') + '</b>rolling target</div>' +
        '<div><b>' + (gap === null || gap < 0 ? '' : '+') + fmtPct(gap) + '</b>against target</div>' +
        '<div><b>' + t.days.length + '</b>days to ' + esc(t.asOf) + '</div>';
    }
    if (h) {
      h.setOption({
        animation: false, grid: { left: 8, right: 16, top: 10, bottom: 4, containLabel: true },
        tooltip: tip({
          trigger: 'axis', axisPointer: { type: 'shadow' },
          formatter: function (ps) { return esc(ps[0].name) + '<br>Daily energy: <b>' + kwhExact(ps[0].value) + '</b>'; }
        }),
        xAxis: { type: 'category', data: t.days, axisLabel: { fontSize: 9, formatter: function (d) { return d.slice(5); } } },
        yAxis: { type: 'value', axisLabel: { fontSize: 9 } },
        series: [{
          name: 'Daily energy', type: 'bar', data: t.values, itemStyle: { color: '#94a3b8' },
          markLine: { symbol: 'none', silent: true, lineStyle: { color: TARGET, type: 'dashed' }, label: { show: false }, data: [{ yAxis: t.target }] }
        }]
      }, true);
    }
    return t.days.length;
  }
  function setKpi(key, text, raw, sub) {
    var el = document.querySelector('[data-kpi="' + key + '"]');
    if (!el) return;
    el.querySelector('.value').textContent = text;
    el.setAttribute('data-value', raw === null || raw === undefined ? '' : String(raw));
    if (sub !== undefined) el.querySelector('.sub').textContent = sub;
  }
  function drawKpis(k) {
    setKpi('avg-watts', fmt(k.avgWatts, 0, 'W'), k.avgWatts);
    setKpi('total-kwh', fmtEnergy(k.totalKwh), k.totalKwh,
      group(String(k.meters)) + ' meter' + (k.meters === 1 ? '' : 's') + ' \u00b7 ' + k.days + ' day' + (k.days === 1 ? '' : 's'));
    setKpi('avg-daily-kwh', fmtEnergy(k.avgDailyKwh), k.avgDailyKwh);
    setKpi('high-demand-pct', fmtPct(k.highDemand), k.highDemand === null ? null : k.highDemand * 100);
    setKpi('anomaly-pct', fmtPct(k.anomaly), k.anomaly === null ? null : k.anomaly * 100);
    setKpi('avg-voltage', fmt(k.avgVoltage, 1, 'V'), k.avgVoltage);
  }
  function points(name, n) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (el) el.setAttribute('data-points', String(n));
  }

  // The whole page for the current filter; exposed for the browser test and the console.
  function update() {
    var s = state(), rows = selectRows(s);
    var figures = {
      filter: s, filtered: isFiltered(s), kpis: kpis(rows), daypart: daypart(rows),
      daily: dailyPerMeter(rows), target: target(rows), trend: trend(s)
    };
    if (D.hasMeterDays) drawKpis(figures.kpis);
    if (D.trend.at.length) points('global-watts-trend', drawTrend(figures.trend, s.meter));
    if (D.hasMeterDays) {
      points('meter-energy-by-daypart', drawDaypart(figures.daypart));
      points('daily-kwh-per-meter', drawDaily(figures.daily));
    }
    if (D.hasTarget && D.hasMeterDays) points('target-daily-kwh', drawTarget(figures.target));
    var badge = document.querySelector('[data-filter-summary]');
    if (badge) {
      badge.textContent = (s.meter ? s.meter : 'All meters') + ' \u00b7 ' + s.from + ' \u2013 ' + s.to;
    }
    window.smartgridDashboard.figures = figures;
    saveHash(s);
    document.documentElement.setAttribute('data-filtered', figures.filtered ? 'true' : 'false');
    return figures;
  }
  function reset() {
    if (meterSel) meterSel.value = '';
    if (fromInput) fromInput.value = D.days[0] || '';
    if (toInput) toInput.value = D.days[D.days.length - 1] || '';
    return update();
  }

  // The filters live in the URL's fragment (#meter=..&from=..&to=..), so a filtered view can be
  // bookmarked, and in the tab's sessionStorage, so a live page's meta refresh (--refresh),
  // which reloads the URL it was served with, keeps them too.
  var STORE = 'smartgrid-dashboard-filters:' + location.pathname;
  function stored(value) {
    try {
      if (value === undefined) return sessionStorage.getItem(STORE) || '';
      sessionStorage.setItem(STORE, value);
    } catch (e) { /* storage disabled: the fragment alone keeps the filters */ }
    return value;
  }
  function saveHash(s) {
    var parts = [];
    if (s.meter) parts.push('meter=' + encodeURIComponent(s.meter));
    if (s.from !== D.days[0]) parts.push('from=' + s.from);
    if (s.to !== D.days[D.days.length - 1]) parts.push('to=' + s.to);
    var hash = parts.length ? '#' + parts.join('&') : '';
    stored(hash);
    // location.replace: a same-document navigation that adds no history entry.
    if (hash !== location.hash && !(hash === '' && location.hash === '')) location.replace(hash || '#');
  }
  function loadHash() {
    var isoDay = /^\d{4}-\d{2}-\d{2}$/;
    (location.hash || stored()).replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('='), key = kv.slice(0, i), value;
      try { value = decodeURIComponent(kv.slice(i + 1)); } catch (e) { return; }
      if (key === 'meter' && meterSel && D.meters.indexOf(value) >= 0) meterSel.value = value;
      if (key === 'from' && fromInput && isoDay.test(value)) fromInput.value = value;
      if (key === 'to' && toInput && isoDay.test(value)) toInput.value = value;
    });
  }

  window.smartgridDashboard = { update: update, reset: reset, charts: charts, figures: null };
  [meterSel, fromInput, toInput].forEach(function (el) { if (el) el.addEventListener('change', update); });
  if (resetButton) resetButton.addEventListener('click', reset);
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  loadHash();
  update();
  var root = document.documentElement;
  root.setAttribute('data-page-height', String(Math.ceil(root.scrollHeight)));
  root.setAttribute('data-dashboard-ready', 'true');
})();
