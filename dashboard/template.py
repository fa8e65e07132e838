"""The page around the charts: one stylesheet and the slots for the data and scripts, all inline.

No web fonts, no CDN: the file opens the same offline, from a mail attachment or a share.
"""

from __future__ import annotations

STYLE = """
:root {
  --bg: #f3f5f9; --card: #ffffff; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0;
  --accent: #2563eb; --bar: #0f766e; --target: #dc2626; --good: #15803d; --warn: #b45309;
  --head: #0b1b36;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink); }
body {
  font: 14px/1.45 "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial,
        "DejaVu Sans", sans-serif;
  -webkit-font-smoothing: antialiased;
}
header.top {
  background: linear-gradient(120deg, var(--head) 0%, #16325f 100%); color: #fff;
  padding: 22px 32px 20px; display: flex; justify-content: space-between; align-items: flex-end;
  gap: 24px; flex-wrap: wrap;
}
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; letter-spacing: .2px; }
header.top .subtitle { color: #c7d5ee; font-size: 13px; }
header.top .meta { color: #9fb3d6; font-size: 12px; text-align: right; }
header.top .meta code { color: #dbe6fa; }
.badge {
  display: inline-block; background: rgba(255,255,255,.12); color: #e6eefc; border-radius: 999px;
  padding: 2px 10px; margin-right: 6px; font-size: 12px;
}
main { padding: 22px 32px 8px; max-width: 1320px; margin: 0 auto; }
.kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 14px; margin-bottom: 16px; }
.kpi {
  background: var(--card); border-radius: 10px; padding: 14px 16px 12px; border: 1px solid var(--line);
  box-shadow: 0 1px 2px rgba(15,23,42,.04); border-top: 3px solid var(--accent);
}
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
.kpi .value { font-size: 26px; font-weight: 600; margin: 4px 0 2px; white-space: nowrap; }
.kpi .sub { color: var(--muted); font-size: 12px; }
.kpi.energy { border-top-color: var(--bar); }
.kpi.alert { border-top-color: var(--warn); }
.kpi.voltage { border-top-color: #7c3aed; }
.grid-2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin-bottom: 16px; }
.card {
  background: var(--card); border-radius: 10px; padding: 16px 18px 14px; border: 1px solid var(--line);
  box-shadow: 0 1px 2px rgba(15,23,42,.04); margin: 0 0 16px; min-width: 0;
}
.grid-2 > .card { margin: 0; }
.card h2 { font-size: 15px; font-weight: 600; margin: 0; }
.card .card-sub { color: var(--muted); font-size: 12px; margin: 2px 0 8px; }
.card-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; }
.gauge-wrap { max-width: 520px; margin: 0 auto; }
.echart { width: 100%; min-width: 0; }
.filters {
  display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; background: var(--card);
  border: 1px solid var(--line); border-radius: 10px; padding: 10px 16px; margin-bottom: 14px; font-size: 13px;
}
.filters label { color: var(--muted); display: flex; align-items: center; gap: 6px; }
.filters select, .filters input, .filters button {
  font: inherit; color: var(--ink); border: 1px solid #cbd5e1; border-radius: 6px; padding: 3px 8px; background: #fff;
}
.filters button { cursor: pointer; }
.filter-summary { font-weight: 600; }
.filter-note { color: var(--muted); font-size: 12px; margin-left: auto; }
.gauge-facts { display: flex; justify-content: space-around; margin: 6px 0 4px; text-align: center; }
.gauge-facts div { font-size: 12px; color: var(--muted); }
.gauge-facts b { display: block; font-size: 16px; color: var(--ink); font-weight: 600; }
.gauge-facts .t b { color: var(--target); }
.legend { list-style: none; display: flex; gap: 14px; margin: 0 0 6px; padding: 0; flex-wrap: wrap; }
.legend li { font-size: 12px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
.swatch { width: 11px; height: 11px; border-radius: 2px; display: inline-block; }
.empty {
  display: flex; align-items: center; justify-content: center; min-height: 160px; text-align: center;
  color: var(--muted); background: repeating-linear-gradient(-45deg, #f8fafc, #f8fafc 8px, #f1f5f9 8px, #f1f5f9 16px);
  border-radius: 8px; padding: 18px; font-size: 13px;
}
.empty strong { color: var(--ink); display: block; margin-bottom: 2px; }
.quality { display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; }
.quality h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0 0 6px; font-weight: 600; }
.stat-row { display: flex; gap: 18px; flex-wrap: wrap; margin-bottom: 8px; }
.stat { font-size: 12px; color: var(--muted); }
.stat b { display: block; font-size: 18px; color: var(--ink); font-weight: 600; }
.share-bars { list-style: none; margin: 0; padding: 0; }
.share-bars li {
  display: grid; grid-template-columns: minmax(200px, 2.2fr) 1.6fr 60px 58px; align-items: center;
  gap: 10px; padding: 3px 0; font-size: 12.5px;
}
.share-bars .reason { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; }
.share-bars .track { background: #f1f5f9; border-radius: 3px; height: 10px; overflow: hidden; }
.share-bars .fill { display: block; height: 100%; background: var(--warn); border-radius: 3px; }
.share-bars.anomaly .fill { background: #7c3aed; }
.share-bars .count { text-align: right; font-variant-numeric: tabular-nums; }
.share-bars .share { text-align: right; color: var(--muted); font-variant-numeric: tabular-nums; }
.meter { height: 12px; background: #f1f5f9; border-radius: 6px; overflow: hidden; margin: 6px 0 4px; }
.meter span { display: block; height: 100%; background: linear-gradient(90deg, #16a34a, #22c55e); }
.note { color: var(--muted); font-size: 12px; margin: 0; }
footer { color: var(--muted); font-size: 12px; padding: 4px 32px 28px; max-width: 1320px; margin: 0 auto; }
footer code, .note code { font-size: 11.5px; }
@media (max-width: 1100px) { .kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
@media (max-width: 800px) {
  .grid-2 { grid-template-columns: minmax(0, 1fr); }
  .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  main, header.top, footer { padding-left: 14px; padding-right: 14px; }
}
@media print { body { background: #fff; } .card, .kpi { box-shadow: none; break-inside: avoid; } }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="smartgrid report">
{refresh}<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
<script type="application/json" id="{data_id}">{data}</script>
<script>{echarts}</script>
<script>{app}</script>
</body>
</html>
"""
