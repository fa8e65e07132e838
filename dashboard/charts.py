"""The dashboard's charts as inline SVG strings: pure functions of plain data, no JS, no assets.

Every chart is wrapped by the page in an element carrying ``data-chart`` and ``data-points``;
every drawn datum carries ``data-mark`` so a browser test can check what was laid out.
Formatting and the SVG primitives they share are dashboard/svg.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from dashboard.columns import DAYPARTS
from dashboard.model import DailyTarget, MeterDaily, MeterDaypart, ReasonCount, TrendPoint
from dashboard.svg import (
    Box,
    esc,
    fmt,
    fmt_pct,
    nice_ticks,
    shorten,
    svg_chart,
    tick_label,
    time_ticks,
    y_grid,
)

# Colours: one accent for measures, one palette for dayparts (night to evening).
ACCENT = "#2563eb"
BAR = "#0f766e"
TARGET = "#dc2626"
DAYPART_COLOURS = {
    "Night": "#1e3a8a",
    "Morning": "#f59e0b",
    "Afternoon": "#ea580c",
    "Evening": "#7c3aed",
}
# More points than this are averaged into this many (a 2,000 px wide line cannot show more).
MAX_TREND_POINTS = 1500


def downsample(points: Sequence[TrendPoint], limit: int = MAX_TREND_POINTS) -> list[TrendPoint]:
    """Average consecutive buckets (weighted by readings) down to at most ``limit`` points."""
    if len(points) <= limit:
        return list(points)
    size = math.ceil(len(points) / limit)
    out = []
    for i in range(0, len(points), size):
        group = points[i : i + size]
        weights = [max(p.readings, 1) for p in group]
        avg = sum(p.avg_watts * w for p, w in zip(group, weights, strict=True)) / sum(weights)
        out.append(TrendPoint(group[0].at, avg, sum(p.readings for p in group)))
    return out


# --- Global Watts Trend ------------------------------------------------------------------


def watts_trend_svg(points: Sequence[TrendPoint]) -> str:
    """Fleet average watts over time: a line over a soft area, the period mean dashed."""
    pts = downsample(sorted(points, key=lambda p: p.at))
    box = Box(1160, 300, 64, 24, 30, 34)
    values = [p.avg_watts for p in pts]
    ticks = nice_ticks(0.0, max(values))
    lo, hi = ticks[0], ticks[-1]
    start, end = pts[0].at, pts[-1].at
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        if len(pts) == 1:
            return (box.x0 + box.x1) / 2
        return box.x0 + (at - start).total_seconds() / span * (box.x1 - box.x0)

    coords = [(x(p.at), box.y(p.avg_watts, lo, hi)) for p in pts]
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    area = (
        f"M{coords[0][0]:.1f},{box.y0:.1f} "
        + " ".join(f"L{cx:.1f},{cy:.1f}" for cx, cy in coords)
        + f" L{coords[-1][0]:.1f},{box.y0:.1f} Z"
    )
    weights = [max(p.readings, 1) for p in pts]
    mean = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
    mean_y = box.y(mean, lo, hi)

    parts = [
        '<defs><linearGradient id="trend-fill" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0%" stop-color="{ACCENT}" stop-opacity="0.28"/>'
        f'<stop offset="100%" stop-color="{ACCENT}" stop-opacity="0.02"/>'
        "</linearGradient></defs>",
        y_grid(box, ticks, "W"),
    ]
    ticks_t, time_fmt = time_ticks(start, end)
    for t in ticks_t:
        tx = x(t)
        # Hour ticks name the day at midnight, so a two-day span reads unambiguously.
        label = t.strftime("%d %b" if (t.hour, t.minute) == (0, 0) else time_fmt)
        parts.append(
            f'<line class="grid grid-v" x1="{tx:.1f}" x2="{tx:.1f}" y1="{box.y1}" y2="{box.y0}"/>'
            f'<text class="tick" x="{tx:.1f}" y="{box.y0 + 20}" text-anchor="middle">'
            f"{esc(label)}</text>"
        )
    parts.append(f'<path class="area" d="{area}" fill="url(#trend-fill)"/>')
    parts.append(
        f'<polyline data-mark="line" class="line" points="{line}" fill="none" '
        f'stroke="{ACCENT}" stroke-width="2" stroke-linejoin="round">'
        f"<title>Fleet average watts, {len(pts)} buckets</title></polyline>"
    )
    if len(pts) == 1:
        cx, cy = coords[0]
        parts.append(
            f'<circle data-mark="point" cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{ACCENT}"/>'
        )
    parts.append(
        f'<line class="mean" x1="{box.x0}" x2="{box.x1}" y1="{mean_y:.1f}" y2="{mean_y:.1f}"/>'
        f'<text class="mean-label" x="{box.x1 - 4}" y="{mean_y - 6:.1f}" text-anchor="end">'
        f"mean {esc(fmt(mean, 0, 'W'))}</text>"
    )
    # Invisible hover targets: the native tooltip names each bucket's time and value.
    step = (box.x1 - box.x0) / max(len(pts), 1)
    for (cx, _), p in zip(coords, pts, strict=True):
        parts.append(
            f'<rect class="hit" x="{cx - step / 2:.1f}" y="{box.y1}" width="{step:.2f}" '
            f'height="{box.y0 - box.y1}"><title>{esc(p.at.strftime("%Y-%m-%d %H:%M"))} UTC: '
            f"{esc(fmt(p.avg_watts, 0, 'W'))}</title></rect>"
        )
    return svg_chart(box, "Fleet average watts over time", "".join(parts))


# --- Meter Energy by Daypart --------------------------------------------------------------


def legend_html(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<ul class="legend">'
        + "".join(
            f'<li><span class="swatch" style="background:{colour}"></span>{esc(name)}</li>'
            for name, colour in items
        )
        + "</ul>"
    )


def daypart_svg(meters: Sequence[MeterDaypart]) -> str:
    """Stacked columns: kWh per meter, one segment per daypart (night at the bottom)."""
    n = len(meters)
    box = Box(560, 320, 56, 12, 26, 78)
    ticks = nice_ticks(0.0, max(m.total_kwh for m in meters))
    lo, hi = ticks[0], ticks[-1]
    slot = (box.x1 - box.x0) / n
    width = min(slot * 0.64, 46)
    parts = [y_grid(box, ticks, "kWh")]
    for i, meter in enumerate(meters):
        cx = box.x0 + slot * (i + 0.5)
        base = 0.0
        by_part = dict(meter.kwh)
        for part in DAYPARTS:
            kwh = by_part.get(part, 0.0)
            if kwh <= 0:
                continue
            y_top = box.y(base + kwh, lo, hi)
            y_bottom = box.y(base, lo, hi)
            parts.append(
                f'<rect data-mark="segment" x="{cx - width / 2:.1f}" y="{y_top:.1f}" '
                f'width="{width:.1f}" height="{max(y_bottom - y_top, 0.5):.1f}" '
                f'fill="{DAYPART_COLOURS[part]}"><title>{esc(meter.meter_id)} \u00b7 {esc(part)}: '
                f"{esc(fmt(kwh, 1, 'kWh'))}</title></rect>"
            )
            base += kwh
        parts.append(
            f'<text class="tick label-x" transform="translate({cx:.1f},{box.y0 + 12}) rotate(-40)" '
            f'text-anchor="end">{esc(shorten(meter.meter_id))}</text>'
        )
    parts.append(f'<line class="axis" x1="{box.x0}" x2="{box.x1}" y1="{box.y0}" y2="{box.y0}"/>')
    return svg_chart(box, "Energy by meter and time of day", "".join(parts))


# --- Daily kWh per Meter ------------------------------------------------------------------


def daily_per_meter_svg(meters: Sequence[MeterDaily], mean: float | None) -> str:
    """Horizontal bars, largest first, value at the bar's end; the fleet mean dashed."""
    n = len(meters)
    row = 26
    box = Box(560, 40 + n * row + 30, 112, 64, 30, 30)
    top = max([m.avg_daily_kwh for m in meters] + ([mean] if mean else []))
    ticks = nice_ticks(0.0, top, 4)
    lo, hi = ticks[0], ticks[-1]

    def x(value: float) -> float:
        return box.x0 + (value - lo) / (hi - lo) * (box.x1 - box.x0)

    parts = []
    for t in ticks:
        parts.append(
            f'<line class="grid" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{box.y1}" y2="{box.y0}"/>'
            f'<text class="tick" x="{x(t):.1f}" y="{box.y0 + 18}" text-anchor="middle">'
            f"{esc(tick_label(t))}</text>"
        )
    parts.append(
        f'<text class="axis-title" x="{box.x0 - 8}" y="{box.y0 + 18}" text-anchor="end">'
        "kWh/day</text>"
    )
    for i, meter in enumerate(meters):
        y = box.y1 + 6 + i * row
        w = max(x(meter.avg_daily_kwh) - box.x0, 1)
        parts.append(
            f'<text class="tick" x="{box.x0 - 8}" y="{y + 13}" text-anchor="end">'
            f"{esc(shorten(meter.meter_id))}</text>"
            f'<rect data-mark="bar" x="{box.x0}" y="{y}" width="{w:.1f}" height="{row - 9}" rx="3" '
            f'fill="{BAR}"><title>{esc(meter.meter_id)}: {esc(fmt(meter.avg_daily_kwh, 2, "kWh"))}'
            f" per day over {meter.days} day{'s' if meter.days != 1 else ''}</title></rect>"
            f'<text class="value" x="{box.x0 + w + 6:.1f}" y="{y + 13}">'
            f"{esc(fmt(meter.avg_daily_kwh, 1))}</text>"
        )
    if mean:
        mx = x(mean)
        parts.append(
            f'<line class="mean" x1="{mx:.1f}" x2="{mx:.1f}" y1="{box.y1 - 4}" y2="{box.y0}"/>'
            f'<text class="mean-label" x="{mx:.1f}" y="{box.y1 - 10}" text-anchor="middle">'
            f"fleet mean {esc(fmt(mean, 1))}</text>"
        )
    return svg_chart(box, "Average daily kWh per meter", "".join(parts))


# --- Target Daily kWh gauge ---------------------------------------------------------------


def gauge_fraction(value: float, lo: float, hi: float) -> float:
    """Where ``value`` sits on the gauge's [lo, hi] arc, clamped to [0, 1] (0.5 if lo == hi).

    A range within rounding noise of one value (identical days summed in a different order)
    counts as a single value, so the needle does not jump about on float error.
    """
    if hi - lo <= 1e-9 * max(abs(hi), abs(lo), 1.0):
        return 0.5
    return min(max((value - lo) / (hi - lo), 0.0), 1.0)


@dataclass(frozen=True)
class GaugeGeometry:
    cx: float = 200.0
    cy: float = 190.0
    radius: float = 150.0
    thickness: float = 30.0

    def point(self, fraction: float, radius: float | None = None) -> tuple[float, float]:
        """Point on the arc: fraction 0 at the left (min), 1 at the right (max), via the top."""
        r = self.radius if radius is None else radius
        angle = math.pi * (1 - fraction)
        return self.cx + r * math.cos(angle), self.cy - r * math.sin(angle)

    def arc(self, f0: float, f1: float) -> str:
        x0, y0 = self.point(f0)
        x1, y1 = self.point(f1)
        return f"M{x0:.2f},{y0:.2f} A{self.radius},{self.radius} 0 0 1 {x1:.2f},{y1:.2f}"


def gauge_svg(target: DailyTarget) -> str:
    """Semicircle from min to max daily kWh, filled to the average, the rolling target ticked."""
    g = GaugeGeometry()
    lo, hi = target.min_daily_kwh, target.max_daily_kwh
    f_value = gauge_fraction(target.avg_daily_kwh, lo, hi)
    f_target = gauge_fraction(target.rolling_target_kwh, lo, hi)
    tx0, ty0 = g.point(f_target, g.radius - g.thickness / 2 - 8)
    tx1, ty1 = g.point(f_target, g.radius + g.thickness / 2 + 8)
    lx, ly = g.point(f_target, g.radius + g.thickness / 2 + 22)
    anchor = "end" if f_target < 0.4 else ("start" if f_target > 0.6 else "middle")
    on_target = target.avg_daily_kwh >= target.rolling_target_kwh
    parts = [
        f'<path class="gauge-track" d="{g.arc(0, 1)}" stroke-width="{g.thickness}"/>',
        f'<path data-mark="gauge-value" class="gauge-value" d="{g.arc(0, max(f_value, 0.002))}" '
        f'stroke-width="{g.thickness}"><title>Average daily kWh: '
        f"{esc(fmt(target.avg_daily_kwh, 1, 'kWh'))}</title></path>",
        f'<line data-mark="gauge-target" class="gauge-target" x1="{tx0:.2f}" y1="{ty0:.2f}" '
        f'x2="{tx1:.2f}" y2="{ty1:.2f}"><title>Rolling target: '
        f"{esc(fmt(target.rolling_target_kwh, 1, 'kWh'))}</title></line>",
        f'<text class="gauge-target-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
        f"target {esc(fmt(target.rolling_target_kwh, 0))}</text>",
        f'<text class="gauge-value-text" x="{g.cx}" y="{g.cy - 34}" text-anchor="middle">'
        f"{esc(fmt(target.avg_daily_kwh, 0))}</text>",
        f'<text class="gauge-caption" x="{g.cx}" y="{g.cy - 10}" text-anchor="middle">'
        f"avg daily kWh \u00b7 {'at or above' if on_target else 'below'} target</text>",
        f'<text class="tick" x="{g.cx - g.radius}" y="{g.cy + 22}" text-anchor="middle">'
        f"min {esc(fmt(lo, 0))}</text>",
        f'<text class="tick" x="{g.cx + g.radius}" y="{g.cy + 22}" text-anchor="middle">'
        f"max {esc(fmt(hi, 0))}</text>",
    ]
    box = Box(400, 220, 0, 0, 0, 0)
    return svg_chart(
        box, "Average daily kWh against its range and the rolling target", "".join(parts)
    )


def daily_bars_svg(daily: Sequence[tuple[date, float]], target: float) -> str:
    """Small bars of fleet kWh per day (the gauge's history) with the rolling target dashed."""
    days = list(daily)[-14:]
    box = Box(400, 120, 44, 8, 14, 22)
    ticks = nice_ticks(0.0, max([v for _, v in days] + [target]), 3)
    lo, hi = ticks[0], ticks[-1]
    slot = (box.x1 - box.x0) / len(days)
    parts = [y_grid(box, ticks, "")]
    width = min(slot * 0.7, 28)
    for i, (day, kwh) in enumerate(days):
        y = box.y(kwh, lo, hi)
        cx = box.x0 + slot * (i + 0.5)
        parts.append(
            f'<rect data-mark="day" x="{cx - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{max(box.y0 - y, 0.5):.1f}" rx="2" fill="#93b4f5"><title>{day.isoformat()}: '
            f"{esc(fmt(kwh, 1, 'kWh'))}</title></rect>"
            f'<text class="tick small" x="{cx:.1f}" y="{box.y0 + 14}" '
            f'text-anchor="middle">{day.strftime("%d %b")}</text>'
        )
    ty = box.y(target, lo, hi)
    parts.append(
        f'<line class="target-line" x1="{box.x0}" x2="{box.x1}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
    )
    return svg_chart(box, "Fleet kWh per day against the rolling target", "".join(parts))


# --- Data quality -------------------------------------------------------------------------


def share_bars_html(rows: Sequence[ReasonCount], total: int, kind: str) -> str:
    """A list of reasons with their count and share of ``total`` as CSS bars (no SVG needed)."""
    peak = max(r.count for r in rows)
    items = []
    for r in rows:
        share = r.count / total if total else 0.0
        items.append(
            f'<li data-mark="{esc(kind)}"><span class="reason">{esc(r.reason)}</span>'
            f'<span class="track"><span class="fill" style="width:{r.count / peak * 100:.1f}%">'
            f"</span></span>"
            f'<span class="count">{r.count:,}</span><span class="share">{fmt_pct(share, 2)}</span></li>'
        )
    return f'<ul class="share-bars">{"".join(items)}</ul>'
