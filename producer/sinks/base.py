"""The sink interface: batches in, ``flush`` to make everything accepted visible, ``close``."""

from __future__ import annotations

from typing import Protocol

from producer.events import EventBatch


class StopSending(Exception):
    """The destination went away in a normal way (e.g. stdout closed by ``head``)."""


class Sink(Protocol):
    name: str

    def send(self, batch: EventBatch) -> None:
        """Accept events; a sink may hold them until its batch is full or ``flush``."""

    def flush(self) -> None:
        """Deliver everything accepted so far."""

    def close(self) -> None:
        """Flush, then release resources. Safe to call twice."""

    def describe(self) -> str:
        """Where the events went, for the summary (never a secret)."""

    @property
    def delivered(self) -> int:
        """Events delivered so far: in a visible file, written out, or acknowledged."""
