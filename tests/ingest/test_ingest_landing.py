"""Point 3 of issue 19: nothing in the landing folder is skipped without a word.

Real Spark: the landing source reads only ``*.jsonl`` files directly in the folder, each name
once. Every other entry, and a file rewritten under a name already ingested, is reported as a
warning naming its path, once per run, and counted in the summary.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ingest_helpers import body, make_event, write_landing_file

from ingest.config import IngestConfig
from ingest.job import run_ingest
from ingest.landing import IgnoredEntry, why_ignored


@pytest.mark.parametrize(
    ("name", "is_dir", "ignored"),
    [
        ("a.jsonl", False, False),
        (".a.jsonl.tmp", False, False),  # the producer's file in flight
        ("a.json", False, True),
        ("a.JSONL", False, True),
        ("a.jsonl.gz", False, True),
        ("_a.jsonl", False, True),
        (".a.jsonl", False, True),
        ("sub", True, True),
        ("a.jsonl", True, True),
    ],
)
def test_which_names_the_source_skips(name: str, is_dir: bool, ignored: bool) -> None:
    assert (why_ignored(name, is_dir=is_dir) is not None) is ignored


def _names(entries: list[IgnoredEntry]) -> list[str]:
    return [e.path for e in entries]


def test_every_ignored_entry_is_reported_once_and_counted(spark, lake, capsys) -> None:
    landing = Path(lake.landing)
    write_landing_file(landing, "a.jsonl", [body(make_event(1)), body(make_event(2))])
    write_landing_file(landing, "b.json", [body(make_event(3))])
    write_landing_file(landing, "c.JSONL", [body(make_event(4))])
    write_landing_file(landing / "sub", "d.jsonl", [body(make_event(5))])
    write_landing_file(landing / "e.jsonl", "f.jsonl", [body(make_event(6))])
    (landing / "_g.jsonl").write_text(body(make_event(7)) + "\n")
    (landing / ".h.jsonl.tmp").write_text(body(make_event(8)) + "\n")  # in flight: silent
    config = IngestConfig(lake=lake)

    warned: list[IgnoredEntry] = []
    first = run_ingest(config, spark=spark, warn=warned.append)
    assert first.raw == 2  # only a.jsonl is read
    assert _names(warned) == ["_g.jsonl", "b.json", "c.JSONL", "e.jsonl/", "sub/"]
    assert first.ignored == 5
    assert "ignored     5 landing entries" in first.format()

    # a.jsonl rewritten under its name (a new modification time): the source never reads it
    # again, so it is reported; entries already reported in an earlier run are reported again
    # (once per run), with the default warning on stderr.
    a = write_landing_file(landing, "a.jsonl", [body(make_event(1)), body(make_event(9))])
    stat = a.stat()
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    capsys.readouterr()
    second = run_ingest(config, spark=spark)
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if line.startswith("warning: ignored landing entry: ")]
    assert len(warnings) == 6 and second.ignored == 6 and second.raw == 0
    (rewritten,) = [w for w in warnings if w.startswith("warning: ignored landing entry: a.jsonl:")]
    assert "rewritten after it was ingested" in rewritten
    assert any(w.startswith("warning: ignored landing entry: sub/: a sub-folder") for w in warnings)


def test_a_clean_landing_folder_reports_nothing(spark, lake, capsys) -> None:
    write_landing_file(Path(lake.landing), "a.jsonl", [body(make_event(1))])
    summary = run_ingest(IngestConfig(lake=lake), spark=spark)
    assert summary.ignored == 0 and "ignored" not in summary.format()
    assert "warning" not in capsys.readouterr().err


def test_a_sub_folder_named_like_a_partition_is_ignored_too(spark, lake, capsys) -> None:
    """``k=1/`` looks like a Hive partition to Spark's file source: it must not break the stream."""
    landing = Path(lake.landing)
    write_landing_file(landing, "a.jsonl", [body(make_event(1)), body(make_event(2))])
    write_landing_file(landing / "k=1", "x.json", [body(make_event(3))])
    write_landing_file(landing / "k=1", "y.jsonl", [body(make_event(4))])
    write_landing_file(landing / "day=2025-01-01" / "hour=00", "z.jsonl", [body(make_event(5))])
    config = IngestConfig(lake=lake)
    summary = run_ingest(config, spark=spark)
    assert (summary.raw, summary.validated, summary.ignored) == (2, 2, 2)
    err = capsys.readouterr().err
    assert "warning: ignored landing entry: k=1/: a sub-folder" in err
    assert "warning: ignored landing entry: day=2025-01-01/: a sub-folder" in err

    # Later files keep being ingested next to the partition-like folders.
    write_landing_file(landing, "b.jsonl", [body(make_event(6))])
    write_landing_file(landing / "k=2", "w.jsonl", [body(make_event(7))])
    again = run_ingest(config, spark=spark)
    assert (again.raw, again.validated) == (1, 1)
