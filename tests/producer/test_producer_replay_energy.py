"""Replay of a file of ENERGY per reading (--energy-interval): Wh over the interval -> watts."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import jsonschema
import orjson
import pytest
from producer_helpers import RecordingSink, landing_lines

from pipeline.cli import main
from producer.options import ReplayOptions, parse_mapping
from producer.run import replay
from smartgrid.contract import event_schema
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

HOURLY = """\
timestamp,meter_id,energy_wh,voltage,power_factor
2025-03-01T00:00:00Z,M-1,1500,230.0,0.95
2025-03-01T01:00:00Z,M-1,0.25,230.0,0.95
2025-03-01T03:00:00Z,M-1,-420.5,231.0,0.97
2025-03-01T00:00:00Z,M-2,999999999,230.0,0.95
2025-03-01T01:00:00Z,M-2,abc,230.0,0.95
"""


def replay_energy(path: Path, tmp_path: Path, interval: timedelta):
    sink = RecordingSink()
    options = ReplayOptions(
        path=path,
        mapping=parse_mapping(["real_power_watts=energy_wh"]),
        progress_every=0,
        energy_interval=interval,
    )
    summary = replay(options, Lake.resolve(str(tmp_path / "lake")), sink, stderr=io.StringIO())
    return summary, sink.events()


def test_hourly_energy_becomes_the_average_power_of_its_hour(tmp_path) -> None:
    path = tmp_path / "hourly.csv"
    path.write_text(HOURLY)
    summary, events = replay_energy(path, tmp_path, timedelta(hours=1))
    for event in events:
        jsonschema.validate(event, event_schema())
    # Wh over one hour is that many watts on average; exports stay negative.
    assert [e["real_power_watts"] for e in events] == [1500.0, 0.25, -420.5]
    assert summary.problems == (
        "line 5: real_power_watts: 1e+09 Wh over 3600 s is 1e+09 W, outside the contract's "
        "range -100000 to 1e+06",
        "line 6: real_power_watts: 'abc' is not a number",
    )


def test_the_interval_scales_the_power(tmp_path) -> None:
    path = tmp_path / "quarter.csv"
    path.write_text(HOURLY)
    _, events = replay_energy(path, tmp_path, timedelta(minutes=15))
    assert [e["real_power_watts"] for e in events][:2] == [
        pytest.approx(1500 * 3600 / 900),
        pytest.approx(0.25 * 3600 / 900),
    ]


def test_energy_interval_zero_or_negative_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "hourly.csv"
    path.write_text(HOURLY)
    lake = str(tmp_path / "lake")
    for value in ("0h", "-1h"):
        code = main(
            [
                "replay", str(path), "--lake", lake, "--map", "real_power_watts=energy_wh",
                f"--energy-interval={value}",
            ]
        )  # fmt: skip
        assert code == 2
        err = capsys.readouterr().err
        assert "--energy-interval" in err and "must be greater than zero" in err, err
    assert not list(Path(lake).rglob("*.jsonl"))  # refused before any event
    with pytest.raises(SmartgridError, match="--energy-interval must be greater than zero"):
        ReplayOptions(path=path, energy_interval=timedelta(0))


def test_energy_interval_needs_a_power_column(tmp_path) -> None:
    path = tmp_path / "no_power.csv"
    path.write_text("timestamp,meter_id,voltage,power_factor,current_a\n")
    options = ReplayOptions(path=path, energy_interval=timedelta(hours=1))
    with pytest.raises(SmartgridError, match="--map real_power_watts=COLUMN"):
        replay(options, Lake.resolve(str(tmp_path / "lake")), RecordingSink())


def test_cli_replays_hourly_energy_into_the_landing_zone(tmp_path, capsys) -> None:
    path = tmp_path / "hourly.csv"
    path.write_text(HOURLY)
    lake = tmp_path / "lake"
    code = main(
        [
            "replay", str(path), "--lake", str(lake), "--map", "real_power_watts=energy_wh",
            "--energy-interval", "1h",
        ]
    )  # fmt: skip
    assert code == 0
    lines = landing_lines(lake / "landing")
    watts = sorted(orjson.loads(line)["real_power_watts"] for line in lines)
    assert watts == [-420.5, 0.25, 1500.0]
    assert "2 bad rows skipped" in capsys.readouterr().err
