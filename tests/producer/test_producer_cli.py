"""``smartgrid produce`` / ``smartgrid replay`` end to end through the real CLI entry point."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from producer_helpers import landing_files, landing_lines

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_produce_writes_landing_files_and_a_summary(tmp_path, capsys) -> None:
    lake = tmp_path / "lake"
    code = main(
        [
            "produce", "--lake", str(lake), "--meters", "4", "--start", "2025-01-01T00:00:00Z",
            "--duration", "2h", "--interval", "15m", "--seed", "42", "--batch-size", "10",
            "--faults", "duplicate=0.1,malformed=0.1",
        ]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    files = landing_files(lake / "landing")
    assert [len(p.read_bytes().splitlines()) for p in files][:-1] == [10] * (len(files) - 1)
    lines = landing_lines(lake / "landing")
    assert f"produced {len(lines)} events (32 readings) from 4 meters to local" in err
    assert "time range 2025-01-01T00:00:00.000Z .. 2025-01-01T01:45:00.000Z" in err
    assert "duplicate=" in err and "malformed.broken_json=" in err
    assert (lake / "reference" / "meters.csv").exists()


def test_stdout_sink_pipes_json_lines(tmp_path, capsysbinary) -> None:
    code = main(
        [
            "produce",
            "--lake",
            str(tmp_path),
            "--meters",
            "2",
            "--duration",
            "1h",
            "--sink",
            "stdout",
        ]
    )
    assert code == 0
    out = capsysbinary.readouterr().out
    events = [orjson.loads(line) for line in out.splitlines()]
    assert len(events) == 8 and events[0]["meter_id"] == "MTR-000001"
    assert not (tmp_path / "landing").exists() or not list((tmp_path / "landing").iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--meters", "0"], "--meters 0 must be between 1"),
        (["--duration", "7x"], "--duration '7x' is not a duration"),
        (["--interval", "1h", "--duration", "30m"], "shorter than one --interval"),
        (["--start", "2025-01-01"], "--start '2025-01-01' has no time zone"),
        (["--faults", "late=2"], "fault late=2"),
        (["--nominal-voltage", "50"], "--nominal-voltage 50"),
        (["--realtime", "--rate", "5"], "either --realtime or --rate"),
        (["--batch-size", "0"], "--batch-size 0"),
        (["--sink", "eventhubs"], "EVENTHUB_CONNECTION_STR"),
        (["--duration", "99999999999d"], "--duration '99999999999d' is too long"),
        (["--start", "9999-12-31T00:00:00Z", "--duration", "2d"], "after the year 9999"),
        (["--duration", "3000000d"], "after the year 9999"),
        (["--realtime", "--speed", "2", "--duration", "999999d"], "before the year 1000"),
    ],
)
def test_bad_options_are_refused_before_any_work(
    tmp_path, capsys, monkeypatch, args, message
) -> None:
    for name in ("EVENTHUB_CONNECTION_STR", "EVENTHUB_NAME", "EVENTHUB_FULLY_QUALIFIED_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    lake = tmp_path / "lake"
    code = main(["produce", "--lake", str(lake), *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not lake.exists()  # nothing was written


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--start", "9999-12-31T23:59:00-05:00"], "--start"),  # the year 10000 in UTC
        (["--start", "0001-01-01T00:00:00+05:00"], "--start"),  # the year 0 in UTC
        (["--rate", "inf"], "--rate"),
        (["--rate", "1e400"], "--rate"),
        (["--rate", "1e-320"], "--rate"),  # one event, then a wait time_t cannot hold
        (["--realtime", "--speed", "1e-308"], "--speed"),
    ],
)
def test_extreme_values_are_one_error_line_and_nothing_is_sent(
    tmp_path, capsysbinary, args, option
) -> None:
    lake = tmp_path / "lake"
    fixed = ["--sink", "stdout", "--meters", "1", "--duration", "1h"]
    code = main(["produce", "--lake", str(lake), *fixed, *args])
    captured = capsysbinary.readouterr()
    err = captured.err.decode()
    assert code == 2, err
    assert captured.out == b""  # no event was sent
    assert "Traceback" not in err and "Error:" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [err.strip()] and option in lines[0], err


def test_the_year_9999_message_names_the_duration_as_written(tmp_path, capsys) -> None:
    args = ["--start", "9999-12-31T23:59:00Z", "--duration", "2h", "--interval", "1m"]
    assert main(["produce", "--lake", str(tmp_path / "lake"), *args]) == 2
    assert "--duration 2h from 9999-12-31T23:59:00.000Z ends after the year 9999" in (
        capsys.readouterr().err
    )


def test_replay_command_reports_bad_rows(tmp_path: Path, capsys) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "time,meter,W,V,pf\n"
        "2025-01-01T00:00:00Z,M-1,100,230,0.9\n"
        "2025-01-01T00:01:00Z,M-1,oops,230,0.9\n"
    )
    code = main(
        [
            "replay", str(path), "--lake", str(tmp_path / "lake"),
            "--map", "timestamp=time,meter_id=meter", "--map", "real_power_watts=W",
            "--map", "voltage=V,power_factor=pf",
        ]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "bad row skipped: line 3: real_power_watts: 'oops' is not a number" in err
    assert "replayed 1 events from 2 rows (1 bad rows skipped)" in err
    assert len(landing_lines(tmp_path / "lake" / "landing")) == 1


def test_sigterm_stops_a_live_run_and_flushes_what_was_accepted(tmp_path) -> None:
    """A real process: stopped mid-stream, it leaves whole visible files and no temp file."""
    lake = tmp_path / "lake"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "pipeline.cli", "produce", "--lake", str(lake),
            "--meters", "3", "--interval", "1s", "--duration", "1h", "--realtime", "--verbose",
        ],
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )  # fmt: skip
    assert process.stderr is not None
    shown = [process.stderr.readline() for _ in range(6)]  # two intervals were handed over
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"stopped early: interrupted" in rest
    lines = landing_lines(lake / "landing")
    assert [orjson.loads(line) for line in shown] == [orjson.loads(line) for line in lines[:6]]
    assert all(not p.name.startswith(".") for p in (lake / "landing").iterdir())
