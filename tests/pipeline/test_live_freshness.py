"""Live mode's freshness arithmetic (pipeline/freshness.py): pure, no Spark, no clock.

The worst-case bound is checked against a brute force: every event of a simulated stream, sent
at its own timestamp, waits until the end of the first refresh whose newest curated reading is at
least its timestamp; the bound must cover every such wait and be reached by the stream's events.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.freshness import (
    RefreshPoint,
    measure,
    percentile,
    typical_ages,
    worst_waits,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def point(end: float, newest: float | None) -> RefreshPoint:
    return RefreshPoint(at(end), None if newest is None else at(newest))


def test_typical_is_the_newest_readings_age_at_each_refresh_end() -> None:
    points = [point(30, None), point(50, 12), point(80, 41)]
    assert typical_ages(points) == [None, 38.0, 39.0]


def test_worst_is_the_refresh_end_minus_the_previous_refreshs_newest_reading() -> None:
    # Producer started at 0; refresh 1 showed up to 12 s at 50 s, refresh 2 up to 41 s at 80 s.
    points = [point(50, 12), point(80, 41), point(95, 60)]
    # The event sent just after 12 s was first shown at 80 s: 68 s, not refresh 2's 39 s age.
    assert worst_waits(points, sending_since=at(0)) == [50.0, 68.0, 54.0]
    # Without the producer's start the first refresh bounds nothing known.
    assert worst_waits(points) == [None, 68.0, 54.0]


def test_a_refresh_that_shows_nothing_new_bounds_nothing_and_the_wait_goes_on() -> None:
    # Refresh 2 ran without new data: events sent after 12 s still wait, for refresh 3.
    points = [point(20, None), point(50, 12), point(70, 12), point(95, 60)]
    assert worst_waits(points, sending_since=at(0)) == [None, 50.0, None, 83.0]
    # An empty refresh before any data bounds nothing either.
    assert typical_ages(points)[0] is None


def test_measure_leaves_out_start_up_but_it_still_bounds_the_next_refresh() -> None:
    points = [point(50, 12), point(80, 41), point(95, 60), point(130, 100)]
    fresh = measure(points, at(0))
    assert fresh.typical == (39.0, 35.0, 30.0)
    assert fresh.worst == (68.0, 54.0, 70.0)
    assert fresh.worst_max == 70.0
    assert fresh.typical_median == 35.0
    assert fresh.meets(60) is False
    assert fresh.meets(71) is True
    assert measure([point(50, 12)], at(0)).meets(60) is None  # nothing in the steady state


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([], 95) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def _simulate(period: float, took: float, reads_at: float, lag: float, seconds: float):
    """A fixed-period refresh loop: refresh k starts at k*period, reads its input ``reads_at``
    seconds in (the rows that landed ``lag`` seconds after being sent are there) and ends
    ``took`` seconds after it starts. Events are sent every 0.1 s from time 0."""
    points = []
    start = 0.0
    while start + took <= seconds:
        newest = start + reads_at - lag
        points.append(point(start + took, newest if newest >= 0 else None))
        start += max(period, took)
    events = [i / 10 for i in range(int(seconds * 10))]
    return points, events


def _brute_force_waits(points: list[RefreshPoint], events: list[float]) -> list[float]:
    waits = []
    for sent in events:
        shown = [p for p in points if p.newest is not None and p.newest >= at(sent)]
        if shown:  # events no refresh showed before the stop are not counted
            waits.append((shown[0].finished_at - at(sent)).total_seconds())
    return waits


@pytest.mark.parametrize(
    ("period", "took", "reads_at", "lag"),
    [
        (20.0, 40.0, 5.0, 3.0),  # the old loop: a 40 s refresh every 20 s, back to back
        (20.0, 12.0, 4.0, 6.0),  # refreshes shorter than the period: idle gaps
        (0.0, 18.0, 3.0, 2.5),  # back to back, as soon as data lands
    ],
)
def test_the_worst_case_bound_covers_every_events_wait_and_is_reached(
    period: float, took: float, reads_at: float, lag: float
) -> None:
    points, events = _simulate(period, took, reads_at, lag, seconds=400)
    fresh = measure(points, at(0), skip_first=0)
    waits = _brute_force_waits(points, events)
    assert max(waits) <= fresh.worst_max + 1e-9
    assert max(waits) > fresh.worst_max - 0.1 - 1e-9  # reached within one event spacing
    # The newest reading's age alone would understate it.
    assert fresh.worst_max > max(fresh.typical)


def test_random_refresh_histories_never_have_an_event_wait_past_the_bound() -> None:
    rng = random.Random(18)
    for _ in range(200):
        points, end, newest = [], 0.0, 0.0
        for _ in range(rng.randint(1, 12)):
            end += rng.uniform(1, 40)
            if rng.random() < 0.8:  # most refreshes see new data, some do not
                newest = min(end - 0.5, newest + rng.uniform(0, 30))
            points.append(point(end, newest if newest > 0 else None))
        events = [i / 4 for i in range(int(end * 4))]
        waits = _brute_force_waits(points, events)
        bounds = [w for w in worst_waits(points, at(0)) if w is not None]
        if waits:
            assert max(waits) <= max(bounds) + 1e-9
