"""Library entry points: ``produce`` (simulated fleet) and ``replay`` (a file of readings).

The CLI and the demo call these; both take frozen options, a Lake, and optionally a sink and a
clock (tests inject them), and return a summary.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TextIO

from producer.events import EventBatch
from producer.faults import FaultInjector
from producer.fleet import build_fleet, write_meter_registry
from producer.options import DEFAULT_START, ProduceOptions, ReplayOptions
from producer.pacing import Clock, SystemClock
from producer.progress import Progress
from producer.replay import BadRow, ReplayFile, RowProblem, time_range, to_event
from producer.sending import Chunk, send_all
from producer.simulator import Simulation
from producer.sinks import Sink, make_sink
from producer.summary import ProduceSummary, ReplaySummary
from smartgrid.durations import EPOCH, epoch_ms, format_timestamp_ms
from smartgrid.lake import Lake

MAX_PROBLEMS_SHOWN = 100
REPLAY_CHUNK_ROWS = 10_000
# Threads making simulator blocks ahead of the sender (numpy and Arrow release the GIL). One:
# on a busy 2-core machine a second thread measured slower; raise it on bigger machines.
GENERATOR_THREADS = 1


def _start_of(options: ProduceOptions, clock: Clock) -> datetime:
    """The first reading's time; a run leaving the contract's years is refused here."""
    if options.start is not None:
        options.check_time_range(epoch_ms(options.start))
        return options.start
    if options.pacing.realtime:
        # At speed 1, start at the current interval: timestamps track the wall clock. Faster,
        # end now instead: an accelerated clock starting now would run into the future.
        now_ms = epoch_ms(clock.utcnow())
        if options.pacing.speed > 1:
            now_ms -= options.duration // timedelta(milliseconds=1)
        step = options.interval // timedelta(milliseconds=1)
        options.check_time_range(now_ms - now_ms % step)
        return EPOCH + timedelta(milliseconds=now_ms - now_ms % step)
    options.check_time_range(epoch_ms(DEFAULT_START))
    return DEFAULT_START


def _paced_chunks(
    batch: EventBatch, step_ends: list[int], step_ms: list[int], rate_chunk: int | None
) -> Iterator[Chunk]:
    if rate_chunk is not None:
        for offset in range(0, len(batch), rate_chunk):
            yield Chunk(batch.slice(offset, rate_chunk))
        return
    begin = 0
    for end, ms in zip(step_ends, step_ms, strict=True):
        if end > begin:
            yield Chunk(batch.slice(begin, end - begin), ms)
        begin = end


def _rate_chunk(rate: float | None) -> int | None:
    # About 20 sends a second keeps a fixed rate smooth without a call per event.
    return None if rate is None else max(1, min(5_000, int(rate // 20)))


def produce(
    options: ProduceOptions,
    lake: Lake,
    sink: Sink | None = None,
    *,
    clock: Clock | None = None,
    stderr: TextIO | None = None,
) -> ProduceSummary:
    """Simulate ``options.meters`` meters and send their readings; returns what was done."""
    clock = clock or SystemClock()
    err = sys.stderr if stderr is None else stderr
    start = _start_of(options, clock)  # before the sink: a refused run leaves nothing behind
    sink = sink or make_sink(options.sink, lake, batch_size=options.batch_size)
    fleet = build_fleet(options.meters, options.seed, options.nominal_voltage)
    if lake.is_local:
        write_meter_registry(lake, fleet)
    interval_ms = options.interval // timedelta(milliseconds=1)
    simulation = Simulation(
        fleet,
        start_ms=epoch_ms(start),
        interval_ms=interval_ms,
        steps=options.steps,
        seed=options.seed,
    )
    injector = FaultInjector(
        options.faults,
        options.seed,
        meters=fleet.size,
        interval_seconds=interval_ms / 1000.0,
        nominal_voltage=fleet.nominal_voltage,
    )
    pacing = options.pacing
    rate_chunk = _rate_chunk(pacing.rate)

    def chunks() -> Iterator[Chunk]:
        for block in simulation.blocks(workers=GENERATOR_THREADS):
            batch, step_ends = injector.apply(block.batch, block.first_step)
            if not pacing.paced:
                yield Chunk(batch)
            else:
                step_ms = [simulation.step_ms(block.first_step + j) for j in range(block.steps)]
                yield from _paced_chunks(batch, step_ends, step_ms, rate_chunk)
        yield Chunk(injector.drain(), simulation.step_ms(max(0, simulation.steps - 1)))

    result = send_all(
        chunks(),
        sink,
        pacing=pacing,
        clock=clock,
        progress=Progress(err, clock, options.progress_every),
        verbose=err if options.verbose else None,
    )
    return ProduceSummary(
        events_sent=result.events,
        readings=simulation.total_events,
        faults=dict(sorted(injector.counts.items())),
        meters=fleet.size,
        first_timestamp=format_timestamp_ms(simulation.step_ms(0)),
        last_timestamp=format_timestamp_ms(simulation.step_ms(simulation.steps - 1)),
        seconds=result.seconds,
        events_per_second=result.events / result.seconds if result.seconds > 0 else 0.0,
        sink=sink.name,
        destination=sink.describe(),
        stopped=result.stopped,
    )


def replay(
    options: ReplayOptions,
    lake: Lake,
    sink: Sink | None = None,
    *,
    clock: Clock | None = None,
    stderr: TextIO | None = None,
) -> ReplaySummary:
    """Send the readings of a CSV or Parquet file; bad rows are reported and skipped."""
    clock = clock or SystemClock()
    err = sys.stderr if stderr is None else stderr
    source = ReplayFile(options)  # column problems are refused before the sink is opened
    sink = sink or make_sink(options.sink, lake, batch_size=options.batch_size)
    shift = timedelta(0)
    if options.shift_to_now:
        bounds = time_range(source)
        if bounds is not None:
            # Live replays start now; backfills end now (never in the future).
            anchor = bounds[0] if options.pacing.realtime else bounds[1]
            shift = timedelta(milliseconds=epoch_ms(clock.utcnow()) - epoch_ms(anchor))
    pacing = options.pacing
    limit = _rate_chunk(pacing.rate) or (1_000 if pacing.realtime else REPLAY_CHUNK_ROWS)
    stats = {"rows": 0, "bad": 0}
    problems: list[str] = []
    seen: dict[str, str | None] = {"first": None, "last": None}

    def chunks() -> Iterator[Chunk]:
        events: list[dict] = []
        chunk_ms: int | None = None
        for line, values in source.rows():
            stats["rows"] += 1
            try:
                event = to_event(values, derive_power=source.derive_power, shift=shift)
            except BadRow as why:
                stats["bad"] += 1
                problem = str(RowProblem(line, str(why)))
                if len(problems) < MAX_PROBLEMS_SHOWN:
                    problems.append(problem)
                    print(f"bad row skipped: {problem}", file=err)
                continue
            ts = event["timestamp"]
            seen["first"] = seen["first"] or ts
            seen["last"] = ts
            event_ms = _ms_of(ts)
            if events and (len(events) >= limit or (pacing.realtime and event_ms != chunk_ms)):
                yield Chunk(EventBatch.from_events(events), chunk_ms)
                events = []
            if not events:
                chunk_ms = event_ms
            events.append(event)
        if events:
            yield Chunk(EventBatch.from_events(events), chunk_ms)

    result = send_all(
        chunks(),
        sink,
        pacing=pacing,
        clock=clock,
        progress=Progress(err, clock, options.progress_every),
        verbose=err if options.verbose else None,
    )
    if stats["bad"] > len(problems):
        print(f"... and {stats['bad'] - len(problems):,} more bad rows", file=err)
    return ReplaySummary(
        events_sent=result.events,
        rows_read=stats["rows"],
        bad_rows=stats["bad"],
        first_timestamp=seen["first"],
        last_timestamp=seen["last"],
        seconds=result.seconds,
        events_per_second=result.events / result.seconds if result.seconds > 0 else 0.0,
        sink=sink.name,
        destination=sink.describe(),
        problems=tuple(problems),
        stopped=result.stopped,
    )


def _ms_of(timestamp: str) -> int:
    return epoch_ms(datetime.fromisoformat(timestamp.replace("Z", "+00:00")))
