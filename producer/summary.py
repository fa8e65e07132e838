"""What a run reports: counts, time range, speed. Printed by the CLI, returned to callers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProduceSummary:
    events_sent: int
    readings: int  # readings simulated (events_sent also counts duplicates)
    faults: dict[str, int]  # by kind ("late") and sub-kind ("malformed.wrong_type")
    meters: int
    first_timestamp: str | None
    last_timestamp: str | None
    seconds: float
    events_per_second: float
    sink: str
    destination: str
    stopped: str | None = None  # why the run ended early (Ctrl-C, stdout closed), else None

    def lines(self) -> list[str]:
        faults = ", ".join(f"{k}={v:,}" for k, v in self.faults.items()) or "none"
        return [
            f"produced {self.events_sent:,} events ({self.readings:,} readings) from "
            f"{self.meters:,} meters to {self.sink}: {self.destination}",
            f"time range {self.first_timestamp} .. {self.last_timestamp}",
            f"faults: {faults}",
            f"{self.seconds:.2f} s, {self.events_per_second:,.0f} events/s"
            + (f" (stopped early: {self.stopped})" if self.stopped else ""),
        ]


@dataclass(frozen=True)
class ReplaySummary:
    events_sent: int
    rows_read: int
    bad_rows: int
    first_timestamp: str | None
    last_timestamp: str | None
    seconds: float
    events_per_second: float
    sink: str
    destination: str
    problems: tuple[str, ...] = field(default=())  # the first bad rows, "line N: reason"
    stopped: str | None = None
    resume_line: int | None = None  # stopped early: the first line not surely delivered

    def lines(self) -> list[str]:
        resume = (
            [f"to send the rest, run the same command with --start-line {self.resume_line}"]
            if self.resume_line is not None
            else []
        )
        return [
            f"replayed {self.events_sent:,} events from {self.rows_read:,} rows "
            f"({self.bad_rows:,} bad rows skipped) to {self.sink}: {self.destination}",
            f"time range {self.first_timestamp} .. {self.last_timestamp}",
            f"{self.seconds:.2f} s, {self.events_per_second:,.0f} events/s"
            + (f" (stopped early: {self.stopped})" if self.stopped else ""),
            *resume,
        ]
