"""Render ``DashboardData`` into one self-contained HTML page (pure: data in, text out)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dashboard import charts
from dashboard.columns import (
    DAYPART_TABLE,
    DAYPARTS,
    FLEET_DAILY_TABLE,
    METER_DAILY_TABLE,
    POWER_TREND_TABLE,
    READINGS_TABLE,
)
from dashboard.model import COMPLETE_THRESHOLD, DashboardData, DataQuality, Kpis
from dashboard.svg import esc, fmt, fmt_energy, fmt_pct
from dashboard.template import PAGE, SCRIPT, STYLE

# data-chart names: the contract with the browser test (and anyone scraping the page).
CHART_TREND = "global-watts-trend"
CHART_DAYPART = "meter-energy-by-daypart"
CHART_DAILY = "daily-kwh-per-meter"
CHART_TARGET = "target-daily-kwh"
CHART_QUARANTINE = "quarantine-by-reason"
CHART_COMPLETENESS = "completeness"
CHART_ANOMALIES = "anomaly-reasons"
CHARTS = (
    CHART_TREND,
    CHART_DAYPART,
    CHART_DAILY,
    CHART_TARGET,
    CHART_QUARANTINE,
    CHART_COMPLETENESS,
    CHART_ANOMALIES,
)


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


def trend_card(data: DashboardData) -> str:
    points = data.trend
    content = _no_curated(POWER_TREND_TABLE) if not points else charts.watts_trend_svg(points)
    sub = "Fleet average real power per time bucket (UTC); dashed: mean over the period"
    return _card(CHART_TREND, len(points), "Global Watts Trend", sub, content)


def daypart_card(data: DashboardData) -> str:
    meters = data.daypart
    legend = charts.legend_html([(p, charts.DAYPART_COLOURS[p]) for p in DAYPARTS])
    content = charts.daypart_svg(meters) if meters else _no_curated(DAYPART_TABLE)
    sub = f"kWh by time of day, top {len(meters) or data.top_n} meters by energy"
    return _card(CHART_DAYPART, len(meters), "Meter Energy by Daypart", sub, legend + content)


def daily_card(data: DashboardData) -> str:
    meters = data.daily
    if meters:
        content = charts.daily_per_meter_svg(meters, data.daily_mean_kwh)
    else:
        content = _no_curated(METER_DAILY_TABLE)
    sub = f"Average daily kWh, top {len(meters) or data.top_n} meters; dashed: mean of every meter"
    return _card(CHART_DAILY, len(meters), "Daily kWh per Meter", sub, content)


def target_card(data: DashboardData) -> str:
    t = data.target
    if t is None:
        return _card(
            CHART_TARGET,
            0,
            "Target Daily kWh",
            "Fleet daily energy",
            _no_curated(FLEET_DAILY_TABLE),
        )
    f_value = charts.gauge_fraction(t.avg_daily_kwh, t.min_daily_kwh, t.max_daily_kwh)
    f_target = charts.gauge_fraction(t.rolling_target_kwh, t.min_daily_kwh, t.max_daily_kwh)
    gap = (
        (t.avg_daily_kwh - t.rolling_target_kwh) / t.rolling_target_kwh
        if t.rolling_target_kwh
        else None
    )
    facts = (
        '<div class="gauge-facts">'
        f"<div><b>{esc(fmt(t.avg_daily_kwh, 1, 'kWh'))}</b>average daily</div>"
        f'<div class="t"><b>{esc(fmt(t.rolling_target_kwh, 1, "kWh"))}</b>rolling target</div>'
        f"<div><b>{'' if gap is None or gap < 0 else '+'}{fmt_pct(gap)}</b>against target</div>"
        f"<div><b>{len(t.daily)}</b>days to date</div>"
        "</div>"
    )
    history = charts.daily_bars_svg(t.daily, t.rolling_target_kwh) if t.daily else ""
    content = (
        f'<div class="gauge-wrap" data-min="{t.min_daily_kwh:.6g}" data-max="{t.max_daily_kwh:.6g}" '
        f'data-value="{t.avg_daily_kwh:.6g}" data-target="{t.rolling_target_kwh:.6g}" '
        f'data-value-fraction="{f_value:.4f}" data-target-fraction="{f_target:.4f}">'
        f"{charts.gauge_svg(t)}{facts}{history}</div>"
    )
    days = len(t.daily)
    window = f"mean of the last {t.rolling_days} days" if t.rolling_days else "rolling mean"
    sub = (
        f"Fleet kWh per day to {esc(t.as_of.isoformat())}: the average within the min\u2013max "
        f"range; red: the target ({window})"
    )
    return _card(CHART_TARGET, days or 1, "Target Daily kWh", sub, content)


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
        reasons = charts.share_bars_html(q.quarantine_reasons, received, "reason")
    elif received:
        reasons = '<p class="note">No event was quarantined.</p>'
    else:
        reasons = ""
    quarantine = (
        f'<div data-chart="{CHART_QUARANTINE}" data-points="{len(q.quarantine_reasons)}">'
        f"<h3>Quarantine by reason (share of events received)</h3>{stats}{reasons}</div>"
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
        bars = charts.share_bars_html(q.anomaly_reasons, anomalies_total, "anomaly")
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


def render_dashboard(data: DashboardData, *, refresh_seconds: int | None = None) -> str:
    """The whole page as a string: no external asset, every value escaped."""
    body = (
        header(data)
        + "<main>"
        + kpi_cards(data.kpis)
        + trend_card(data)
        + f'<div class="grid-2">{daypart_card(data)}{daily_card(data)}</div>'
        + f'<div class="grid-2">{target_card(data)}{quality_card(data.quality)}</div>'
        + "</main>"
        + "<footer>From the curated Delta tables <code>"
        + esc(", ".join((READINGS_TABLE, POWER_TREND_TABLE, DAYPART_TABLE, METER_DAILY_TABLE)))
        + f", {esc(FLEET_DAILY_TABLE)}</code> and the ingest's quarantine. "
        "Rendered by <code>smartgrid report</code>; the same figures in Power BI: see "
        "<code>powerbi/README.md</code>.</footer>"
    )
    refresh = (
        f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">\n' if refresh_seconds else ""
    )
    return PAGE.format(
        refresh=refresh, title=esc(data.title), style=STYLE, body=body, script=SCRIPT
    )


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
