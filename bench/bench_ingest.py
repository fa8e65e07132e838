"""Benchmark: the ingest job (availableNow, local[2]) against a plain ``spark.read.json``.

    .venv/bin/python bench/bench_ingest.py --events 2000000

Generates landing files (JSON Lines, a small share of bad events), then in one Spark session:

1. baseline: ``spark.read.json(<the same files>)`` written to one Delta table;
2. ingest:   ``run_ingest`` with the available-now trigger into raw, validated and quarantine.

Prints events/s of both and the ratio. Goals: ingest >= 200,000 events/s and >= 0.5x the
baseline. Timings include Spark's job planning but not JVM start-up. The machine's cores may be
shared with other work: run it twice if the figures look off.

The size sweep for the capacity model (docs/capacity.md) separates the per-core rate from the
fixed cost of a run: for each master (one fresh process each, local[1] then local[2]) it ingests
every size into a fresh lake, then fits seconds = fixed + events / rate by least squares:

    .venv/bin/python bench/bench_ingest.py --sweep 250000,500000,1000000,2000000 --masters 1,2 --record

``--record`` writes the per-core rate and fixed cost (of the largest master) and the raw and
validated tables' bytes per row (Delta data files of the largest size) into
capacity/measured.json; ``--record PATH`` writes another file (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _common import (
    Timer,
    add_record_option,
    add_sweep_option,
    fit_rate,
    positive_int,
    rate,
    record_if_asked,
    sizes,
    work_dir,
)

from ingest.config import IngestConfig
from ingest.job import run_ingest, table_counts
from smartgrid.lake import Lake

GOAL_EVENTS_PER_SECOND = 200_000
GOAL_RATIO = 0.5

BAD_BODIES = (
    "not json at all",
    '{"timestamp": "2025-01-01T00:00:00.000Z", "meter_id": "MTR-000001"}',
    '{"timestamp": "2025-02-30T00:00:00.000Z", "meter_id": "MTR-000001", '
    '"real_power_watts": 1.0, "voltage": 230.0, "power_factor": 0.9}',
    '{"timestamp": "2025-01-01T00:00:00.000Z", "meter_id": "MTR-000001", '
    '"real_power_watts": "1.0", "voltage": 230.0, "power_factor": 0.9}',
    '{"timestamp": "2025-01-01T00:00:00.000Z", "meter_id": "MTR-000001", '
    '"real_power_watts": 1.0, "voltage": 9999.0, "power_factor": 0.9}',
    "[1, 2, 3]",
)


def generate_landing(
    landing: Path, events: int, files: int, *, bad_share: float = 0.01, seed: int = 7
) -> int:
    """Write ``events`` JSON Lines events over ``files`` files; return how many are bad."""
    rng = random.Random(seed)
    landing.mkdir(parents=True, exist_ok=True)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    per_file = -(-events // files)
    bad = 0
    written = 0
    for number in range(files):
        lines = []
        for i in range(written, min(events, written + per_file)):
            if rng.random() < bad_share:
                lines.append(rng.choice(BAD_BODIES))
                bad += 1
                continue
            meter = i % 5000
            ts = start + timedelta(minutes=(i // 5000))
            watts = round(rng.uniform(-3000.0, 12000.0), 1)
            volts = round(rng.gauss(230.0, 3.0), 1)
            lines.append(
                json.dumps(
                    {
                        "event_id": f"evt-{i:012d}",
                        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + "000Z",
                        "meter_id": f"MTR-{meter:06d}",
                        "real_power_watts": watts,
                        "voltage": volts,
                        "power_factor": round(rng.uniform(0.7, 1.0), 3),
                        "energy_kwh": round(watts / 60000.0, 5),
                        "schema_version": 1,
                    },
                    separators=(",", ":"),
                )
            )
        written += len(lines)
        tmp = landing / f".part-{number:05d}.jsonl.tmp"
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.rename(landing / f"part-{number:05d}.jsonl")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=positive_int, default=2_000_000)
    parser.add_argument("--files", type=positive_int, default=40)
    parser.add_argument("--workdir", help="keep data here (default: a temporary directory)")
    add_sweep_option(parser, "event counts for the size sweep")
    parser.add_argument("--masters", default="1,2", help="local[k] cores to sweep (default: 1,2)")
    add_record_option(parser, "the sweep's figures")
    parser.add_argument("--sweep-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sweep_child:
        return sweep_child(sizes(args.sweep_child, at_least=1), args.files)
    if args.sweep:
        return sweep(args)

    with work_dir(args.workdir, "bench-ingest-") as work:
        lake = Lake.resolve(str(work / "lake")).ensure()
        with Timer() as generating:
            bad = generate_landing(Path(lake.landing), args.events, args.files)
        print(
            f"generated {args.events} events ({bad} bad) in {args.files} files "
            f"in {generating.seconds:.1f} s"
        )

        config = IngestConfig(lake=lake)
        from ingest.job import build_ingest_spark

        spark = build_ingest_spark(config)
        try:
            result = measure(spark, config, str(work / "baseline"), args.events, bad)
        finally:
            spark.stop()
        return 0 if result["met"] else 1


def measure(spark, config: IngestConfig, baseline_table: str, events: int, bad: int) -> dict:
    """The baseline then the ingest of the landing files, in ``spark``; prints both and the
    ratio. The session is the caller's (tests pass theirs)."""
    spark.range(1).count()  # JVM warm-up outside both timings
    with Timer() as baseline:
        (
            spark.read.option("pathGlobFilter", "*.jsonl")
            .json(config.lake.landing)
            .write.format("delta")
            .mode("overwrite")
            .save(baseline_table)
        )
    baseline_rate = rate(events, baseline.seconds)

    summary = run_ingest(config, spark=spark)
    counts = table_counts(spark, config)
    assert counts.raw == events, (counts, events)
    assert counts.validated + counts.quarantined == events, counts
    assert counts.quarantined == bad, (counts.quarantined, bad)
    ingest_rate = summary.events_per_second
    ratio = ingest_rate / baseline_rate

    print(
        f"baseline spark.read.json -> 1 Delta table: {baseline.seconds:6.1f} s "
        f"{baseline_rate:>12,.0f} events/s"
    )
    print(
        f"ingest -> raw+validated+quarantine:        {summary.seconds:6.1f} s "
        f"{ingest_rate:>12,.0f} events/s  ({summary.batches} batch(es))"
    )
    print(
        f"ratio ingest/baseline: {ratio:.2f}x "
        f"(goal >= {GOAL_RATIO}x); goal >= {GOAL_EVENTS_PER_SECOND:,} events/s: "
        f"{'met' if ingest_rate >= GOAL_EVENTS_PER_SECOND else 'NOT met'}"
    )
    print(counts.format())
    return {
        "ratio": ratio,
        "met": ingest_rate >= GOAL_EVENTS_PER_SECOND and ratio >= GOAL_RATIO,
    }


def delta_bytes(table: str) -> int:
    """Bytes of a Delta table's data files (its log left out)."""
    return sum(
        path.stat().st_size
        for path in Path(table).rglob("*.parquet")
        if "_delta_log" not in path.parts
    )


def sweep_child(counts_to_run: list[int], files: int) -> int:
    """One process, one master (SMARTGRID_SPARK_MASTER): every size into a fresh lake."""
    from ingest.job import build_ingest_spark

    spark = None
    points = []
    # The first size twice: the first ingest in a JVM pays its warm-up (class loading, code
    # generation), which is not the fixed cost of a run; that first run is left out.
    for number, events in enumerate([counts_to_run[0], *counts_to_run]):
        with work_dir(None, "bench-ingest-sweep-") as work:
            lake = Lake.resolve(str(work / "lake")).ensure()
            generate_landing(Path(lake.landing), events, files)
            config = IngestConfig(lake=lake)
            if spark is None:
                spark = build_ingest_spark(config)
                spark.range(1).count()  # JVM warm-up outside the timings
            summary = run_ingest(config, spark=spark)
            counts = table_counts(spark, config)
            assert counts.raw == events, (counts, events)
            if number == 0:
                print(f"  warm-up {events:,} events: {summary.seconds:6.1f} s (left out)")
                continue
            points.append(
                {
                    "events": events,
                    "seconds": summary.seconds,
                    "raw_bytes": delta_bytes(lake.raw),
                    "validated_bytes": delta_bytes(lake.validated),
                    "validated_rows": counts.validated,
                }
            )
            print(f"  {events:>10,} events: {summary.seconds:6.1f} s", flush=True)
    if spark is not None:
        spark.stop()
    print("SWEEP " + json.dumps(points), flush=True)
    return 0


def sweep(args: argparse.Namespace) -> int:
    """Each master in a fresh process (a JVM's master is fixed), then the least-squares fits."""
    sizes(args.sweep)  # two different sizes at least, before any work
    masters = [int(k) for k in args.masters.split(",")]
    fits: dict[int, tuple[float, float]] = {}  # cores -> (fixed seconds, events/s)
    largest: dict = {}
    for cores in masters:
        print(f"local[{cores}]:", flush=True)
        env = {**os.environ, "SMARTGRID_SPARK_MASTER": f"local[{cores}]"}
        done = subprocess.run(
            [sys.executable, __file__, "--sweep-child", args.sweep, "--files", str(args.files)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        lines = done.stdout.splitlines()
        print("\n".join(line for line in lines if not line.startswith("SWEEP ")))
        points = json.loads(next(ln for ln in lines if ln.startswith("SWEEP "))[6:])
        largest = max(points, key=lambda p: p["events"])
        fit = fit_rate(
            f"local[{cores}]", [p["events"] for p in points], [p["seconds"] for p in points]
        )
        if fit is None:
            return 1
        fixed, events_rate = fits[cores] = fit
        print(
            f"local[{cores}] fit: seconds = {fixed:.2f} + events / {events_rate:,.0f}  "
            f"-> {events_rate / cores:,.0f} events/s per core, fixed cost {fixed:.2f} s"
        )
    if len(fits) > 1:
        low, high = min(fits), max(fits)
        scaling = fits[high][1] / fits[low][1] / (high / low)
        print(f"scaling local[{low}] -> local[{high}]: {scaling:.2f} of linear (same run)")
    cores = max(fits)
    fixed, events_rate = fits[cores]
    record_if_asked(
        args,
        {
            "ingest_events_per_second_per_core": events_rate / cores,
            "ingest_fixed_seconds": max(fixed, 0.0),
            "raw_bytes_per_row": largest["raw_bytes"] / largest["events"],
            "validated_bytes_per_row": largest["validated_bytes"] / largest["validated_rows"],
        },
        f"bench/bench_ingest.py --sweep {args.sweep} --masters {args.masters}: "
        f"least squares at local[{cores}]",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
