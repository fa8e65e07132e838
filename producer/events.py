"""What flows from the generators to the sinks: batches of JSON lines with their meter ids.

A batch keeps its lines in one Arrow binary array (each element is one event body followed by
``\\n``), so the local sink writes a whole batch as one contiguous buffer and the simulator can
format lines with vectorised kernels; the ``meter_ids`` are the partition keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

NEWLINE = b"\n"


@dataclass(frozen=True)
class EventBatch:
    lines: pa.Array  # binary; element i = body of event i + b"\n"
    meter_ids: pa.Array  # string; partition key of event i

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def from_lines(cls, lines: Sequence[bytes], meter_ids: Sequence[str]) -> EventBatch:
        return cls(pa.array(lines, pa.binary()), pa.array(meter_ids, pa.string()))

    @classmethod
    def from_events(cls, events: Sequence[dict[str, Any]]) -> EventBatch:
        """Encode well-formed events (dicts), e.g. replayed rows."""
        option = orjson.OPT_APPEND_NEWLINE
        return cls.from_lines(
            [orjson.dumps(e, option=option) for e in events],
            [str(e.get("meter_id", "")) for e in events],
        )

    @classmethod
    def empty(cls) -> EventBatch:
        return cls.from_lines([], [])

    def slice(self, offset: int, length: int | None = None) -> EventBatch:
        return EventBatch(self.lines.slice(offset, length), self.meter_ids.slice(offset, length))

    def jsonl(self) -> pa.Buffer:
        """The lines as one contiguous buffer (zero-copy view into the array)."""
        if len(self.lines) == 0:
            return pa.py_buffer(b"")
        _, offsets, data = self.lines.buffers()
        ends = np.frombuffer(offsets, dtype=np.int32)
        start, stop = ends[self.lines.offset], ends[self.lines.offset + len(self.lines)]
        return data.slice(int(start), int(stop - start))

    def line_list(self) -> list[bytes]:
        return self.lines.to_pylist()

    def bodies(self) -> list[bytes]:
        """Event bodies without their line ends (what a message broker gets)."""
        return [line[:-1] for line in self.lines.to_pylist()]

    def partition_keys(self) -> list[str]:
        return self.meter_ids.to_pylist()

    def events(self) -> list[Any]:
        """Parsed bodies (tests and tools; raises on the malformed ones)."""
        return [orjson.loads(b) for b in self.bodies()]


def concat(batches: Sequence[EventBatch]) -> EventBatch:
    if not batches:
        return EventBatch.empty()
    if len(batches) == 1:
        return batches[0]
    return EventBatch(
        pa.concat_arrays([b.lines for b in batches]),
        pa.concat_arrays([b.meter_ids for b in batches]),
    )
