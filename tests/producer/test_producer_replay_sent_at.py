"""Replay carries an optional sent_at column as the event's sent_at (the conflict order)."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
from producer_helpers import RecordingSink

from producer.options import ReplayOptions, parse_mapping
from producer.pacing import ManualClock
from producer.run import replay
from smartgrid.contract import event_schema
from smartgrid.lake import Lake

CSV = """\
timestamp,meter_id,real_power_watts,voltage,power_factor,sent
2025-03-01T00:00:00Z,M-1,500.0,230.0,0.9,
2025-03-01T00:00:00Z,M-1,640.0,230.0,0.9,2025-03-01T02:00:00.250Z
2025-03-01T00:15:00Z,M-1,510.0,230.0,0.9,2025-03-01T00:15:01
2025-03-01T00:30:00Z,M-1,520.0,230.0,0.9,yesterday
"""


def run(path: Path, tmp_path: Path, mapping: list[str], clock=None, **kw):
    sink = RecordingSink()
    opts = ReplayOptions(path=path, mapping=parse_mapping(mapping), progress_every=0, **kw)
    summary = replay(
        opts,
        Lake.resolve(str(tmp_path / "lake")),
        sink,
        clock=clock or ManualClock(),
        stderr=io.StringIO(),
    )
    return summary, sink.events()


def test_a_csv_sent_at_column_is_carried_and_a_bad_one_is_a_bad_row(tmp_path) -> None:
    path = tmp_path / "readings.csv"
    path.write_text(CSV)
    summary, events = run(path, tmp_path, ["sent_at=sent"])
    for event in events:
        jsonschema.validate(event, event_schema())
    assert [e.get("sent_at") for e in events] == [
        None,  # empty cell: omitted
        "2025-03-01T02:00:00.250Z",
        "2025-03-01T00:15:01.000Z",  # no zone: UTC, written with milliseconds
    ]
    assert summary.problems == ("line 5: sent_at: 'yesterday' is not an ISO-8601 time",)


def test_shift_to_now_moves_sent_at_with_the_timestamp(tmp_path) -> None:
    path = tmp_path / "readings.csv"
    path.write_text(CSV)
    clock = ManualClock(wall=datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc))
    _, events = run(path, tmp_path, ["sent_at=sent"], shift_to_now=True, clock=clock)
    # the latest good reading (00:15Z) lands at now; sent_at keeps its 2 h 0.25 s lead
    assert [(e["timestamp"], e.get("sent_at")) for e in events] == [
        ("2026-06-01T11:45:00.000Z", None),
        ("2026-06-01T11:45:00.000Z", "2026-06-01T13:45:00.250Z"),
        ("2026-06-01T12:00:00.000Z", "2026-06-01T12:00:01.000Z"),
    ]


def test_a_parquet_sent_at_column_found_by_its_contract_name(tmp_path) -> None:
    path = tmp_path / "readings.parquet"
    stamp = datetime(2025, 3, 1, tzinfo=timezone.utc)
    pq.write_table(
        pa.table(
            {
                "timestamp": [stamp, stamp],
                "meter_id": ["M-1", "M-1"],
                "real_power_watts": [500.0, 640.0],
                "voltage": [230.0, 230.0],
                "power_factor": [0.9, 0.9],
                "sent_at": [None, datetime(2025, 3, 1, 2, 0, 0, 250_000, tzinfo=timezone.utc)],
            }
        ),
        path,
    )
    _, events = run(path, tmp_path, [])
    assert [e.get("sent_at") for e in events] == [None, "2025-03-01T02:00:00.250Z"]
