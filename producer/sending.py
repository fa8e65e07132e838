"""The send loop shared by ``produce`` and ``replay``: pacing, periodic flushes, progress.

Chunks come in send order, each with the simulated time of its events (used by ``--realtime``).
In paced modes a sink's partial batch is flushed at most ``flush_after`` seconds after its first
event, so live consumers see events within about a second. Ctrl-C stops the loop and the sink
is closed (flushed) before the interrupt is reported, so nothing accepted is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from producer.events import EventBatch
from producer.pacing import Clock, Pacing
from producer.progress import Progress
from producer.sinks.base import Sink, StopSending

FLUSH_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class Chunk:
    batch: EventBatch
    sim_ms: int | None = None  # simulated time of the chunk's events (realtime pacing)


@dataclass(frozen=True)
class SendResult:
    events: int
    seconds: float
    stopped: str | None  # None when every chunk was sent; else why the loop stopped early


def send_all(
    chunks: Iterable[Chunk],
    sink: Sink,
    *,
    pacing: Pacing,
    clock: Clock,
    progress: Progress | None = None,
    verbose: TextIO | None = None,
    flush_after: float = FLUSH_AFTER_SECONDS,
) -> SendResult:
    started = clock.monotonic()
    sent = 0
    origin_ms: int | None = None
    flush_deadline: float | None = None  # set while a paced sink holds unflushed events
    stopped: str | None = None

    def wait_until(due: float) -> None:
        nonlocal flush_deadline
        while True:
            now = clock.monotonic()
            if flush_deadline is not None and now >= flush_deadline:
                sink.flush()
                flush_deadline = None
            if now >= due:
                return
            wake = due if flush_deadline is None else min(due, flush_deadline)
            clock.sleep(wake - now)

    try:
        try:
            for chunk in chunks:
                if not len(chunk.batch):
                    continue
                if pacing.paced:
                    if origin_ms is None:
                        origin_ms = chunk.sim_ms
                    wait_until(pacing.due(started, sent, chunk.sim_ms, origin_ms))
                sink.send(chunk.batch)
                sent += len(chunk.batch)
                if verbose is not None:
                    for line in chunk.batch.lines.to_pylist():
                        verbose.write(line.decode("utf-8", "replace"))
                    verbose.flush()
                if pacing.paced:
                    now = clock.monotonic()
                    if flush_deadline is None:
                        flush_deadline = now + flush_after
                    elif now >= flush_deadline:
                        sink.flush()
                        flush_deadline = None
                if progress is not None:
                    progress.update(sent)
        except KeyboardInterrupt:
            stopped = "interrupted"
        except StopSending as why:
            stopped = str(why)
    finally:
        try:
            sink.close()
        except StopSending as why:
            stopped = stopped or str(why)
    # What the sink delivered is the truth (an interrupt may land between send and count).
    return SendResult(sink.delivered, clock.monotonic() - started, stopped)
