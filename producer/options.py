"""Options of ``produce`` and ``replay`` as frozen dataclasses, checked when built.

Every problem is refused here with a message that names it, before any work starts.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from producer.faults import FaultSpec
from producer.pacing import Pacing
from producer.sinks import SINKS
from producer.sinks.local import DEFAULT_MAX_EVENTS_PER_FILE
from smartgrid.durations import (
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    epoch_ms,
    format_duration,
    format_timestamp_ms,
)
from smartgrid.errors import SmartgridError

# A fixed default start keeps the default run reproducible byte for byte.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
MAX_METERS = 999_999  # ids have six digits
NOMINAL_VOLTAGE_RANGE = (100.0, 380.0)  # 120 V (ANSI) and 230 V (EN 50160) and their kin
CONTRACT_FIELDS = (
    "timestamp",
    "meter_id",
    "real_power_watts",
    "voltage",
    "power_factor",
    "energy_kwh",
    "current_a",
    "event_id",
    "sent_at",
)


def _check_common(sink: str, batch_size: int) -> None:
    if sink not in SINKS:
        raise SmartgridError(f"unknown sink {sink!r}: choose from {', '.join(SINKS)}")
    if batch_size < 1:
        raise SmartgridError(f"--batch-size {batch_size} must be at least 1")


@dataclass(frozen=True)
class ProduceOptions:
    meters: int = 100
    start: datetime | None = None  # None: DEFAULT_START, or now with --realtime
    duration: timedelta = timedelta(days=7)
    interval: timedelta = timedelta(minutes=15)
    seed: int = 42
    sink: str = "local"
    faults: FaultSpec = field(default_factory=FaultSpec)
    pacing: Pacing = field(default_factory=Pacing)
    batch_size: int = DEFAULT_MAX_EVENTS_PER_FILE
    nominal_voltage: float = 230.0
    verbose: bool = False
    progress_every: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.meters <= MAX_METERS:
            raise SmartgridError(f"--meters {self.meters} must be between 1 and {MAX_METERS:,}")
        if self.interval < timedelta(milliseconds=1):
            raise SmartgridError(f"--interval {self.interval} must be at least 1 ms")
        if self.duration < self.interval:
            raise SmartgridError(
                f"--duration {self.duration} is shorter than one --interval ({self.interval})"
            )
        low, high = NOMINAL_VOLTAGE_RANGE
        if not low <= self.nominal_voltage <= high:
            raise SmartgridError(
                f"--nominal-voltage {self.nominal_voltage:g} must be between {low:g} and {high:g} "
                "(e.g. 230 for EN 50160 grids, 120 for North America)"
            )
        if self.start is not None and self.start.tzinfo is None:
            raise SmartgridError("--start must carry a time zone (e.g. 2025-01-01T00:00:00Z)")
        if self.seed < 0:
            raise SmartgridError(f"--seed {self.seed} must not be negative")
        _check_common(self.sink, self.batch_size)
        if self.start is not None or not self.pacing.realtime:
            self.check_time_range(epoch_ms(self.start or DEFAULT_START))

    def check_time_range(self, first: int) -> None:
        """Refuse a run (first reading at epoch ms ``first``) leaving the contract's years."""
        last = first + (self.steps - 1) * (self.interval // timedelta(milliseconds=1))
        if first < MIN_TIMESTAMP_MS:
            raise SmartgridError(
                f"the run would start at {first // 86_400_000:,} days from 1970, before the year "
                "1000: give a later --start (or, with --realtime, a shorter --duration)"
            )
        if last > MAX_TIMESTAMP_MS:
            raise SmartgridError(
                f"--duration {format_duration(self.duration)} from {format_timestamp_ms(first)} ends "
                "after the year 9999: shorten --duration or give an earlier --start"
            )

    @property
    def steps(self) -> int:
        return self.duration // self.interval

    @property
    def total_readings(self) -> int:
        return self.steps * self.meters


@dataclass(frozen=True)
class ReplayOptions:
    path: Path
    mapping: tuple[tuple[str, str], ...] = ()  # (contract field, file column)
    shift_to_now: bool = False
    sink: str = "local"
    pacing: Pacing = field(default_factory=Pacing)
    batch_size: int = DEFAULT_MAX_EVENTS_PER_FILE
    verbose: bool = False
    progress_every: float = 2.0
    encoding: str = "utf-8"  # of a CSV file
    start_line: int = 1  # skip the rows before this line (CSV) or row number (Parquet)
    # --energy-interval: the power column holds energy in Wh over this interval, sent as the
    # interval's average power (W = Wh x 3600 / seconds); None: it holds watts.
    energy_interval: timedelta | None = None

    def __post_init__(self) -> None:
        if self.energy_interval is not None and self.energy_interval <= timedelta(0):
            raise SmartgridError(
                f"--energy-interval must be greater than zero (got {self.energy_interval}): "
                "it is the interval each reading's energy covers, e.g. 1h"
            )
        try:
            info = codecs.lookup(self.encoding)
        except LookupError:
            raise SmartgridError(
                f"--encoding {self.encoding!r} is not an encoding Python knows "
                "(e.g. utf-8, cp1252, latin-1)"
            ) from None
        name = "utf-8" if info.name in ("utf-8", "utf-8-sig") else info.name
        # Lines are split on ASCII line ends: UTF-16 and UTF-32 files would need another reader.
        if ',\n"'.encode(name, "replace") != b',\n"':
            raise SmartgridError(
                f"--encoding {self.encoding}: only encodings that keep ASCII as it is are read "
                "(utf-8, cp1252, latin-1, ...): convert the file to UTF-8 first"
            )
        object.__setattr__(self, "encoding", name)
        if self.start_line < 1:
            raise SmartgridError(f"--start-line {self.start_line} must be 1 or more")
        path = Path(self.path)
        if not path.is_file():
            raise SmartgridError(f"replay file {path} does not exist (or is not a file)")
        if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise SmartgridError(f"replay file {path} must be .csv or .parquet")
        targets = [target for target, _ in self.mapping]
        for target in targets:
            if target not in CONTRACT_FIELDS:
                raise SmartgridError(
                    f"--map {target}=...: {target!r} is not an event field; "
                    f"choose from {', '.join(CONTRACT_FIELDS)}"
                )
        duplicates = sorted({t for t in targets if targets.count(t) > 1})
        if duplicates:
            raise SmartgridError(f"--map gives {', '.join(duplicates)} more than once")
        _check_common(self.sink, self.batch_size)

    def column_for(self, target: str) -> str:
        return dict(self.mapping).get(target, target)


def parse_mapping(items: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``["voltage=voltage_V", "meter_id=id,timestamp=ts"]`` -> (("voltage", "voltage_V"), ...)."""
    pairs: list[tuple[str, str]] = []
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            target, sep, source = part.partition("=")
            if not sep or not target.strip() or not source.strip():
                raise SmartgridError(
                    f"--map {part!r} must look like field=column, e.g. voltage=voltage_V"
                )
            pairs.append((target.strip(), source.strip()))
    return tuple(pairs)
