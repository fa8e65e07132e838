"""The local event hub: the landing-file contract the ingest job depends on."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from producer_helpers import landing_files, landing_lines

from producer.events import EventBatch
from producer.sinks.local import LocalSink
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

NAME = re.compile(r"^events-\d{8}T\d{9}Z-[0-9a-f]{12}-\d{6}\.jsonl$")


def batch(start: int, count: int) -> EventBatch:
    lines = [b'{"n":%d}\n' % i for i in range(start, start + count)]
    return EventBatch.from_lines(lines, [f"MTR-{i % 3:06d}" for i in range(start, start + count)])


def test_batches_fill_files_until_full_in_send_order(lake: Lake) -> None:
    sink = LocalSink(lake, max_events_per_file=4)
    sink.send(batch(0, 3))
    sink.send(batch(3, 6))
    sink.close()
    files = landing_files(lake.landing)
    assert [len(p.read_bytes().splitlines()) for p in files] == [4, 4, 1]
    assert all(NAME.match(p.name) for p in files)
    assert all(p.parent == Path(lake.landing) for p in files)  # no subdirectories
    assert landing_lines(lake.landing) == [b'{"n":%d}' % i for i in range(9)]
    for path in files:
        data = path.read_bytes()
        assert data.endswith(b"\n") and b"\r" not in data
        data.decode("utf-8")
    assert sink.events_written == 9 and len(sink.files) == 3


def test_file_names_are_unique_across_runs_and_sort_by_run_start(lake: Lake) -> None:
    early = LocalSink(lake, started=datetime(2025, 1, 1, tzinfo=timezone.utc))
    late = LocalSink(lake, started=datetime(2025, 1, 2, tzinfo=timezone.utc))
    same = LocalSink(lake, started=datetime(2025, 1, 2, tzinfo=timezone.utc))
    for sink, start in ((late, 10), (same, 20), (early, 0)):
        sink.send(batch(start, 2))
        sink.close()
    names = [p.name for p in landing_files(lake.landing)]
    assert len(set(names)) == 3 and names[0].startswith("events-20250101T000000000Z-")
    assert early.run_id != late.run_id != same.run_id


def test_a_file_is_written_under_a_hidden_name_then_renamed(lake: Lake, monkeypatch) -> None:
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        assert Path(src).exists() and not Path(dst).exists()  # fully written before the rename
        renames.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    sink = LocalSink(lake, max_events_per_file=2)
    sink.send(batch(0, 2))
    sink.close()
    [(temp, final)] = renames
    assert temp.startswith(".") and temp == f".{final}.tmp"
    assert [p.name for p in Path(lake.landing).iterdir()] == [final]


def test_a_failed_write_leaves_no_visible_or_partial_file(lake: Lake, monkeypatch) -> None:
    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    sink = LocalSink(lake, max_events_per_file=2)
    sink.send(batch(0, 2))
    with pytest.raises(SmartgridError, match="No space left"):
        sink.close()
    assert list(Path(lake.landing).iterdir()) == []


def test_the_local_sink_needs_a_local_lake() -> None:
    with pytest.raises(SmartgridError, match="local lake"):
        LocalSink(Lake("abfss://lake@account.dfs.core.windows.net/smartgrid"))
