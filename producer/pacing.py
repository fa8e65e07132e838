"""Pacing: as fast as possible (simulated clock), paced to the wall clock, or a fixed rate.

The clock is injectable so tests drive time by hand instead of sleeping.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from smartgrid.durations import MAX_DURATION_DAYS, MAX_DURATION_SECONDS
from smartgrid.errors import SmartgridError

# The slowest pace: one event (--rate) or one simulated second (--speed) per longest duration.
MIN_PACE = 1 / MAX_DURATION_SECONDS
# time.sleep takes what the platform's time_t holds: a long wait is slept a day at a time.
_LONGEST_SLEEP = 86_400.0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def utcnow(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(min(seconds, _LONGEST_SLEEP))  # the caller sleeps again until due

    def utcnow(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to (or when asked to sleep): for tests and benchmarks."""

    def __init__(self, start: float = 0.0, wall: datetime | None = None) -> None:
        self.now = start
        self.wall = wall or datetime(2025, 1, 1, tzinfo=timezone.utc)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def utcnow(self) -> datetime:
        return self.wall + timedelta(seconds=self.now)


@dataclass(frozen=True)
class Pacing:
    """``realtime``: simulated time advances ``speed`` times faster than the wall clock;
    ``rate``: events per second regardless of their timestamps; neither: as fast as possible."""

    realtime: bool = False
    speed: float = 1.0
    rate: float | None = None

    def __post_init__(self) -> None:
        if self.realtime and self.rate is not None:
            raise SmartgridError("choose either --realtime or --rate, not both")
        if not self.speed > 0:
            raise SmartgridError(f"--speed {self.speed} must be greater than zero")
        if self.speed < MIN_PACE:
            raise SmartgridError(
                f"--speed {self.speed:g} is too slow: one simulated second would take more than "
                f"{MAX_DURATION_DAYS:,}d"
            )
        if self.rate is not None and not self.rate > 0:
            raise SmartgridError(f"--rate {self.rate} must be greater than zero events per second")
        if self.rate is not None and not math.isfinite(self.rate):
            raise SmartgridError(
                f"--rate {self.rate:g} must be a finite number of events per second "
                "(leave --rate out to send as fast as possible)"
            )
        if self.rate is not None and self.rate < MIN_PACE:
            raise SmartgridError(
                f"--rate {self.rate:g} is too slow: at least one event every {MAX_DURATION_DAYS:,}d"
            )
        if self.speed != 1.0 and not self.realtime:
            raise SmartgridError("--speed only applies with --realtime")

    @property
    def paced(self) -> bool:
        return self.realtime or self.rate is not None

    @property
    def mode(self) -> str:
        if self.realtime:
            return f"realtime x{self.speed:g}"
        if self.rate is not None:
            return f"{self.rate:g} events/s"
        return "simulated clock (as fast as possible)"

    def due(
        self, start: float, sent_before: int, sim_ms: int | None, origin_ms: int | None
    ) -> float:
        """Monotonic time at which a chunk may be sent."""
        if self.rate is not None:
            return start + sent_before / self.rate
        if self.realtime and sim_ms is not None and origin_ms is not None:
            return start + (sim_ms - origin_ms) / 1000.0 / self.speed
        return start
