"""Hourly ENERGY replayed end to end: replay --energy-interval 1h -> ingest -> dbt build -> kWh.

A small historical file of Wh per hour for a few meters with missing hours (sparse readings),
replayed as average watts, ingested into a lake of its own, built with the hourly vars of
docs/dbt.md ("Replaying hourly energy"). The expectation is the file's own energy summed per
meter and UTC day here in plain Python, not by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from pathlib import Path

import pytest
from spark_rows import utc_rows

from smartgrid.lake import Lake
from transform import runner as dbt_runner

# docs/dbt.md, "Replaying hourly energy": a reading's interval is its hour, and a missing hour
# is not an outage to bridge (the interval is capped at one hour, never longer).
HOURLY_VARS = {
    "nominal_interval_seconds": 3600,
    "max_gap_seconds": 3600,
    "trend_bucket_minutes": 60,
    "rolling_window_days": 2,
}
START = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
HOURS = 72  # three days


def hourly_energy() -> list[tuple[dt.datetime, str, float]]:
    """(hour, meter, Wh): three meters, each missing other hours, one with exports."""
    rows = []
    for hour in range(HOURS):
        at = START + dt.timedelta(hours=hour)
        if hour % 5 != 3:  # a missing hour now and then
            rows.append((at, "HH-001", 300.0 + 40.0 * (hour % 24)))
        if hour % 7 in (0, 1, 2):  # sparse: three hours a week-day-ish
            rows.append((at, "HH-002", 1250.5))
        if 20 <= hour < 30 or hour >= 60:  # across midnight, then a long outage
            rows.append((at, "PV-003", -800.25 if 8 <= (hour % 24) <= 16 else 95.0))
    return rows


def write_file(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hour_start", "meter", "wh", "volts", "pf"])
        for at, meter, wh in rows:
            writer.writerow([at.strftime("%Y-%m-%dT%H:%M:%SZ"), meter, wh, 230.0, 0.97])


@pytest.mark.slow
def test_hourly_energy_file_builds_daily_kwh_per_meter(spark, tmp_path: Path) -> None:
    from ingest.config import IngestConfig
    from ingest.job import run_ingest
    from producer.options import ReplayOptions, parse_mapping
    from producer.run import replay

    rows = hourly_energy()
    path = tmp_path / "hourly_energy.csv"
    write_file(path, rows)
    lake = Lake.resolve(str(tmp_path / "lake")).ensure()

    summary = replay(
        ReplayOptions(
            path=path,
            mapping=parse_mapping(
                [
                    "timestamp=hour_start,meter_id=meter,real_power_watts=wh,voltage=volts,power_factor=pf"
                ]
            ),
            energy_interval=dt.timedelta(hours=1),
            progress_every=0,
        ),
        lake,
        stderr=io.StringIO(),
    )
    assert summary.events_sent == len(rows) and summary.bad_rows == 0
    ingested = run_ingest(IngestConfig(lake=lake), spark=spark)
    assert ingested.validated == len(rows)

    dbt_runner.build(lake, dbt_vars=HOURLY_VARS, spark=spark, full_refresh=True)

    want: dict[tuple[str, dt.date], float] = defaultdict(float)
    count: dict[tuple[str, dt.date], int] = defaultdict(int)
    for at, meter, wh in rows:
        want[(meter, at.date())] += wh / 1000.0
        count[(meter, at.date())] += 1
    got = {
        (r["meter_id"], r["local_date"]): r
        for r in utc_rows(spark.read.format("delta").load(f"{lake.curated}/fct_meter_daily_energy"))
    }
    assert got.keys() == want.keys()
    for key, kwh in want.items():
        assert got[key]["kwh"] == pytest.approx(kwh, abs=1e-9), key
        assert got[key]["reading_count"] == count[key], key
        assert got[key]["expected_reading_count"] == 24, key  # 86400 / 3600
