"""The whole local pipeline on a small fleet, checked against values computed in the test.

produce (every fault kind) -> embedded event hub -> ingest (availableNow, in-process) -> dbt build
-> CSV. The expectations come from the landing files themselves: each line is judged with the
JSON Schema and Python's json module, and the curated figures are recomputed in plain Python by
tests/dbt/dbt_expected.py, so the check does not lean on the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import jsonschema
import pytest

from dashboard.columns import CURATED_CSV_HEADER
from smartgrid.contract import event_schema
from smartgrid.lake import Lake
from transform import runner as dbt_runner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dbt"))
import dbt_expected as expected
from spark_rows import utc_rows

SETTINGS = expected.Settings(
    nominal_interval_seconds=600,
    max_gap_seconds=1800,
    rolling_window_days=2,
    trend_bucket_minutes=15,
)
DBT_VARS = {
    "nominal_interval_seconds": 600,
    "max_gap_seconds": 1800,
    "rolling_window_days": 2,
    "trend_bucket_minutes": 15,
}
FAULTS = "duplicate=0.03,late=0.03,malformed=0.03,voltage=0.02,conflict=0.02"


def _reject_constant(name: str) -> float:
    raise ValueError(f"JSON has no {name}")


def judge(line: str) -> dict | None:
    """The event if it honours the contract, else None: an independent restatement."""
    try:
        event = json.loads(line, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(event, dict) or not jsonschema.Draft202012Validator(event_schema()).is_valid(
        event
    ):
        return None
    try:
        dt.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    return event


def rows_by_path(spark, path: str) -> list[dict]:
    return utc_rows(spark.read.format("delta").load(path))


@pytest.mark.slow
def test_produce_ingest_build_export(spark, tmp_path: Path) -> None:
    from ingest.config import IngestConfig
    from ingest.job import run_ingest
    from producer.faults import parse_fault_spec
    from producer.options import ProduceOptions
    from producer.run import produce

    lake = Lake.resolve(str(tmp_path / "lake")).ensure()
    produced = produce(
        ProduceOptions(
            meters=6,
            duration=dt.timedelta(days=2),
            interval=dt.timedelta(minutes=10),
            seed=11,
            faults=parse_fault_spec(FAULTS),
            batch_size=500,
        ),
        lake,
        stderr=io.StringIO(),
    )
    lines = [
        line
        for path in sorted(Path(lake.landing).glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
    ]
    assert len(lines) == produced.events_sent
    assert all(
        produced.faults.get(kind, 0) > 0 for kind in ("duplicate", "late", "malformed", "conflict")
    )
    judged = [judge(line) for line in lines]
    valid = [event for event in judged if event is not None]

    ingested = run_ingest(IngestConfig(lake=lake), spark=spark)
    # Nothing lost, nothing doubled: every line in raw once, in exactly one of the two others.
    assert ingested.raw == len(lines)
    assert ingested.validated == len(valid)
    assert ingested.quarantined == len(lines) - len(valid) == produced.faults["malformed"]
    # Duplicates and late events are kept as received; dbt removes them.
    assert len({(e["meter_id"], e["timestamp"]) for e in valid}) < len(valid)

    dbt_runner.build(lake, dbt_vars=DBT_VARS, spark=spark, full_refresh=True)

    # The expectation: every valid event, parsed here; duplicates carry the same reading.
    events = [
        {
            "timestamp": dt.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ"),
            "meter_id": e["meter_id"],
            "real_power_watts": float(e["real_power_watts"]),
            "voltage": float(e["voltage"]),
            "power_factor": float(e["power_factor"]),
            "energy_kwh": e.get("energy_kwh"),
            "current_a": e.get("current_a"),
            "ingest_time": 0,
            "batch_id": 0,
            "source_offset": i,
            # the conflict fault's resends carry sent_at; the ingest keeps it in extra_fields
            "extra_fields": json.dumps({"sent_at": e["sent_at"]}) if "sent_at" in e else None,
        }
        for i, e in enumerate(valid)
    ]
    clean = expected.clean(events, SETTINGS)
    with Path(lake.reference, "meters.csv").open(encoding="utf-8") as handle:
        registry = {r["meter_id"]: r for r in csv.DictReader(handle)}
    readings = expected.readings(
        clean, SETTINGS, {m: float(r["nominal_voltage"]) for m, r in registry.items()}
    )
    assert len(readings) < len(valid)  # dedup happened

    got = {
        (r["meter_id"], r["timestamp"]): r
        for r in rows_by_path(spark, f"{lake.curated}/fct_meter_readings")
    }
    assert got.keys() == readings.keys()
    for key, row in readings.items():
        for column, value in row.items():
            want = pytest.approx(value) if isinstance(value, float) else value
            assert got[key][column] == want, (key, column)
    assert any(r["anomaly_flag"] == "Anomaly" for r in got.values())  # injected sags/swells

    daily = expected.daily_energy(readings, SETTINGS)
    got_daily = {
        (r["meter_id"], r["local_date"]): r
        for r in rows_by_path(spark, f"{lake.curated}/fct_meter_daily_energy")
    }
    assert got_daily.keys() == daily.keys()
    for key, row in daily.items():
        assert got_daily[key]["kwh"] == pytest.approx(row["kwh"]), key
        assert got_daily[key]["reading_count"] == row["reading_count"], key

    target = expected.fleet_target(daily, SETTINGS)
    got_target = {
        r["local_date"]: r for r in rows_by_path(spark, f"{lake.curated}/fct_fleet_daily_target")
    }
    assert got_target.keys() == target.keys()
    last = max(target)
    assert got_target[last]["rolling_target_kwh"] == pytest.approx(
        target[last]["rolling_target_kwh"]
    )

    # Every simulated conflicting resend is reported, and the resend (sent later) won.
    versions: dict[tuple, set] = {}
    for e in events:
        values = tuple(
            e[c] for c in ("real_power_watts", "voltage", "power_factor", "energy_kwh", "current_a")
        )
        versions.setdefault((e["meter_id"], e["timestamp"]), set()).add(values)
    conflicting = {key for key, seen in versions.items() if len(seen) > 1}
    assert len(conflicting) == produced.faults["conflict"]
    reported = rows_by_path(spark, f"{lake.curated}/fct_reading_conflicts")
    assert {(r["meter_id"], r["reading_at"]) for r in reported} == conflicting
    assert {(r["versions"], r["policy"]) for r in reported} == {(2, "latest")}
    resent = {
        (e["meter_id"], e["timestamp"]): e["real_power_watts"] for e in events if e["extra_fields"]
    }
    assert all(got[key]["real_power_watts"] == pytest.approx(resent[key]) for key in conflicting)

    dim = {r["meter_id"]: r for r in rows_by_path(spark, f"{lake.curated}/dim_meters")}
    assert {m: d["profile"] for m, d in dim.items()} == {
        m: r["profile"] for m, r in registry.items()
    }

    csv_path = dbt_runner.export_csv(lake, spark=spark)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        exported = list(csv.reader(handle))
    assert len(exported) - 1 == len(readings)
    # The header the dashboard and the Power BI kit (powerbi/, tests/powerbi) are written against.
    assert tuple(exported[0]) == CURATED_CSV_HEADER
