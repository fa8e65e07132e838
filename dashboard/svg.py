"""What every chart of the dashboard draws with: escaping, number formatting, axis ticks and the
SVG primitives (a plot box, its frame and its grid). Pure functions, no data model.

Every piece of text goes through ``esc`` (meter ids come from the data, not from us).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    """``1234.5 -> '1,235'``; None -> an en dash; the unit follows with a thin space."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    text = f"{value:,.{digits}f}"
    return f"{text}\u202f{unit}" if unit else text


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """``0.0123 -> '1.2 %'``; a share too small to show at ``digits`` reads '<0.01 %', not 0."""
    if share is None:
        return "\u2013"
    smallest = 10.0**-digits
    if 0 < abs(share * 100) < smallest:
        return f"<{smallest:.{digits}f}\u202f%"
    return f"{share * 100:.{digits}f}\u202f%"


def fmt_energy(kwh: float | None) -> str:
    """kWh with a precision that suits its size (MWh from 10,000 kWh)."""
    if kwh is None:
        return "\u2013"
    if abs(kwh) >= 10_000:
        return fmt(kwh / 1000, 1, "MWh")
    return fmt(kwh, 1 if abs(kwh) < 1000 else 0, "kWh")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo
    if span == 0:
        span = abs(hi) or 1.0
        lo, hi = lo - span / 2, hi + span / 2
        span = hi - lo
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= step * multiple:
            step *= multiple
            break
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    n = round((end - start) / step)
    return [round(start + i * step, 10) for i in range(n + 1)]


def tick_label(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:,.10g}"


def time_ticks(start: datetime, end: datetime) -> tuple[list[datetime], str]:
    """Ticks at midnights (long spans) or round hours (short spans), with their label format."""
    span_h = (end - start).total_seconds() / 3600
    if span_h >= 48:
        days = max(1, math.ceil(span_h / 24 / 8))
        first = datetime.combine(start.date(), datetime.min.time(), tzinfo=start.tzinfo)
        if first < start:
            first += timedelta(days=1)
        step, fmt_ = timedelta(days=days), "%d %b"
    else:
        hours = next(h for h in (1, 2, 3, 6, 12, 24) if span_h / h <= 8)
        first = start.replace(minute=0, second=0, microsecond=0)
        while first < start or first.hour % hours:
            first += timedelta(hours=1)
        step, fmt_ = timedelta(hours=hours), "%H:%M"
    ticks = []
    t = first
    while t <= end:
        ticks.append(t)
        t += step
    return ticks, fmt_


@dataclass(frozen=True)
class Box:
    """The plotting area inside an SVG of ``width`` x ``height``."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top

    def y(self, value: float, lo: float, hi: float) -> float:
        return self.y0 - (value - lo) / (hi - lo) * (self.y0 - self.y1)


def svg_chart(box: Box, label: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {box.width} {box.height}" role="img" '
        f'aria-label="{esc(label)}" preserveAspectRatio="xMidYMid meet">{body}</svg>'
    )


def y_grid(box: Box, ticks: list[float], unit: str) -> str:
    lo, hi = ticks[0], ticks[-1]
    parts = []
    for t in ticks:
        y = box.y(t, lo, hi)
        parts.append(
            f'<line class="grid" x1="{box.x0}" x2="{box.x1}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{box.x0 - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{esc(tick_label(t))}</text>"
        )
    parts.append(
        f'<text class="axis-title" x="{box.x0 - 8}" y="{box.y1 - 10}" text-anchor="end">'
        f"{esc(unit)}</text>"
    )
    return "".join(parts)


def shorten(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
