"""Pacing, progress and verbose output, driven by a manual clock (no real sleeps)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from producer_helpers import RecordingSink, options

from producer.events import EventBatch
from producer.faults import FaultSpec
from producer.pacing import ManualClock, Pacing
from producer.progress import Progress
from producer.run import produce
from producer.sending import Chunk, send_all
from producer.sinks.stdout import StdoutSink
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake


def test_simulated_clock_never_waits(tmp_path) -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    summary = produce(options(meters=3), Lake.resolve(str(tmp_path)), sink, clock=clock)
    assert clock.sleeps == [] and summary.events_sent == 3 * 24
    assert len(sink.batches) == 1  # one block, sent as it was made


def test_realtime_paces_intervals_to_the_wall_clock_with_speed(tmp_path) -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    opts = options(meters=2, duration=timedelta(hours=1), pacing=Pacing(realtime=True, speed=60))
    produce(opts, Lake.resolve(str(tmp_path)), sink, clock=clock)
    # 15-minute intervals at 60x: one interval every 15 wall seconds.
    assert sink.send_times == pytest.approx([0.0, 15.0, 30.0, 45.0])
    assert [len(b) for b in sink.batches] == [2, 2, 2, 2]


def test_realtime_without_start_begins_at_the_current_interval(tmp_path) -> None:
    clock = ManualClock(start=0.0)
    sink = RecordingSink(clock)
    opts = options(
        start=None, meters=1, duration=timedelta(minutes=30), pacing=Pacing(realtime=True)
    )
    clock.wall = clock.wall.replace(hour=10, minute=7, second=31)
    produce(opts, Lake.resolve(str(tmp_path)), sink, clock=clock)
    assert sink.events()[0]["timestamp"] == "2025-01-01T10:00:00.000Z"
    # Accelerated: the run ends at the current interval instead, never in the future.
    clock = ManualClock(wall=clock.wall)
    fast = RecordingSink(clock)
    opts = options(
        start=None, meters=1, duration=timedelta(hours=2), pacing=Pacing(realtime=True, speed=60)
    )
    produce(opts, Lake.resolve(str(tmp_path)), fast, clock=clock)
    stamps = [e["timestamp"] for e in fast.events()]
    assert stamps[0] == "2025-01-01T08:00:00.000Z" and stamps[-1] == "2025-01-01T09:45:00.000Z"


def test_rate_sends_n_events_per_second(tmp_path) -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    opts = options(meters=10, duration=timedelta(hours=1), pacing=Pacing(rate=100.0))
    summary = produce(opts, Lake.resolve(str(tmp_path)), sink, clock=clock)
    assert summary.events_sent == 40
    # Chunks of rate/20 = 5 events, one every 0.05 s.
    assert [len(b) for b in sink.batches] == [5] * 8
    assert sink.send_times == pytest.approx([i * 0.05 for i in range(8)])


def test_paced_sinks_are_flushed_about_every_second() -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    one = EventBatch.from_lines([b"{}\n"], ["MTR-000001"])
    # One event per simulated minute, at 10x: a send every 6 s, each flushed within a second.
    chunks = [Chunk(one, sim_ms=i * 60_000) for i in range(4)]
    send_all(chunks, sink, pacing=Pacing(realtime=True, speed=10), clock=clock)
    assert sink.send_times == pytest.approx([0, 6, 12, 18])
    assert sink.flushes == pytest.approx([1, 7, 13])  # the last one: by close, at the end
    assert sink.closed


def test_pacing_options_are_checked() -> None:
    with pytest.raises(SmartgridError, match="either --realtime or --rate"):
        Pacing(realtime=True, rate=10)
    with pytest.raises(SmartgridError, match="--speed"):
        Pacing(realtime=True, speed=0)
    with pytest.raises(SmartgridError, match="--rate"):
        Pacing(rate=-1)
    with pytest.raises(SmartgridError, match="only applies with --realtime"):
        Pacing(speed=5)


def test_progress_lines_are_periodic_and_verbose_prints_every_event(tmp_path) -> None:
    clock = ManualClock()
    err = io.StringIO()
    progress = Progress(err, clock, every=2.0)
    progress.update(10)
    clock.now = 2.5
    progress.update(500)
    assert err.getvalue().splitlines() == ["sent 500 events, 200 events/s"]

    err = io.StringIO()
    opts = options(meters=2, duration=timedelta(hours=1), verbose=True)
    summary = produce(opts, Lake.resolve(str(tmp_path)), RecordingSink(), clock=clock, stderr=err)
    lines = err.getvalue().splitlines()
    assert (
        len([line for line in lines if line.startswith('{"timestamp"')]) == summary.events_sent == 8
    )
    quiet = io.StringIO()
    produce(
        options(meters=2, duration=timedelta(hours=1)),
        Lake.resolve(str(tmp_path)),
        RecordingSink(),
        clock=clock,
        stderr=quiet,
    )
    assert quiet.getvalue() == ""


def test_paced_runs_with_faults_deliver_every_event(tmp_path) -> None:
    clock = ManualClock()
    sink = RecordingSink(clock)
    spec = FaultSpec(duplicate=0.1, late=0.1, malformed=0.05, voltage=0.05)
    opts = options(meters=6, faults=spec, pacing=Pacing(realtime=True, speed=900))
    summary = produce(opts, Lake.resolve(str(tmp_path)), sink, clock=clock)
    assert summary.events_sent == opts.total_readings + summary.faults["duplicate"]
    assert summary.events_sent == len(sink.lines())
    assert summary.faults["late"] > 0 and clock.sleeps  # paced, and late events released


def test_a_closed_stdout_stops_the_run_quietly() -> None:
    class ClosedPipe(io.BytesIO):
        def write(self, data) -> int:
            raise BrokenPipeError

    sink = StdoutSink(ClosedPipe())
    one = EventBatch.from_lines([b"{}\n"], ["MTR-000001"])
    result = send_all([Chunk(one), Chunk(one)], sink, pacing=Pacing(), clock=ManualClock())
    assert result.stopped == "stdout was closed by the reader" and result.events == 0
