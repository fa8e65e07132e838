"""``smartgrid capacity``: the table, the formats, one-line refusals, and the doc kept in step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity import report
from capacity.model import example_fleets, load_measured, plan
from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_prints_a_table_for_one_fleet(tmp_path, capsys) -> None:
    code = main(["capacity", "--lake", str(tmp_path), "--meters", "1,000,000", "--interval", "1m"])
    assert code == 0
    out = capsys.readouterr().out
    header, rule, row = out.splitlines()[:3]
    assert "TUs" in header and "ingest cores" in header and set(rule) <= {"-", " "}
    cells = row.split()
    assert cells[:2] == ["1,000,000", "1m"]
    assert cells[2] == "16,667"  # 1M meters / 60 s


def test_json_holds_the_plan_and_the_provenance_of_every_figure(tmp_path, capsys) -> None:
    argv = ["capacity", "--lake", str(tmp_path), "--meters", "10000000", "--interval", "1s"]
    assert main([*argv, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (item,) = data["plans"]
    assert item["meters"] == 10_000_000 and item["events_per_second_mean"] == 10_000_000
    assert item["hub_tier"] != "Standard" and any("Premium" in w for w in item["warnings"])
    assert data["measured"]["ingest_events_per_second_per_core"]["status"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--meters", "0"], "--meters '0' must be at least 1"),
        (["--meters", "-5"], "--meters '-5' must be at least 1"),
        (["--meters", "many"], "--meters 'many' is not a whole number"),
        (["--meters", "100", "--interval", "15"], "--interval '15' is not a duration"),
        (["--meters", "100", "--interval", "0s"], "--interval '0s' must be greater than zero"),
        (["--meters", "100", "--spread", "1.5m"], "--spread '1.5m' is not a duration"),
        (["--meters", "100", "--dbt-cores", "0"], "--dbt-cores '0' must be at least 1"),
        ([], "give --meters N"),
        (["--examples", "--meters", "5"], "exclusive"),
    ],
)
def test_bad_values_are_refused_in_one_line(tmp_path, capsys, args, message) -> None:
    code = main(["capacity", "--lake", str(tmp_path), *args])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ") and message in line


def test_the_doc_shows_the_commands_table_and_the_measured_figures(tmp_path, capsys) -> None:
    """docs/capacity.md's generated blocks equal what the model gives today (regenerate them
    with ``python bench/measured.py --update-doc``)."""
    doc = (ROOT / "docs" / "capacity.md").read_text(encoding="utf-8")
    measured = load_measured()
    plans = [(label, plan(fleet, measured)) for label, fleet in example_fleets()]
    assert report.update_doc(doc, report.doc_blocks(plans, measured)) == doc

    assert main(["capacity", "--lake", str(tmp_path), "--examples", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.strip() in doc
