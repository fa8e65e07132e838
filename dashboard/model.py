"""What the dashboard shows, as plain Python values: the loader fills it, the renderer reads it.

Nothing here touches Spark, so the renderer is tested on hand-made data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class TrendPoint:
    """Fleet average real power in one time bucket (fct_fleet_power_trend)."""

    at: datetime
    avg_watts: float
    readings: int = 0


@dataclass(frozen=True)
class MeterDaypart:
    """One meter's energy by time of day, kWh per daypart in ``DAYPARTS`` order."""

    meter_id: str
    kwh: tuple[tuple[str, float], ...]

    @property
    def total_kwh(self) -> float:
        return sum(v for _, v in self.kwh)


@dataclass(frozen=True)
class MeterDaily:
    """One meter's average daily energy over the days it reported."""

    meter_id: str
    avg_daily_kwh: float
    days: int


@dataclass(frozen=True)
class DailyTarget:
    """The gauge: fleet daily energy on the last day, its range to date and the rolling target."""

    as_of: date
    avg_daily_kwh: float
    min_daily_kwh: float
    max_daily_kwh: float
    rolling_target_kwh: float
    # Fleet kWh per day (oldest first), drawn under the gauge.
    daily: tuple[tuple[date, float], ...] = ()
    # Days the rolling target averaged (the window, or fewer early on); None if not reported.
    rolling_days: int | None = None
    # The window itself in calendar days: the most days any row averaged (the dbt var
    # rolling_window_days once that many days exist); the page's filters re-apply it.
    rolling_window_days: int | None = None


@dataclass(frozen=True)
class Kpis:
    """Headline figures over every curated reading; None where there is nothing to average.

    Shares are fractions (0.25 is 25 %).
    """

    readings: int = 0
    meters: int = 0
    avg_watts: float | None = None
    total_kwh: float | None = None
    avg_daily_kwh: float | None = None
    high_demand_share: float | None = None
    anomaly_share: float | None = None
    avg_voltage_v: float | None = None
    first_reading: datetime | None = None
    last_reading: datetime | None = None
    days: int = 0


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int


@dataclass(frozen=True)
class DataQuality:
    """Quarantine and completeness. ``None`` counts mean the table was not there to read."""

    validated: int | None = None
    quarantined: int | None = None
    quarantine_reasons: tuple[ReasonCount, ...] = ()
    # Readings received / readings expected over every meter-day (fct_meter_daily_energy).
    completeness: float | None = None
    meter_days: int = 0
    # Meter-days below COMPLETE_THRESHOLD of their expected readings.
    incomplete_meter_days: int = 0
    anomaly_reasons: tuple[ReasonCount, ...] = ()
    # Readings received with different values (fct_reading_conflicts; None: not built), how many
    # of them var conflict_policy holds out of the marts, and the policy that decided them.
    conflicts: int | None = None
    conflicts_held: int = 0
    conflict_policies: tuple[str, ...] = ()

    @property
    def received(self) -> int | None:
        if self.validated is None and self.quarantined is None:
            return None
        return (self.validated or 0) + (self.quarantined or 0)

    @property
    def quarantine_share(self) -> float | None:
        received = self.received
        if not received:
            return None
        return (self.quarantined or 0) / received


# A meter-day counts as complete from this share of its expected readings.
COMPLETE_THRESHOLD = 0.95


@dataclass(frozen=True)
class MeterDay:
    """One meter on one local day, from fct_meter_readings: what the page's filters re-aggregate.

    Sums and counts, never averages, so any selection of meters and days adds up to the marts'
    figures. ``daypart_kwh`` is in ``DAYPARTS`` order.
    """

    meter_id: str
    day: date
    kwh: float
    daypart_kwh: tuple[float, ...]
    readings: int
    watts_sum: float
    watts_readings: int
    voltage_sum: float
    voltage_readings: int
    high_demand: int
    anomalies: int


@dataclass(frozen=True)
class MeterHour:
    """One meter's real power in one UTC hour: the trend when the page filters meters."""

    meter_id: str
    hour: datetime
    watts_sum: float
    readings: int


@dataclass(frozen=True)
class DashboardData:
    """Everything one dashboard render needs."""

    generated_at: datetime
    lake: str
    top_n: int
    kpis: Kpis = field(default_factory=Kpis)
    trend: tuple[TrendPoint, ...] = ()
    # Top-N meters by total energy, largest first.
    daypart: tuple[MeterDaypart, ...] = ()
    # Top-N meters by average daily energy, largest first.
    daily: tuple[MeterDaily, ...] = ()
    # Mean of every meter's average daily energy (the reference line on the bar chart).
    daily_mean_kwh: float | None = None
    target: DailyTarget | None = None
    quality: DataQuality = field(default_factory=DataQuality)
    # Per meter and day / hour: the page's meter and date filters re-aggregate these client-side.
    meter_days: tuple[MeterDay, ...] = ()
    meter_hours: tuple[MeterHour, ...] = ()
    title: str = "Smart-grid meter analytics"
