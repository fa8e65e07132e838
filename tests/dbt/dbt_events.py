"""The events the dbt tests write into a lake's validated and quarantine Delta tables.

Batch one: three days of two meters every 10 minutes (duplicates, a gap, a reported energy) and a
meter with power-quality problems; batch two: late and re-sent readings and a new day. A few
refused events go to the quarantine table, on two ingest days.
"""

from __future__ import annotations

import datetime as dt
import json

import dbt_expected as expected

from smartgrid.lake import Lake

T0 = dt.datetime(2025, 3, 1)
STEP = dt.timedelta(minutes=10)
INGEST_1 = dt.datetime(2025, 3, 4, 0, 5)
INGEST_2 = dt.datetime(2025, 3, 4, 2, 5)
SETTINGS = expected.Settings()
DBT_VARS = {
    "nominal_interval_seconds": 600,
    "max_gap_seconds": 1800,
    "rolling_window_days": 2,
    "lookback_hours": 48,
    "trend_bucket_minutes": 15,
}
LATE_A = (400, 401)  # A's readings held back from batch 1: late, out of order in batch 2
A_RESENT = 300  # re-sent in batch 2 with another power: the later ingest wins
B_OUTAGE = range(100, 118)  # three hours without readings: the interval before is capped


def event(
    meter, k, watts, *, volts=230.0, pf=0.95, energy=None, sent_at=None, ingest, batch, offset
):
    return {
        "event_id": f"{meter}-{k}",
        "timestamp": T0 + k * STEP,
        "meter_id": meter,
        "real_power_watts": float(watts),
        "voltage": float(volts),
        "power_factor": float(pf),
        "energy_kwh": energy,
        "current_a": None,
        "schema_version": 1,
        "extra_fields": None if sent_at is None else json.dumps({"sent_at": sent_at}),
        "source_name": f"landing/batch-{batch}.jsonl",
        "source_partition": None,
        "source_offset": offset,
        "source_timestamp": ingest,
        "ingest_time": ingest,
        "batch_id": batch,
    }


def batch_one() -> list[dict]:
    events: list[dict] = []

    def add(*args, **kwargs):
        events.append(event(*args, ingest=INGEST_1, batch=0, offset=len(events), **kwargs))

    for k in range(432):  # three days every 10 minutes
        if k not in LATE_A:
            add("MTR-A", k, 500 + (k % 6) * 100)
        if k not in B_OUTAGE:
            add("MTR-B", k, 800 + (k % 4) * 50, energy=0.2 if k % 50 == 0 else None)
    for k in range(144, 288):  # a meter with power-quality problems, day two only
        volts, pf = [(260.0, 0.95), (200.0, 0.95), (230.0, 0.8), (231.0, 0.97)][k % 4]
        add("@C-3", k, 6000 if k % 5 == 0 else 1200, volts=volts, pf=pf)
    # a correction in the same batch, sent later (sent_at): it wins under conflict_policy latest
    add("MTR-A", 10, 700, sent_at="2025-03-01T01:45:00.000Z")
    return events


def batch_two() -> list[dict]:
    events: list[dict] = []

    def add(*args, **kwargs):
        events.append(event(*args, ingest=INGEST_2, batch=1, offset=len(events), **kwargs))

    for k in LATE_A:
        add("MTR-A", k, 500 + (k % 6) * 100)
    add("MTR-A", A_RESENT, 4321)
    for k in range(432, 444):  # two new hours on a new day
        add("MTR-A", k, 500 + (k % 6) * 100)
        add("MTR-B", k, 800 + (k % 4) * 50)
    return events


def write_validated(spark, lake: Lake, events: list[dict]) -> None:
    from ingest.tables import VALIDATED_SCHEMA

    rows = [{**e, "timestamp": _utc(e["timestamp"])} for e in events]
    for row in rows:
        row["source_timestamp"] = _utc(row["source_timestamp"])
        row["ingest_time"] = _utc(row["ingest_time"])
    spark.createDataFrame(rows, VALIDATED_SCHEMA).write.format("delta").mode("append").save(
        lake.validated
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc)


QUARANTINE_DAY_BEFORE = dt.datetime(2025, 3, 3, 23, 55)  # five minutes before batch one's day


def quarantined() -> list[dict]:
    """Refused events: one reason, several reasons, a reason listed twice (counted once)."""
    events = [
        ("not_json", ["not_json"], QUARANTINE_DAY_BEFORE),
        ("bad voltage", ["out_of_range:voltage"], QUARANTINE_DAY_BEFORE),
        ("two problems", ["missing_field:meter_id", "out_of_range:voltage"], INGEST_1),
        ("twice", ["bad_type:power_factor", "bad_type:power_factor"], INGEST_1),
        ("also not json", ["not_json"], INGEST_1),
    ]
    return [
        {
            "body": body,
            "reasons": reasons,
            "meter_id": None,
            "event_timestamp": None,
            "source_name": "landing/refused.jsonl",
            "source_partition": None,
            "source_offset": offset,
            "source_timestamp": ingest,
            "ingest_time": ingest,
            "batch_id": 0,
        }
        for offset, (body, reasons, ingest) in enumerate(events)
    ]


def write_quarantine(spark, lake: Lake, events: list[dict]) -> None:
    from ingest.tables import QUARANTINE_SCHEMA

    rows = [
        {
            **e,
            "source_timestamp": _utc(e["source_timestamp"]),
            "ingest_time": _utc(e["ingest_time"]),
        }
        for e in events
    ]
    spark.createDataFrame(rows, QUARANTINE_SCHEMA).write.format("delta").mode("append").save(
        lake.quarantine
    )
