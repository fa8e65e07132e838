"""Helpers for the producer tests (imported by name: tests/producer is on sys.path under pytest)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from producer.events import EventBatch, concat
from producer.faults import FaultSpec
from producer.options import ProduceOptions

START = datetime(2025, 1, 6, tzinfo=timezone.utc)  # a Monday


def options(**overrides) -> ProduceOptions:
    values = {
        "meters": 5,
        "start": START,
        "duration": timedelta(hours=6),
        "interval": timedelta(minutes=15),
        "seed": 7,
        "faults": FaultSpec(),
        "progress_every": 0,
    }
    values.update(overrides)
    return ProduceOptions(**values)


def landing_files(landing: str | Path) -> list[Path]:
    return sorted(p for p in Path(landing).iterdir() if p.name.endswith(".jsonl"))


def landing_bytes(landing: str | Path) -> bytes:
    return b"".join(p.read_bytes() for p in landing_files(landing))


def landing_lines(landing: str | Path) -> list[bytes]:
    return landing_bytes(landing).splitlines()


class RecordingSink:
    """A sink that keeps what it is given, and when it was flushed (for pacing tests)."""

    name = "recording"

    def __init__(self, clock=None) -> None:
        self.batches: list[EventBatch] = []
        self.flushes: list[float] = []
        self.closed = False
        self.clock = clock
        self.send_times: list[float] = []

    def send(self, batch: EventBatch) -> None:
        self.batches.append(batch)
        if self.clock is not None:
            self.send_times.append(self.clock.monotonic())

    def flush(self) -> None:
        self.flushes.append(self.clock.monotonic() if self.clock is not None else 0.0)

    def close(self) -> None:
        self.closed = True

    def describe(self) -> str:
        return "memory"

    @property
    def delivered(self) -> int:
        return sum(len(b) for b in self.batches)

    def lines(self) -> list[bytes]:
        return [line[:-1] for line in concat(self.batches).line_list()] if self.batches else []

    def events(self) -> list:
        return [orjson.loads(line) for line in self.lines()]
