"""Benchmark: the eventhubs sink's own overhead, in memory, with the SDK's real EventDataBatch.

No network: the producer client is replaced at its boundary by an in-memory client whose
``create_batch`` returns the SDK's real ``EventDataBatch`` and whose ``send_batch`` keeps the
batch. The sink gets the same EventBatch the producer hands it (JSON lines + meter ids) and does
its whole job: bodies, EventData, one batch per partition key (meter id), filled until full.
The baseline, in the same run, is a bare loop adding ready-made EventData (built before timing)
to the same partition-keyed batches. Goal: ratio >= 0.8.

A second baseline builds the EventData from the same bodies inside the loop: the least any sink
that receives bytes must pay the SDK, so its ratio is the sink's own overhead alone.

    .venv/bin/python bench/bench_eventhubs_sink.py --events 50000
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import timedelta

from _common import Timer, add_record_option, best_rate, positive_int, record_if_asked
from azure.eventhub import EventData, EventDataBatch

from producer.fleet import build_fleet
from producer.simulator import Simulation
from producer.sinks.eventhubs import EventHubsConfig, EventHubsSink

BATCH_BYTES = 1024 * 1024  # a Standard-tier event hub's largest batch


class InMemoryClient:
    """Stands in for EventHubProducerClient: the service is out of reach from here."""

    def __init__(self, config: EventHubsConfig) -> None:
        self.sent = 0
        self.bytes = 0  # the batches' sizes as the SDK counts them (AMQP framing included)

    def create_batch(self, *, partition_key=None, max_size_in_bytes=None, **_):
        return EventDataBatch(
            max_size_in_bytes=max_size_in_bytes or BATCH_BYTES, partition_key=partition_key
        )

    def send_batch(self, batch, **_) -> None:
        self.sent += len(batch)
        self.bytes += batch.size_in_bytes

    def close(self) -> None:
        pass


def bare_loop(events: list[EventData], keys: list[str]) -> int:
    batches: dict[str, EventDataBatch] = {}
    sent = 0
    for event, key in zip(events, keys, strict=True):
        batch = batches.get(key)
        if batch is None:
            batch = batches[key] = EventDataBatch(max_size_in_bytes=BATCH_BYTES, partition_key=key)
        try:
            batch.add(event)
        except ValueError:
            sent += len(batch)
            batch = batches[key] = EventDataBatch(max_size_in_bytes=BATCH_BYTES, partition_key=key)
            batch.add(event)
    return sent + sum(len(b) for b in batches.values())


def bare_loop_from_bodies(bodies: list[bytes], keys: list[str]) -> int:
    return bare_loop([EventData(body) for body in bodies], keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=positive_int, default=100_000)
    parser.add_argument("--meters", type=positive_int, default=100)
    parser.add_argument("--repeat", type=positive_int, default=3, help="best of N runs of each")
    add_record_option(parser, "events/s per core and bytes per event in a batch")
    args = parser.parse_args()
    steps = max(1, args.events // args.meters)
    simulation = Simulation(
        build_fleet(args.meters, 42),
        start_ms=1735689600000,
        interval_ms=int(timedelta(minutes=1).total_seconds() * 1000),
        steps=steps,
        seed=42,
    )
    batches = [block.batch for block in simulation.blocks()]
    total = sum(len(b) for b in batches)
    config = EventHubsConfig(eventhub_name="bench", fully_qualified_namespace="bench.example")
    sink_times, bare_times, floor_times = [], [], []
    for _ in range(args.repeat):
        bodies = [body for batch in batches for body in batch.bodies()]
        keys = [key for batch in batches for key in batch.partition_keys()]
        ready = [EventData(body) for body in bodies]
        gc.collect()
        with Timer(time.process_time) as bare:
            assert bare_loop(ready, keys) == total
        bare_times.append(bare.seconds)
        del ready

        gc.collect()
        with Timer(time.process_time) as floor:
            assert bare_loop_from_bodies(bodies, keys) == total
        floor_times.append(floor.seconds)

        clients: list[InMemoryClient] = []

        def factory(cfg: EventHubsConfig, _clients=clients) -> InMemoryClient:
            _clients.append(InMemoryClient(cfg))
            return _clients[-1]

        sink = EventHubsSink(config, client_factory=factory)
        gc.collect()
        with Timer(time.process_time) as sending:
            for batch in batches:
                sink.send(batch)
            sink.close()
        sink_times.append(sending.seconds)
        assert sink.events_sent == total
    sink_rate, bare_rate = best_rate(total, sink_times), best_rate(total, bare_times)
    floor_rate = best_rate(total, floor_times)
    print(
        f"events: {total:,} from {args.meters} meters (partition keys); best of {args.repeat}, CPU time"
    )
    print(f"eventhubs sink (bodies + EventData + keyed batches): {sink_rate:,.0f} events/s")
    print(f"bare loop adding ready-made EventData to batches:    {bare_rate:,.0f} events/s")
    print(f"bare loop building EventData from the same bodies:   {floor_rate:,.0f} events/s")
    print(f"ratio vs ready-made EventData: {sink_rate / bare_rate:.2f}x (goal >= 0.8x)")
    print(
        f"ratio vs EventData built from the bodies (sink's own overhead): {sink_rate / floor_rate:.2f}x"
    )
    batch_bytes = sum(c.bytes for c in clients) / sum(c.sent for c in clients)
    body_bytes = sum(len(body) for body in bodies) / len(bodies)
    print(f"bytes per event: body {body_bytes:.1f}, in an EventDataBatch {batch_bytes:.1f}")
    record_if_asked(
        args,
        {
            "eventhubs_sink_events_per_second_per_core": sink_rate,
            "eventhubs_bytes_per_event": batch_bytes,
        },
        f"bench/bench_eventhubs_sink.py --events {args.events} --repeat {args.repeat}: "
        "CPU time, one core",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
