"""Hand-made dashboard data (no Spark): a fleet of a few meters over a few days, shaped like the
marts, with the per meter-day and per meter-hour sums the page's filters re-aggregate."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

from dashboard.columns import DAYPARTS
from dashboard.model import (
    DailyTarget,
    DashboardData,
    DataQuality,
    Kpis,
    MeterDaily,
    MeterDay,
    MeterDaypart,
    MeterHour,
    ReasonCount,
    TrendPoint,
)

START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def _load_curve(hour: float) -> float:
    """A residential day: low at night, a morning bump and a larger evening peak (watts)."""
    return (
        650
        + 450 * math.exp(-(((hour - 8) / 1.8) ** 2))
        + 900 * math.exp(-(((hour - 19) / 2.4) ** 2))
    )


def meter_days(meters: int, days: int) -> tuple[MeterDay, ...]:
    """Per meter-day sums shaped like fct_meter_readings' (1 reading a minute, a few missing)."""
    shares = (0.18, 0.27, 0.22, 0.33)
    rows = []
    for i in range(meters):
        for d in range(days):
            scale = (80 - 5 * i) / 7 * (1 + 0.11 * math.sin(1.3 * d + i))
            parts = tuple(
                round(scale * s * (1 + 0.07 * math.cos(d * (k + 1))), 6)
                for k, s in enumerate(shares)
            )
            readings = 1440 - (i * 7 + d * 3) % 11
            kwh = sum(parts)
            rows.append(
                MeterDay(
                    meter_id=f"MTR-{i + 1:04d}",
                    day=date(2026, 1, 5) + timedelta(days=d),
                    kwh=kwh,
                    daypart_kwh=parts,
                    readings=readings,
                    watts_sum=kwh * 1000 * 60,  # 1-minute readings: kWh = W x (1/60) h / 1000
                    watts_readings=readings,
                    voltage_sum=readings * (229.0 + 0.3 * i - 0.2 * d),
                    voltage_readings=readings,
                    high_demand=(i * 37 + d * 11) % 160,
                    anomalies=(i * 5 + d * 3) % 23,
                )
            )
    return tuple(rows)


def meter_hours(meters: int, days: int) -> tuple[MeterHour, ...]:
    return tuple(
        MeterHour(
            f"MTR-{i + 1:04d}",
            START + timedelta(hours=h),
            60 * _load_curve(h % 24) * (1 - 0.05 * i) + 3.7 * h,
            60,
        )
        for i in range(meters)
        for h in range(days * 24)
    )


def make_data(meters: int = 10, days: int = 10, top_n: int = 10) -> DashboardData:
    """The marts' figures (cards, per-meter charts, gauge) derived from the same meter-day sums
    the page re-aggregates, as the marts are from the same readings."""
    trend = tuple(
        TrendPoint(
            START + timedelta(minutes=15 * i),
            _load_curve((i % 96) / 4) + 25 * math.sin(i * 1.7),
            meters * 15,
        )
        for i in range(days * 96)
    )
    md = meter_days(meters, days)
    ids = sorted({r.meter_id for r in md})
    by_meter = {m: [r for r in md if r.meter_id == m] for m in ids}
    totals = {m: sum(r.kwh for r in rows) for m, rows in by_meter.items()}
    daypart = tuple(
        MeterDaypart(
            m,
            tuple((p, sum(r.daypart_kwh[k] for r in by_meter[m])) for k, p in enumerate(DAYPARTS)),
        )
        for m in sorted(ids, key=lambda m: (-totals[m], m))[:top_n]
    )
    avg_daily = {m: totals[m] / len(rows) for m, rows in by_meter.items()}
    daily = tuple(
        MeterDaily(m, avg_daily[m], len(by_meter[m]))
        for m in sorted(ids, key=lambda m: (-avg_daily[m], m))[:top_n]
    )
    day_list = sorted({r.day for r in md})
    fleet_daily = tuple((day, sum(r.kwh for r in md if r.day == day)) for day in day_list)
    fleet = [v for _, v in fleet_daily]
    target = DailyTarget(
        as_of=fleet_daily[-1][0],
        avg_daily_kwh=sum(fleet) / len(fleet),
        min_daily_kwh=min(fleet),
        max_daily_kwh=max(fleet),
        rolling_target_kwh=sum(fleet[-7:]) / len(fleet[-7:]),
        daily=fleet_daily,
        rolling_days=min(7, days),
        rolling_window_days=min(7, days),
    )
    readings = sum(r.readings for r in md)
    kpis = Kpis(
        readings=readings,
        meters=meters,
        avg_watts=sum(r.watts_sum for r in md) / sum(r.watts_readings for r in md),
        total_kwh=sum(fleet),
        avg_daily_kwh=target.avg_daily_kwh,
        high_demand_share=sum(r.high_demand for r in md) / readings,
        anomaly_share=sum(r.anomalies for r in md) / readings,
        avg_voltage_v=sum(r.voltage_sum for r in md) / sum(r.voltage_readings for r in md),
        first_reading=START,
        last_reading=START + timedelta(days=days, minutes=-1),
        days=days,
    )
    quality = DataQuality(
        validated=readings,
        quarantined=412,
        quarantine_reasons=(
            ReasonCount("out_of_range:voltage", 180),
            ReasonCount("not_json", 121),
            ReasonCount("missing_field:meter_id", 77),
            ReasonCount("future_timestamp", 34),
        ),
        completeness=0.9871,
        meter_days=meters * days,
        incomplete_meter_days=3,
        anomaly_reasons=(
            ReasonCount("under_voltage", 510),
            ReasonCount("low_power_factor", 402),
            ReasonCount("over_voltage", 330),
        ),
    )
    return DashboardData(
        generated_at=datetime(2026, 1, 12, 8, 30, tzinfo=timezone.utc),
        lake="lake",
        top_n=top_n,
        kpis=kpis,
        trend=trend,
        daypart=daypart,
        daily=daily,
        daily_mean_kwh=sum(avg_daily.values()) / len(avg_daily),
        target=target,
        quality=quality,
        meter_days=md,
        meter_hours=meter_hours(meters, days),
    )
