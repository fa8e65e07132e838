"""Benchmark: the producer's local sink (generation included) vs a plain orjson loop.

Prints events/s of ``producer.run.produce`` writing N events to the local event hub, and, in the
same run, of a baseline: a plain Python loop calling ``orjson.dumps`` on N ready-made reading
dicts and writing each line to a file. Goal: ratio >= 1.0.

    .venv/bin/python bench/bench_producer.py              # 1,000,000 events
    .venv/bin/python bench/bench_producer.py --events 100000
"""

from __future__ import annotations

import argparse
import gc
import io
import time
from datetime import timedelta
from pathlib import Path

import orjson
from _common import Timer, add_record_option, best_rate, positive_int, record_if_asked, work_dir

from producer.options import ProduceOptions
from producer.run import produce
from smartgrid.lake import Lake

METERS = 1_000


def ready_made_readings(count: int) -> list[dict]:
    """Distinct reading dicts shaped like the producer's events (built before timing)."""
    readings = []
    for i in range(count):
        meter = f"MTR-{i % METERS + 1:06d}"
        ms = 1735689600000 + (i // METERS) * 60_000
        readings.append(
            {
                "timestamp": f"2025-01-01T{(i // METERS) // 60 % 24:02d}:{(i // METERS) % 60:02d}:00.000Z",
                "meter_id": meter,
                "real_power_watts": round(300.0 + (i * 7919) % 4000 / 10.0, 1),
                "voltage": round(225.0 + (i * 31) % 100 / 10.0, 1),
                "power_factor": round(0.9 + (i * 17) % 100 / 1000.0, 3),
                "current_a": round(1.0 + (i * 13) % 1000 / 100.0, 3),
                "event_id": f"{meter}-{ms}",
                "schema_version": 1,
            }
        )
    return readings


def baseline(readings: list[dict], path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the plain loop."""
    with Timer() as wall, Timer(time.process_time) as cpu, path.open("wb") as handle:
        for reading in readings:
            handle.write(orjson.dumps(reading) + b"\n")
    return wall.seconds, cpu.seconds


def producer(events: int, lake: Lake) -> tuple[float, float, int]:
    steps = max(1, events // METERS)
    options = ProduceOptions(
        meters=min(METERS, events),
        duration=timedelta(minutes=steps),
        interval=timedelta(minutes=1),
        seed=42,
        progress_every=0,
    )
    with Timer() as wall, Timer(time.process_time) as cpu:
        summary = produce(options, lake, stderr=io.StringIO())
    return wall.seconds, cpu.seconds, summary.events_sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=positive_int, default=1_000_000)
    parser.add_argument("--repeat", type=positive_int, default=3, help="best of N runs of each")
    add_record_option(parser, "events/s per core and bytes per event on the wire")
    args = parser.parse_args()
    with work_dir(None, "bench-producer-") as tmp:
        readings = ready_made_readings(args.events)
        # The million ready-made dicts would otherwise make every GC pass slow, in both loops.
        gc.collect()
        gc.freeze()
        base: list[tuple[float, float]] = []
        prod: list[tuple[float, float]] = []
        sent = 0
        for attempt in range(args.repeat):  # interleaved, so both see the same machine load
            base.append(baseline(readings, Path(tmp) / f"baseline-{attempt}.jsonl"))
            wall, cpu, sent = producer(args.events, Lake.resolve(f"{tmp}/lake-{attempt}").ensure())
            prod.append((wall, cpu))
        # Bytes on the wire: the landing files' JSON Lines, one event per line.
        landing = Path(Lake.resolve(f"{tmp}/lake-{args.repeat - 1}").landing)
        wire_bytes = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / sent
    base_wall = best_rate(len(readings), [w for w, _ in base])
    base_cpu = best_rate(len(readings), [c for _, c in base])
    prod_wall = best_rate(sent, [w for w, _ in prod])
    prod_cpu = best_rate(sent, [c for _, c in prod])
    print(f"events: {sent:,} (producer), {len(readings):,} (baseline); best of {args.repeat}")
    print(
        f"producer, local sink, generation included: {prod_wall:,.0f} events/s wall, {prod_cpu:,.0f} per CPU-second"
    )
    print(
        f"baseline, orjson.dumps loop + file write:   {base_wall:,.0f} events/s wall, {base_cpu:,.0f} per CPU-second"
    )
    print(
        f"ratio: {prod_wall / base_wall:.2f}x wall, {prod_cpu / base_cpu:.2f}x CPU (goal >= 1.0x)"
    )
    print(f"bytes per event on the wire (JSON line): {wire_bytes:.1f}")
    record_if_asked(
        args,
        {"producer_events_per_second_per_core": prod_cpu, "wire_bytes_per_event": wire_bytes},
        f"bench/bench_producer.py --events {args.events} --repeat {args.repeat}: "
        "per CPU-second, local sink",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
