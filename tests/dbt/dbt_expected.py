"""The curated results computed independently, in plain Python, from validated events.

This is the specification of the dbt models restated without SQL, so the end-to-end test can
check what dbt built against it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from statistics import mean


@dataclass(frozen=True)
class Settings:
    nominal_interval_seconds: float = 600.0
    max_gap_seconds: float = 1800.0
    nominal_voltage_v: float = 230.0
    voltage_band: float = 0.10
    min_power_factor: float = 0.9
    high_demand_watts: float = 5000.0
    rolling_window_days: int = 2
    trend_bucket_minutes: int = 15

    @property
    def expected_readings_per_day(self) -> int:
        return int(86400 // self.nominal_interval_seconds)


def clean(events: list[dict], settings: Settings) -> dict[tuple[str, dt.datetime], dict]:
    """Latest version per (meter, timestamp), with its interval energy (no ties in the events)."""
    kept: dict[tuple[str, dt.datetime], dict] = {}
    for event in events:
        key = (event["meter_id"], event["timestamp"])
        # conflict_policy latest: sent last (sent_at, absent last), then ingested last
        sent = _sent_at(event)
        rank = (sent is not None, sent or "", event["ingest_time"], event["batch_id"])
        if key not in kept or rank > kept[key]["_rank"]:
            kept[key] = {**event, "_rank": rank}
    by_meter: dict[str, list[dict]] = defaultdict(list)
    for row in kept.values():
        by_meter[row["meter_id"]].append(row)
    result = {}
    for meter, rows in by_meter.items():
        rows.sort(key=lambda r: r["timestamp"])
        for i, row in enumerate(rows):
            if i + 1 < len(rows):
                gap = (rows[i + 1]["timestamp"] - row["timestamp"]).total_seconds()
            else:
                gap = settings.nominal_interval_seconds
            interval = min(gap, settings.max_gap_seconds)
            energy = row["energy_kwh"]
            if energy is None:
                energy = row["real_power_watts"] * interval / 3.6e6
            result[(meter, row["timestamp"])] = {**row, "interval_seconds": interval, "kwh": energy}
    return result


def _sent_at(event: dict) -> str | None:
    extra = event.get("extra_fields")
    return json.loads(extra).get("sent_at") if extra else None


def daypart(hour: int) -> str:
    return ("Night", "Morning", "Afternoon", "Evening")[hour // 6]


def readings(
    clean_rows: dict, settings: Settings, nominal_by_meter: dict[str, float]
) -> dict[tuple[str, dt.datetime], dict]:
    """fct_meter_readings, reporting time zone UTC."""
    result = {}
    by_meter: dict[str, list[dict]] = defaultdict(list)
    for row in clean_rows.values():
        by_meter[row["meter_id"]].append(row)
    for meter, rows in by_meter.items():
        rows.sort(key=lambda r: r["timestamp"])
        nominal = nominal_by_meter.get(meter, settings.nominal_voltage_v)
        for i, row in enumerate(rows):
            volts, pf, watts = row["voltage"], row["power_factor"], row["real_power_watts"]
            reasons = []
            if volts > nominal * (1 + settings.voltage_band):
                reasons.append("over_voltage")
            if volts < nominal * (1 - settings.voltage_band):
                reasons.append("under_voltage")
            if pf < settings.min_power_factor:
                reasons.append("low_power_factor")
            apparent = abs(watts) / pf if pf > 0 else None
            current = row["current_a"]
            if current is None and apparent is not None and volts:
                current = apparent / volts
            window = rows[max(0, i - 2) : i + 1]
            result[(meter, row["timestamp"])] = {
                "timestamp": row["timestamp"],
                "meter_id": meter,
                "energy_kwh": row["kwh"],
                "real_power_watts": watts,
                "voltage_v": volts,
                "power_factor": pf,
                "apparent_power_va": apparent,
                "current_a": current,
                "high_demand_flag": int(watts >= settings.high_demand_watts),
                "anomaly_flag": "Anomaly" if reasons else "Normal",
                "anomaly_reason": ";".join(reasons) or None,
                "time_of_day": daypart(row["timestamp"].hour),
                "local_date": row["timestamp"].date(),
                "rolling_avg_voltage_v": mean(r["voltage"] for r in window),
            }
    return result


def daily_energy(reading_rows: dict, settings: Settings) -> dict[tuple[str, dt.date], dict]:
    groups: dict[tuple[str, dt.date], list[dict]] = defaultdict(list)
    for row in reading_rows.values():
        groups[(row["meter_id"], row["local_date"])].append(row)
    expected = settings.expected_readings_per_day
    return {
        key: {
            "kwh": sum(r["energy_kwh"] for r in rows),
            "reading_count": len(rows),
            "expected_reading_count": expected,
            "completeness": len(rows) / expected,
            "peak_watts": max(r["real_power_watts"] for r in rows),
            "min_voltage_v": min(r["voltage_v"] for r in rows),
            "max_voltage_v": max(r["voltage_v"] for r in rows),
            "anomaly_count": sum(r["anomaly_flag"] == "Anomaly" for r in rows),
        }
        for key, rows in groups.items()
    }


def fleet_target(daily: dict, settings: Settings) -> dict[dt.date, dict]:
    totals: dict[dt.date, float] = defaultdict(float)
    for (_, day), row in daily.items():
        totals[day] += row["kwh"]
    days = sorted(totals)
    result = {}
    for i, day in enumerate(days):
        to_date = [totals[d] for d in days[: i + 1]]
        window = [
            totals[d]
            for d in days
            if day - dt.timedelta(days=settings.rolling_window_days) < d <= day
        ]
        result[day] = {
            "fleet_kwh": totals[day],
            "min_daily_kwh_to_date": min(to_date),
            "max_daily_kwh_to_date": max(to_date),
            "avg_daily_kwh_to_date": mean(to_date),
            "rolling_target_kwh": mean(window),
        }
    return result


def power_trend(reading_rows: dict, settings: Settings) -> dict[dt.datetime, dict]:
    width = settings.trend_bucket_minutes * 60
    groups: dict[dt.datetime, list[float]] = defaultdict(list)
    for row in reading_rows.values():
        ts = row["timestamp"]
        epoch = int(ts.replace(tzinfo=dt.timezone.utc).timestamp())
        bucket = dt.datetime.fromtimestamp(epoch - epoch % width, dt.timezone.utc)
        groups[bucket.replace(tzinfo=None)].append(row["real_power_watts"])
    return {b: {"avg_watts": mean(w), "reading_count": len(w)} for b, w in groups.items()}


def daypart_energy(reading_rows: dict) -> dict[tuple[str, str], dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in reading_rows.values():
        groups[(row["meter_id"], row["time_of_day"])].append(row)
    return {
        key: {"kwh": sum(r["energy_kwh"] for r in rows), "reading_count": len(rows)}
        for key, rows in groups.items()
    }


def quarantine_reasons(quarantined: list[dict]) -> dict[tuple[dt.date, str], int]:
    """Quarantined events per (UTC ingest day, reason); an event counts once per reason."""
    counts: dict[tuple[dt.date, str], int] = defaultdict(int)
    for event in quarantined:
        for reason in set(event["reasons"]):
            counts[(event["ingest_time"].date(), reason)] += 1
    return dict(counts)


def ingest_daily(validated: list[dict], quarantined: list[dict]) -> dict[dt.date, dict]:
    """Validated and quarantined events per UTC ingest day (days with any event)."""
    days: dict[dt.date, dict] = defaultdict(
        lambda: {"validated_events": 0, "quarantined_events": 0}
    )
    for event in validated:
        days[event["ingest_time"].date()]["validated_events"] += 1
    for event in quarantined:
        days[event["ingest_time"].date()]["quarantined_events"] += 1
    return dict(days)
