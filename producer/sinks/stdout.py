"""JSON lines on stdout, for piping (``smartgrid produce --sink stdout | head``)."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

from producer.events import EventBatch
from producer.sinks.base import StopSending


class StdoutSink:
    name = "stdout"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.events_written = 0

    def send(self, batch: EventBatch) -> None:
        try:
            self.stream.write(batch.jsonl())
        except BrokenPipeError:
            self._detach()
            raise StopSending("stdout was closed by the reader") from None
        self.events_written += len(batch)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._detach()
            raise StopSending("stdout was closed by the reader") from None

    def close(self) -> None:
        self.flush()

    @property
    def delivered(self) -> int:
        return self.events_written

    def describe(self) -> str:
        return "stdout"

    def _detach(self) -> None:
        # Point fd 1 at /dev/null so Python's final flush does not fail on the closed pipe.
        if self.stream is getattr(sys.stdout, "buffer", None):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
