"""Replay of CSV and Parquet readings: mapping, derived power, energy, bad rows, time shift."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from producer_helpers import RecordingSink

from producer.options import ReplayOptions, parse_mapping
from producer.pacing import ManualClock, Pacing
from producer.run import replay
from smartgrid.contract import event_schema
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

CSV = """\
ts,id,voltage_V,current,pf,energy
2025-03-01T00:00:00Z,M-1,230.0,2.0,0.9,0.1
2025-03-01T00:01:00Z,M-2,231.5,1.0,1.0,
2025-03-01T00:02:00,M-1,abc,2.0,0.9,0.1
2025-03-01T00:03:00Z,M-1,230.0,2.0,1.7,0.1
not-a-time,M-1,230.0,2.0,0.9,0.1
2025-03-01T00:05:00Z,,230.0,2.0,0.9,0.1
2025-03-01T00:06:00Z,M-1,230.0,2.0
2025-03-01T00:07:00+01:00,M-3,229.0,3.0,0.95,0.2
"""
MAPPING = (
    "timestamp=ts,meter_id=id,voltage=voltage_V,current_a=current,power_factor=pf,energy_kwh=energy"
)


def write_csv(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "readings.csv"
    path.write_text(text)
    return path


def run(path: Path, tmp_path: Path, clock: ManualClock | None = None, **kw):
    sink = RecordingSink()
    err = io.StringIO()
    opts = ReplayOptions(path=path, mapping=parse_mapping([MAPPING]), progress_every=0, **kw)
    lake = Lake.resolve(str(tmp_path / "lake"))
    summary = replay(opts, lake, sink, clock=clock or ManualClock(), stderr=err)
    return summary, sink.events(), err.getvalue()


def test_csv_rows_become_contract_events_with_derived_power(tmp_path) -> None:
    summary, events, _ = run(write_csv(tmp_path), tmp_path)
    assert summary.rows_read == 8 and summary.events_sent == 3 and summary.bad_rows == 5
    for event in events:
        jsonschema.validate(event, event_schema())
    first, second, third = events
    assert first["real_power_watts"] == pytest.approx(230.0 * 2.0 * 0.9)
    assert first["energy_kwh"] == 0.1 and first["current_a"] == 2.0
    assert "energy_kwh" not in second  # an empty cell is not invented
    assert first["event_id"] == "M-1-1740787200000"
    assert third["timestamp"] == "2025-02-28T23:07:00.000Z"  # +01:00 converted to UTC


def test_bad_rows_are_reported_with_their_file_line_and_skipped(tmp_path) -> None:
    summary, _, err = run(write_csv(tmp_path), tmp_path)
    # Line 1 is the header; the naive timestamp on line 4 is read as UTC (its voltage is bad).
    assert summary.problems == (
        "line 4: voltage: 'abc' is not a number",
        "line 5: power_factor: 1.7 is outside the contract's range 0 to 1",
        "line 6: timestamp: 'not-a-time' is not an ISO-8601 time",
        "line 7: meter_id: missing",
        "line 8: 4 values for 6 columns",
    )
    for problem in summary.problems:
        assert f"bad row skipped: {problem}" in err


def test_power_is_carried_when_the_file_has_it(tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "timestamp,meter_id,real_power_watts,voltage,power_factor\n"
        "2025-03-01T00:00:00Z,M-1,-1500.5,240.2,0.97\n",
    )
    sink = RecordingSink()
    replay(
        ReplayOptions(path=path, progress_every=0),
        Lake.resolve(str(tmp_path / "l")),
        sink,
        stderr=io.StringIO(),
    )
    [event] = sink.events()
    assert event["real_power_watts"] == -1500.5 and "current_a" not in event


def test_parquet_replay_with_row_numbers_for_bad_rows(tmp_path) -> None:
    path = tmp_path / "readings.parquet"
    table = pa.table(
        {
            "ts": [datetime(2025, 3, 1, 0, i, tzinfo=timezone.utc) for i in range(3)],
            "id": ["M-1", "M-2", "M-1"],
            "voltage_V": [230.0, None, 231.0],
            "current": [1.0, 1.0, 2.0],
            "pf": [0.9, 0.9, 0.95],
            "energy": [0.01, 0.01, None],
        }
    )
    pq.write_table(table, path)
    summary, events, _ = run(path, tmp_path)
    assert summary.events_sent == 2 and summary.problems == ("line 2: voltage: missing",)
    assert [e["meter_id"] for e in events] == ["M-1", "M-1"]
    assert events[1]["real_power_watts"] == pytest.approx(231.0 * 2.0 * 0.95)


def test_shift_to_now_moves_the_range_to_end_now(tmp_path) -> None:
    clock = ManualClock(wall=datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc))
    summary, events, _ = run(write_csv(tmp_path), tmp_path, shift_to_now=True, clock=clock)
    # The latest time of a valid row (00:01Z) lands exactly at now; spacing and order are kept.
    assert [e["timestamp"] for e in events] == [
        "2026-06-01T11:59:00.000Z",
        "2026-06-01T12:00:00.000Z",
        "2026-06-01T11:06:00.000Z",
    ]
    assert summary.bad_rows == 5


def test_realtime_replay_paces_by_the_file_times(tmp_path) -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    path = write_csv(
        tmp_path,
        "timestamp,meter_id,real_power_watts,voltage,power_factor\n"
        + "".join(f"2025-03-01T00:0{i}:00Z,M-1,100,230,0.9\n" for i in range(3)),
    )
    opts = ReplayOptions(path=path, pacing=Pacing(realtime=True, speed=60), progress_every=0)
    replay(opts, Lake.resolve(str(tmp_path / "l")), sink, clock=clock, stderr=io.StringIO())
    assert sink.send_times == pytest.approx([0.0, 1.0, 2.0])


def test_file_problems_are_refused_before_sending(tmp_path) -> None:
    path = write_csv(tmp_path)
    with pytest.raises(SmartgridError, match="no column for timestamp, meter_id, voltage"):
        replay(ReplayOptions(path=path), Lake.resolve(str(tmp_path / "l")), RecordingSink())
    with pytest.raises(SmartgridError, match="the file has no column 'volts'"):
        mapped = ReplayOptions(path=path, mapping=parse_mapping(["voltage=volts"]))
        replay(mapped, Lake.resolve(str(tmp_path / "l")), RecordingSink())
    with pytest.raises(SmartgridError, match="'watts' is not an event field"):
        ReplayOptions(path=path, mapping=parse_mapping(["watts=w"]))
    with pytest.raises(SmartgridError, match="does not exist"):
        ReplayOptions(path=tmp_path / "missing.csv")
    with pytest.raises(SmartgridError, match="must look like field=column"):
        parse_mapping(["voltage"])
