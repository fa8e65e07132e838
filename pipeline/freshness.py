"""Live mode's freshness, from what each refresh saw: pure arithmetic, no Spark, no clock.

At speed 1 a reading is sent at its own timestamp (the producer flushes within a second), so a
reading's timestamp stands for its send time. Each refresh ``k`` records when it ended
(``finished_at``, after the curated table, the CSV and the dashboard were written) and the newest
reading the curated table then held (``newest``). Two figures follow:

typical    ``finished_at[k] - newest[k]``: the age of the newest curated reading when a refresh
           ends, what a viewer sees right after a refresh.
worst      ``finished_at[k] - newest[j]``, ``j`` the last earlier refresh that advanced the
           curated table: the wait of the oldest event the previous refresh did not include
           (sent just after ``newest[j]``), which the first refresh to advance past it shows at
           its end. Every event sent in ``(newest[j], newest[k]]`` became visible at
           ``finished_at[k]``, so none waited longer; a refresh that shows nothing new bounds no
           event (its events are bounded by the next refresh that advances).

Both assume events arrive in timestamp order (the live fleet injects no late events by default);
a late event's own wait is its ingest lag on top, and is not measured here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RefreshPoint:
    """What one refresh saw: when it ended and the newest curated reading's time (None: empty)."""

    finished_at: datetime
    newest: datetime | None


@dataclass(frozen=True)
class Freshness:
    """Per steady-state refresh: the newest reading's age and the bound on any event's wait."""

    typical: tuple[float, ...]
    worst: tuple[float, ...]

    @property
    def typical_median(self) -> float | None:
        return percentile(self.typical, 50)

    @property
    def typical_p95(self) -> float | None:
        return percentile(self.typical, 95)

    @property
    def worst_max(self) -> float | None:
        return max(self.worst) if self.worst else None

    def meets(self, goal_seconds: float) -> bool | None:
        """Whether every bounded event was visible within ``goal_seconds`` (None: no bound yet)."""
        worst = self.worst_max
        return None if worst is None else worst < goal_seconds


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile, nearest rank (the smallest value with ``q`` % at or below it)."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def typical_ages(points: Sequence[RefreshPoint]) -> list[float | None]:
    """Per refresh, seconds from the newest curated reading to the refresh's end (None: empty)."""
    return [
        None if p.newest is None else (p.finished_at - p.newest).total_seconds() for p in points
    ]


def worst_waits(
    points: Sequence[RefreshPoint], sending_since: datetime | None = None
) -> list[float | None]:
    """Per refresh, the longest any event it made visible waited since being sent (None: it made
    nothing new visible).

    ``sending_since`` is when the producer started: the bound for the first refresh that shows
    readings (None: that refresh bounds nothing, as nothing earlier is known).
    """
    seen = sending_since  # send time of the oldest event no refresh has shown yet (a bound)
    shown: datetime | None = None  # the newest reading any refresh has shown
    waits: list[float | None] = []
    for p in points:
        if p.newest is None or (shown is not None and p.newest <= shown):
            waits.append(None)
            continue
        waits.append(None if seen is None else (p.finished_at - seen).total_seconds())
        shown = seen = p.newest
    return waits


def measure(
    points: Sequence[RefreshPoint],
    sending_since: datetime | None = None,
    *,
    skip_first: int = 1,
) -> Freshness:
    """Typical and worst figures of the steady state: the first ``skip_first`` refreshes (start-up:
    the JVM warming, the first micro-batches) are left out of both, but still bound the next."""
    typical = typical_ages(points)[skip_first:]
    worst = worst_waits(points, sending_since)[skip_first:]
    return Freshness(
        typical=tuple(t for t in typical if t is not None),
        worst=tuple(w for w in worst if w is not None),
    )
