"""Hand-made dashboard data: a fleet of a few meters over a few days, shaped like the marts."""

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
    MeterDaypart,
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


def make_data(meters: int = 10, days: int = 10, top_n: int = 10) -> DashboardData:
    trend = tuple(
        TrendPoint(
            START + timedelta(minutes=15 * i),
            _load_curve((i % 96) / 4) + 25 * math.sin(i * 1.7),
            meters * 15,
        )
        for i in range(days * 96)
    )
    ids = [f"MTR-{n:04d}" for n in range(1, meters + 1)]
    shares = dict(zip(DAYPARTS, (0.18, 0.27, 0.22, 0.33), strict=True))
    daypart = tuple(
        MeterDaypart(mid, tuple((p, (80 - 5 * i) * days / 7 * s) for p, s in shares.items()))
        for i, mid in enumerate(ids)
    )[:top_n]
    daily = tuple(MeterDaily(mid, 14.0 - i * 0.9, days) for i, mid in enumerate(ids))[:top_n]
    fleet_daily = tuple(
        (date(2026, 1, 5) + timedelta(days=d), 95.0 + 12 * math.sin(d)) for d in range(days)
    )
    totals = [v for _, v in fleet_daily]
    target = DailyTarget(
        as_of=fleet_daily[-1][0],
        avg_daily_kwh=sum(totals) / len(totals),
        min_daily_kwh=min(totals),
        max_daily_kwh=max(totals),
        rolling_target_kwh=sum(totals[-7:]) / len(totals[-7:]),
        daily=fleet_daily,
        rolling_days=min(7, days),
    )
    readings = meters * days * 1440
    kpis = Kpis(
        readings=readings,
        meters=meters,
        avg_watts=1234.5,
        total_kwh=sum(totals),
        avg_daily_kwh=target.avg_daily_kwh,
        high_demand_share=0.083,
        anomaly_share=0.0123,
        avg_voltage_v=229.4,
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
        daily_mean_kwh=sum(m.avg_daily_kwh for m in daily) / len(daily),
        target=target,
        quality=quality,
    )
