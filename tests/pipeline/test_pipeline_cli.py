"""The orchestration floor without Spark: explicit command registration and live mode's options."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys

import pytest

from pipeline import cli
from pipeline.live import LiveOptions
from smartgrid.errors import SmartgridError


def test_every_command_is_registered_in_order() -> None:
    parser = cli.build_parser()
    [commands] = [a for a in parser._actions if a.dest == "command"]
    assert list(commands.choices) == [
        "produce",
        "replay",
        "ingest",
        "build",
        "export",
        "report",
        "kafka",
        "demo",
        "capacity",
    ]


def test_a_missing_command_module_is_an_import_error(monkeypatch) -> None:
    """A command module that cannot be imported stops the CLI; it is never silently skipped."""
    import kafka_broker

    monkeypatch.delattr(kafka_broker, "cli")
    monkeypatch.setitem(sys.modules, "kafka_broker.cli", None)  # "not importable"
    with pytest.raises(ImportError, match=r"kafka_broker\.cli"):
        importlib.reload(cli)
    monkeypatch.undo()
    importlib.reload(cli)


def test_help_starts_no_spark() -> None:
    """Command modules parse options only: --help imports neither PySpark nor dbt."""
    code = (
        "import sys\n"
        "from pipeline.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in ('pyspark', 'dbt', 'confluent_kafka') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_live_options_come_from_the_demo_command_line() -> None:
    args = cli.build_parser().parse_args(
        ["demo", "--live", "--meters", "50", "--interval", "2s", "--refresh", "7", "--for", "30"]
    )
    options = LiveOptions.from_args(args)
    assert (options.meters, options.interval, options.refresh, options.run_for) == (
        50,
        "2s",
        7.0,
        30.0,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.meters = 1  # type: ignore[misc]


def test_live_options_refuse_a_negative_refresh_or_a_non_positive_ingest() -> None:
    assert LiveOptions(refresh=0).refresh == 0  # back to back: the default
    with pytest.raises(SmartgridError, match="--refresh -1"):
        LiveOptions(refresh=-1)
    with pytest.raises(SmartgridError, match="--ingest-every 0"):
        LiveOptions(ingest_every=0)
