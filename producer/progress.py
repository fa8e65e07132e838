"""Progress on stderr: a periodic line with events sent and events per second."""

from __future__ import annotations

from typing import TextIO

from producer.pacing import Clock


class Progress:
    def __init__(self, stream: TextIO | None, clock: Clock, every: float = 2.0) -> None:
        self.stream = stream
        self.clock = clock
        self.every = every
        self.started = clock.monotonic()
        self._last = self.started

    def update(self, sent: int, *, label: str = "sent") -> None:
        if self.stream is None or self.every <= 0:
            return
        now = self.clock.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        print(
            f"{label} {sent:,} events, {sent / elapsed:,.0f} events/s",
            file=self.stream,
            flush=True,
        )
