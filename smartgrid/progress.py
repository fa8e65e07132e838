"""Progress of a long stage: one updating line on a terminal, a line now and then otherwise.

``Progress("[2/5] ingest", unit="batches")`` then ``update(n)`` (``total`` when known). On a
TTY the line is rewritten in place (at most ten times a second); in a log or a pipe a line is
printed every ``every`` seconds (30 by default). ``clear()`` removes the updating line before
the stage's own "done" line is printed, so each stage leaves exactly one line on a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

TTY_EVERY = 0.1
PIPE_EVERY = 30.0


class Progress:
    def __init__(
        self,
        label: str,
        *,
        unit: str,
        stream: TextIO | None = None,
        every: float | None = None,
        clock=time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every if every is not None else (TTY_EVERY if self.tty else PIPE_EVERY)
        self.clock = clock
        self._last = clock()
        self._shown = False
        self._lock = threading.Lock()  # a Spark batch callback may run on another thread

    def text(self, done: int, total: int | None = None, detail: str = "") -> str:
        # A total is an estimate some producers overrun (dbt counts nodes of some kinds twice).
        count = f"{done:,} of {max(total, done):,}" if total else f"{done:,}"
        return f"{self.label} ... {count} {self.unit}{f', {detail}' if detail else ''}"

    def start(self) -> None:
        """On a terminal, show the label now (the line the updates and the result replace)."""
        if self.tty:
            with self._lock:
                self.stream.write(f"{self.label} ...")
                self.stream.flush()
                self._shown = True

    def update(self, done: int, total: int | None = None, detail: str = "") -> None:
        with self._lock:
            now = self.clock()
            if now - self._last < self.every:
                return
            self._last = now
            if self.tty:
                self.stream.write(f"\r\x1b[K{self.text(done, total, detail)}")
                self._shown = True
            else:
                self.stream.write(self.text(done, total, detail) + "\n")
            self.stream.flush()

    def clear(self) -> None:
        """Remove the updating line (a terminal only) so the next line starts clean."""
        with self._lock:
            if self.tty and self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False
