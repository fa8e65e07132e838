"""Render ``DashboardData`` into one self-contained HTML page (pure: data in, text out).

The page carries its data as JSON, Apache ECharts (``dashboard/vendor/``, fetched by ``make
setup``) and ``app.js`` inline: the charts, their tooltips and the meter and date filters work
from the file alone, with no network.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from dashboard.columns import (
    DAYPART_TABLE,
    DAYPARTS,
    FLEET_DAILY_TABLE,
    METER_DAILY_TABLE,
    POWER_TREND_TABLE,
    READINGS_TABLE,
)
from dashboard.fmt import esc, fmt, fmt_energy, fmt_pct
from dashboard.model import COMPLETE_THRESHOLD, DashboardData, DataQuality, Kpis, ReasonCount
from dashboard.template import PAGE, STYLE
from dashboard.vendor import ECHARTS_VERSION, echarts_source

# data-chart names: the contract with the browser test (and anyone scraping the page).
CHART_TREND = "global-watts-trend"
CHART_DAYPART = "meter-energy-by-daypart"
CHART_DAILY = "daily-kwh-per-meter"
CHART_TARGET = "target-daily-kwh"
CHART_QUARANTINE = "quarantine-by-reason"
CHART_COMPLETENESS = "completeness"
CHART_ANOMALIES = "anomaly-reasons"
# The four visuals drawn by ECharts (data-echart elements) and the quality panel's HTML bars.
VISUALS = (CHART_TREND, CHART_DAYPART, CHART_DAILY, CHART_TARGET)
CHARTS = (*VISUALS, CHART_QUARANTINE, CHART_COMPLETENESS, CHART_ANOMALIES)
# The bar chart of daily fleet energy under the gauge.
TARGET_HISTORY = "target-daily-history"
DATA_ELEMENT_ID = "dashboard-data"


def _empty(title: str, hint: str) -> str:
    return (
        f'<div class="empty" data-empty="true"><div><strong>{esc(title)}</strong>{hint}</div></div>'
    )


def _no_curated(table: str) -> str:
    return _empty(
        "No data yet",
        f"<code>{esc(table)}</code> has no rows. Produce and ingest events, then run "
        "<code>smartgrid build</code>.",
    )


def _card(chart: str, points: int, title: str, subtitle: str, content: str, extra: str = "") -> str:
    return (
        f'<section class="card" data-chart="{chart}" data-points="{points}">'
        f'<div class="card-head"><div><h2>{esc(title)}</h2>'
        f'<p class="card-sub">{subtitle}</p></div>{extra}</div>{content}</section>'
    )


def _kpi(key: str, label: str, value: str, sub: str, raw: float | None, tone: str = "") -> str:
    data_value = "" if raw is None else f"{raw:.6g}"
    return (
        f'<div class="kpi {tone}" data-kpi="{key}" data-value="{data_value}">'
        f'<div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="sub">{sub}</div></div>'
    )


def kpi_cards(k: Kpis) -> str:
    days = f"{k.days} day{'s' if k.days != 1 else ''}"
    cards = [
        _kpi(
            "avg-watts",
            "Average power",
            fmt(k.avg_watts, 0, "W"),
            "fleet mean per reading",
            k.avg_watts,
        ),
        _kpi(
            "total-kwh",
            "Total energy",
            fmt_energy(k.total_kwh),
            f"{k.meters:,} meters \u00b7 {days}",
            k.total_kwh,
            "energy",
        ),
        _kpi(
            "avg-daily-kwh",
            "Average daily energy",
            fmt_energy(k.avg_daily_kwh),
            "whole fleet, per day",
            k.avg_daily_kwh,
            "energy",
        ),
        _kpi(
            "high-demand-pct",
            "High demand",
            fmt_pct(k.high_demand_share),
            "of readings at or above the threshold",
            None if k.high_demand_share is None else k.high_demand_share * 100,
            "alert",
        ),
        _kpi(
            "anomaly-pct",
            "Anomalies",
            fmt_pct(k.anomaly_share),
            "of readings flagged",
            None if k.anomaly_share is None else k.anomaly_share * 100,
            "alert",
        ),
        _kpi(
            "avg-voltage",
            "Average voltage",
            fmt(k.avg_voltage_v, 1, "V"),
            "mean per reading",
            k.avg_voltage_v,
            "voltage",
        ),
    ]
    return f'<section class="kpis">{"".join(cards)}</section>'


def _canvas(name: str, height: int) -> str:
    return f'<div class="echart" data-echart="{name}" style="height:{height}px"></div>'


def trend_card(data: DashboardData) -> str:
    content = _no_curated(POWER_TREND_TABLE) if not data.trend else _canvas(CHART_TREND, 300)
    sub = (
        "Average real power per time bucket (UTC): the fleet's buckets, or the selected meter's "
        "hours; dashed: mean over the period. Scroll to zoom."
    )
    return _card(CHART_TREND, len(data.trend), "Global Watts Trend", sub, content)


def _shown_meters(data: DashboardData) -> int:
    return min(data.top_n, len({d.meter_id for d in data.meter_days}))


def daypart_card(data: DashboardData) -> str:
    shown = _shown_meters(data)
    content = _canvas(CHART_DAYPART, 330) if data.meter_days else _no_curated(DAYPART_TABLE)
    sub = f"kWh by time of day, top {shown or data.top_n} meters of the selection by energy"
    return _card(CHART_DAYPART, shown, "Meter Energy by Daypart", sub, content)


def daily_card(data: DashboardData) -> str:
    shown = _shown_meters(data)
    content = _canvas(CHART_DAILY, 330) if data.meter_days else _no_curated(METER_DAILY_TABLE)
    sub = (
        f"Average daily kWh, top {shown or data.top_n} meters of the selection; dashed: mean of "
        "every selected meter"
    )
    return _card(CHART_DAILY, shown, "Daily kWh per Meter", sub, content)


def target_card(data: DashboardData) -> str:
    t = data.target
    if t is None or not data.meter_days:
        return _card(
            CHART_TARGET,
            0,
            "Target Daily kWh",
            "Fleet daily energy",
            _no_curated(FLEET_DAILY_TABLE),
        )
    gap = (
        (t.avg_daily_kwh - t.rolling_target_kwh) / t.rolling_target_kwh
        if t.rolling_target_kwh
        else None
    )
    facts = (
        '<div class="gauge-facts" data-gauge-facts>'
        f"<div><b>{esc(fmt(t.avg_daily_kwh, 1, 'kWh'))}</b>average daily</div>"
        f'<div class="t"><b>{esc(fmt(t.rolling_target_kwh, 1, "kWh"))}</b>rolling target</div>'
        f"<div><b>{'' if gap is None or gap < 0 else '+'}{fmt_pct(gap)}</b>against target</div>"
        f"<div><b>{len(t.daily)}</b>days to {esc(t.as_of.isoformat())}</div>"
        "</div>"
    )
    content = (
        f'<div class="gauge-wrap">{_canvas(CHART_TARGET, 220)}{facts}'
        f"{_canvas(TARGET_HISTORY, 120)}</div>"
    )
    window = f"mean of the last {t.rolling_days} days" if t.rolling_days else "rolling mean"
    sub = (
        "Daily energy of the selection: the average within the min\u2013max range; "
        f"red: the target ({window})"
    )
    return _card(CHART_TARGET, len(t.daily) or 1, "Target Daily kWh", sub, content)


def share_bars_html(rows: tuple[ReasonCount, ...], total: int, kind: str) -> str:
    """A list of reasons with their count and share of ``total`` as CSS bars."""
    peak = max(r.count for r in rows) or 1
    items = []
    for r in rows:
        share = r.count / total if total else 0.0
        items.append(
            f'<li data-mark="{esc(kind)}" title="{esc(r.reason)}: {r.count:,} '
            f'({esc(fmt_pct(share, 2))})"><span class="reason">{esc(r.reason)}</span>'
            f'<span class="track"><span class="fill" style="width:{r.count / peak * 100:.1f}%">'
            f"</span></span>"
            f'<span class="count">{r.count:,}</span><span class="share">{fmt_pct(share, 2)}</span></li>'
        )
    return f'<ul class="share-bars">{"".join(items)}</ul>'


def conflicts_line(q: DataQuality) -> str:
    """Readings received with different values, and how var conflict_policy decided them."""
    if q.conflicts is None:
        return ""
    if q.conflicts == 0:
        text = "No reading was received with conflicting values."
    else:
        noun = "reading" if q.conflicts == 1 else "readings"
        policy = "/".join(q.conflict_policies)
        held = f", {q.conflicts_held:,} held out of the marts" if q.conflicts_held else ""
        text = (
            f"{q.conflicts:,} {noun} received with conflicting values "
            f"(policy: {esc(policy)}{held}; see fct_reading_conflicts)."
        )
    return f'<p class="note" data-mark="conflicts" data-count="{q.conflicts}">{text}</p>'


def quality_card(q: DataQuality) -> str:
    received = q.received
    if received is None:
        stats = '<p class="note">The ingest tables (validated, quarantine) were not found.</p>'
    else:
        stats = (
            '<div class="stat-row">'
            f'<div class="stat"><b>{received:,}</b>events received</div>'
            f'<div class="stat"><b>{(q.validated or 0):,}</b>validated</div>'
            f'<div class="stat"><b>{(q.quarantined or 0):,}</b>quarantined</div>'
            f'<div class="stat"><b>{fmt_pct(q.quarantine_share, 2)}</b>quarantine share</div>'
            "</div>"
        )
    if q.quarantine_reasons and received:
        reasons = share_bars_html(q.quarantine_reasons, received, "reason")
    elif received:
        reasons = '<p class="note">No event was quarantined.</p>'
    else:
        reasons = ""
    quarantine = (
        f'<div data-chart="{CHART_QUARANTINE}" data-points="{len(q.quarantine_reasons)}">'
        f"<h3>Quarantine by reason (share of events received)</h3>{stats}{reasons}"
        f"{conflicts_line(q)}</div>"
    )

    if q.completeness is None:
        complete_body = _no_curated(METER_DAILY_TABLE)
    else:
        pct = min(max(q.completeness, 0.0), 1.0) * 100
        complete_body = (
            f'<div class="stat-row"><div class="stat"><b>{fmt_pct(q.completeness, 2)}</b>'
            "readings received of expected</div>"
            f'<div class="stat"><b>{q.meter_days:,}</b>meter-days</div>'
            f'<div class="stat"><b>{q.incomplete_meter_days:,}</b>below '
            f"{COMPLETE_THRESHOLD:.0%} complete</div></div>"
            f'<div class="meter" data-mark="completeness"><span style="width:{pct:.2f}%"></span></div>'
        )
    completeness = (
        f'<div data-chart="{CHART_COMPLETENESS}" data-points="{q.meter_days}">'
        f"<h3>Completeness</h3>{complete_body}</div>"
    )

    anomalies_total = sum(r.count for r in q.anomaly_reasons)
    if q.anomaly_reasons:
        bars = share_bars_html(q.anomaly_reasons, anomalies_total, "anomaly")
        bars = bars.replace('class="share-bars"', 'class="share-bars anomaly"', 1)
    else:
        bars = '<p class="note">No reading was flagged.</p>'
    anomalies = (
        f'<div data-chart="{CHART_ANOMALIES}" data-points="{len(q.anomaly_reasons)}">'
        f"<h3>Anomaly reasons (share of flagged readings)</h3>{bars}</div>"
    )
    return (
        '<section class="card" data-panel="data-quality"><div class="card-head"><div>'
        "<h2>Data quality</h2>"
        '<p class="card-sub">What the ingest set aside, and how complete each meter-day is</p>'
        f'</div></div><div class="quality">{quarantine}{completeness}{anomalies}</div></section>'
    )


def header(data: DashboardData) -> str:
    k = data.kpis
    if k.first_reading and k.last_reading:
        period = f"{k.first_reading:%d %b %Y %H:%M} \u2013 {k.last_reading:%d %b %Y %H:%M} UTC"
    else:
        period = "no readings yet"
    badges = (
        f'<span class="badge">{k.meters:,} meters</span>'
        f'<span class="badge">{k.readings:,} readings</span>'
        f'<span class="badge">{k.days:,} day{"s" if k.days != 1 else ""}</span>'
    )
    return (
        '<header class="top"><div>'
        f"<h1>{esc(data.title)}</h1>"
        f'<div class="subtitle">{badges} {esc(period)}</div></div>'
        f'<div class="meta">Generated {data.generated_at:%Y-%m-%d %H:%M} UTC<br>'
        f"lake <code>{esc(data.lake)}</code></div></header>"
    )


def _utc_ms(at: datetime) -> int:
    """Epoch milliseconds. A naive timestamp is local time, as PySpark hands timestamps over
    (``datetime.timestamp`` reads it so); an aware one is exact."""
    return round(at.timestamp() * 1000)


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def days_of(data: DashboardData) -> list[str]:
    """Every day the page can filter on (ISO dates, oldest first)."""
    days: set[date] = {d.day for d in data.meter_days}
    if data.target is not None:
        days.update(day for day, _ in data.target.daily)
    days.update(p.at.date() for p in data.trend)
    return sorted(day.isoformat() for day in days)


def payload(data: DashboardData) -> dict:
    """The JSON the page's script aggregates: per meter-day sums, the trend, the hours."""
    days = days_of(data)
    day_index = {d: i for i, d in enumerate(days)}
    meters = sorted({d.meter_id for d in data.meter_days} | {h.meter_id for h in data.meter_hours})
    meter_index = {m: i for i, m in enumerate(meters)}
    md = data.meter_days
    hours = data.meter_hours
    t = data.target
    return {
        "version": 1,
        "echarts": ECHARTS_VERSION,
        "topN": data.top_n,
        "dayparts": list(DAYPARTS),
        "days": days,
        "meters": meters,
        "hasMeterDays": bool(md),
        "hasTarget": t is not None,
        # The rolling target's window in calendar days (app.js defaults to 7 without it).
        "rollingDays": (t.rolling_window_days or t.rolling_days) if t is not None else None,
        "meterDays": {
            "meter": [meter_index[d.meter_id] for d in md],
            "day": [day_index[d.day.isoformat()] for d in md],
            "kwh": [_num(d.kwh) for d in md],
            "dayparts": [[_num(v) for v in d.daypart_kwh] for d in md],
            "readings": [d.readings for d in md],
            "watts": [_num(d.watts_sum) for d in md],
            "wattsReadings": [d.watts_readings for d in md],
            "volts": [_num(d.voltage_sum) for d in md],
            "voltReadings": [d.voltage_readings for d in md],
            "highDemand": [d.high_demand for d in md],
            "anomalies": [d.anomalies for d in md],
        },
        "trend": {
            "at": [_utc_ms(p.at) for p in data.trend],
            "watts": [_num(p.avg_watts) for p in data.trend],
        },
        "hours": {
            "meter": [meter_index[h.meter_id] for h in hours],
            "at": [_utc_ms(h.hour) for h in hours],
            "watts": [_num(h.watts_sum) for h in hours],
            "readings": [h.readings for h in hours],
        },
    }


def json_script(value: object) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' survives literally."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def inline_script(source: str) -> str:
    """A script's text made safe to inline: no '</script' can end the element early.

    ('<\\/' means '</' in a JavaScript string or regular expression alike.)
    """
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)


def app_source() -> str:
    return resources.files("dashboard").joinpath("app.js").read_text(encoding="utf-8")


def filters(data: DashboardData) -> str:
    """The slicers: one meter (or all) and a date range; app.js re-draws on every change."""
    days = days_of(data)
    meters = sorted({d.meter_id for d in data.meter_days})
    options = '<option value="">All meters</option>' + "".join(
        f'<option value="{esc(m)}">{esc(m)}</option>' for m in meters
    )
    first, last = (days[0], days[-1]) if days else ("", "")
    bounds = f'min="{first}" max="{last}"' if days else ""
    return (
        '<section class="filters" data-panel="filters">'
        f'<label>Meter <select id="meter-filter" data-filter="meter">{options}</select></label>'
        f'<label>From <input type="date" id="date-from" data-filter="from" {bounds} value="{first}">'
        "</label>"
        f'<label>To <input type="date" id="date-to" data-filter="to" {bounds} value="{last}">'
        "</label>"
        '<button type="button" id="filter-reset">Reset</button>'
        '<span class="filter-summary" data-filter-summary></span>'
        '<span class="filter-note">The filters re-draw the four visuals and the cards; the '
        "data-quality panel covers every event received.</span></section>"
    )


def render_dashboard(data: DashboardData, *, refresh_seconds: int | None = None) -> str:
    """The whole page as a string: no external asset, every value escaped."""
    body = (
        header(data)
        + "<main>"
        + filters(data)
        + kpi_cards(data.kpis)
        + trend_card(data)
        + f'<div class="grid-2">{daypart_card(data)}{daily_card(data)}</div>'
        + f'<div class="grid-2">{target_card(data)}{quality_card(data.quality)}</div>'
        + "</main>"
        + "<footer>From the curated Delta tables <code>"
        + esc(", ".join((READINGS_TABLE, POWER_TREND_TABLE, DAYPART_TABLE, METER_DAILY_TABLE)))
        + f", {esc(FLEET_DAILY_TABLE)}</code> and the ingest's quarantine. "
        "Rendered by <code>smartgrid report</code> with Apache ECharts "
        f"{esc(ECHARTS_VERSION)} (Apache License 2.0) inline; the same figures in Power BI: see "
        "<code>powerbi/README.md</code>.</footer>"
    )
    refresh = (
        f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">\n' if refresh_seconds else ""
    )
    parts = {
        "refresh": refresh,
        "title": esc(data.title),
        "style": STYLE,
        "body": body,
        "data_id": DATA_ELEMENT_ID,
        "data": json_script(payload(data)),
        "echarts": inline_script(echarts_source()),
        "app": inline_script(app_source()),
    }
    # One pass over the template: a value (a meter id, say) is never itself searched for slots.
    return re.sub(r"\{(\w+)\}", lambda m: parts[m.group(1)], PAGE)


def write_dashboard(html: str, out: Path) -> Path:
    """Write atomically (temp file + rename), so a browser refreshing mid-write never sees half."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
