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
from producer.replay import BadRow, FileCheck, ReplayFile, check_file, good_rows, to_event
from producer.sending import Chunk, send_all
from producer.simulator import Simulation
from producer.sinks import Sink, make_sink
from producer.summary import ProduceSummary, ReplaySummary
from smartgrid.durations import (
    EPOCH,
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    epoch_ms,
    format_timestamp_ms,
)
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

MAX_PROBLEMS_SHOWN = 100
REPLAY_CHUNK_ROWS = 10_000
# Files with up to this many good rows are held (encoded, ~0.3 KB a row) between the check and
# the send, so they are read once; bigger ones are read twice.
REPLAY_CACHE_ROWS = 250_000
# A remote sink (Event Hubs, Kafka) delivers out of file order; flushing it every so many events
# gives a line from which a failed replay can resume without losing a row.
REMOTE_CHECKPOINT_EVENTS = 100_000
IN_ORDER_SINKS = ("local", "stdout")  # delivered events are always a prefix of those sent
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
    progress=None,
) -> ProduceSummary:
    """Simulate ``options.meters`` meters and send their readings; returns what was done.

    ``progress`` (anything with ``update(events_sent)``) replaces the periodic progress lines.
    """
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
        steps=options.steps,
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
        progress=progress or Progress(err, clock, options.progress_every),
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


class _Tracked:
    """A sink wrapper that knows how many events are surely delivered, in send order.

    In-order sinks deliver a prefix of what they were given; for the others only what a
    successful flush covered is sure, so they are flushed every ``checkpoint_every`` events.
    """

    def __init__(self, sink: Sink, checkpoint_every: int) -> None:
        self.sink = sink
        self.name = sink.name
        self.in_order = sink.name in IN_ORDER_SINKS
        self.checkpoint_every = checkpoint_every
        self.handed = 0
        self.flushed = 0

    def send(self, batch: EventBatch) -> None:
        self.sink.send(batch)
        self.handed += len(batch)
        if not self.in_order and self.handed - self.flushed >= self.checkpoint_every:
            self.flush()

    def flush(self) -> None:
        self.sink.flush()
        self.flushed = self.handed

    def close(self) -> None:
        self.sink.close()
        self.flushed = self.handed

    def describe(self) -> str:
        return self.sink.describe()

    @property
    def delivered(self) -> int:
        return self.sink.delivered

    @property
    def surely_delivered(self) -> int:
        """Events delivered as a prefix of those sent: the rows a resume may skip."""
        return min(self.sink.delivered, self.handed) if self.in_order else self.flushed


def _shift_ms(options: ReplayOptions, check: FileCheck, clock: Clock) -> int:
    if not options.shift_to_now or check.low_ms is None or check.high_ms is None:
        return 0
    # Live replays start now; backfills end now (never in the future).
    anchor = check.low_ms if options.pacing.realtime else check.high_ms
    return epoch_ms(clock.utcnow()) - anchor


def _line_of_good_row(
    source: ReplayFile, options: ReplayOptions, shift_ms: int, index: int
) -> int | None:
    """The line of the ``index``-th good row (0-based) from --start-line, None past the end."""
    for line, values in source.rows(options.start_line):
        try:
            to_event(
                values,
                derive_power=source.derive_power,
                shift_ms=shift_ms,
                energy_seconds=source.energy_seconds,
            )
        except BadRow:
            continue
        if index == 0:
            return line
        index -= 1
    return None


def replay(
    options: ReplayOptions,
    lake: Lake,
    sink: Sink | None = None,
    *,
    clock: Clock | None = None,
    stderr: TextIO | None = None,
) -> ReplaySummary:
    """Send the readings of a CSV or Parquet file; bad rows are reported and skipped.

    The whole file is read once before the first event is sent: every bad row is reported up
    front, and a file that cannot be read stops the run before anything is half-sent. A sink
    failing mid-way is one error saying how many events were delivered and how to resume.
    """
    clock = clock or SystemClock()
    err = sys.stderr if stderr is None else stderr
    source = ReplayFile(options)  # column problems are refused before the sink is opened
    cache_rows = 0 if options.shift_to_now else REPLAY_CACHE_ROWS  # shifted rows change
    checking = Progress(err, clock, options.progress_every)
    check = check_file(
        source,
        start_line=options.start_line,
        keep=MAX_PROBLEMS_SHOWN,
        cache_rows=cache_rows,
        on_progress=lambda rows: checking.update(rows, label="checked"),
    )
    shift_ms = _shift_ms(options, check, clock)
    if shift_ms and not (
        check.low_ms + shift_ms >= MIN_TIMESTAMP_MS  # type: ignore[operator]
        and check.high_ms + shift_ms <= MAX_TIMESTAMP_MS  # type: ignore[operator]
    ):
        # The shift pushes some rows out of the contract's years: they become bad rows.
        check = check_file(
            source, shift_ms=shift_ms, start_line=options.start_line, keep=MAX_PROBLEMS_SHOWN
        )
    if check.good == 0 and check.undecoded is not None:
        raise SmartgridError(f"replay file {source.path}: no row decodes; first: {check.undecoded}")
    problems = check.problems or []
    for problem in problems:
        print(f"bad row skipped: {problem}", file=err)
    if check.bad > len(problems):
        print(f"... and {check.bad - len(problems):,} more bad rows", file=err)

    tracked = _Tracked(
        sink or make_sink(options.sink, lake, batch_size=options.batch_size),
        REMOTE_CHECKPOINT_EVENTS,
    )
    pacing = options.pacing
    limit = _rate_chunk(pacing.rate) or (1_000 if pacing.realtime else REPLAY_CHUNK_ROWS)
    seen: dict[str, int | None] = {"low": None, "high": None}

    def chunks() -> Iterator[Chunk]:
        rows = check.cached
        if rows is None:
            rows = good_rows(source, shift_ms=shift_ms, start_line=options.start_line)
        lines: list[bytes] = []
        meters: list[str] = []
        chunk_ms: int | None = None
        for line, meter, event_ms in rows:
            low, high = seen["low"], seen["high"]
            seen["low"] = event_ms if low is None else min(low, event_ms)
            seen["high"] = event_ms if high is None else max(high, event_ms)
            if lines and (len(lines) >= limit or (pacing.realtime and event_ms != chunk_ms)):
                yield Chunk(EventBatch.from_lines(lines, meters), chunk_ms)
                lines, meters = [], []
            if not lines:
                chunk_ms = event_ms
            lines.append(line)
            meters.append(meter)
        if lines:
            yield Chunk(EventBatch.from_lines(lines, meters), chunk_ms)

    try:
        result = send_all(
            chunks(),
            tracked,
            pacing=pacing,
            clock=clock,
            progress=Progress(err, clock, options.progress_every),
            verbose=err if options.verbose else None,
        )
    except SmartgridError as failure:
        raise SmartgridError(
            f"{failure}; {tracked.delivered:,} of {check.good:,} events were delivered"
            + _resume_hint(source, options, shift_ms, tracked.surely_delivered)
        ) from None
    resume = None
    if result.stopped is not None:
        resume = _line_of_good_row(source, options, shift_ms, tracked.surely_delivered)
    low, high = seen["low"], seen["high"]
    return ReplaySummary(
        events_sent=result.events,
        rows_read=check.rows,
        bad_rows=check.bad,
        first_timestamp=None if low is None else format_timestamp_ms(low),
        last_timestamp=None if high is None else format_timestamp_ms(high),
        seconds=result.seconds,
        events_per_second=result.events / result.seconds if result.seconds > 0 else 0.0,
        sink=tracked.name,
        destination=tracked.describe(),
        problems=tuple(problems),
        stopped=result.stopped,
        resume_line=resume,
    )


def _resume_hint(source: ReplayFile, options: ReplayOptions, shift_ms: int, done: int) -> str:
    line = _line_of_good_row(source, options, shift_ms, done)
    if line is None:
        return ""
    return (
        f"; every row before line {line} was delivered: resume with --start-line {line} "
        "(rows after it that were delivered too are sent again, and deduplicated downstream)"
    )
