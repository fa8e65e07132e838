"""`smartgrid demo --source kafka`: the option reaches the demo, and is refused where it cannot work.

The full demo through the broker is run by hand (`smartgrid demo --source kafka`); the pipeline it
runs is the one tests/kafka/test_kafka_end_to_end.py checks.
"""

from __future__ import annotations

from pipeline.cli import build_parser, main


def test_default_source_is_the_local_event_hub() -> None:
    assert build_parser().parse_args(["demo"]).source == "local"
    assert build_parser().parse_args(["demo", "--source", "kafka"]).source == "kafka"


def test_live_demo_refuses_kafka_before_starting_anything(tmp_path, capsys) -> None:
    assert main(["demo", "--lake", str(tmp_path), "--live", "--source", "kafka"]) == 2
    assert "--live runs on the local event hub" in capsys.readouterr().err
    assert not (tmp_path / "kafka").exists()
