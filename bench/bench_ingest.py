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
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.config import IngestConfig  # noqa: E402
from ingest.job import run_ingest, table_counts  # noqa: E402
from smartgrid.lake import Lake  # noqa: E402

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
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--workdir", help="keep data here (default: a temporary directory)")
    parser.add_argument("--sweep", metavar="N,N,...", help="event counts for the size sweep")
    parser.add_argument("--masters", default="1,2", help="local[k] cores to sweep (default: 1,2)")
    parser.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="PATH",
        help="write the sweep's figures into capacity/measured.json (or PATH)",
    )
    parser.add_argument("--sweep-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sweep_child:
        return sweep_child([int(n) for n in args.sweep_child.split(",")], args.files)
    if args.sweep:
        return sweep(args)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        lake = Lake.resolve(str(work / "lake")).ensure()
        t0 = time.perf_counter()
        bad = generate_landing(Path(lake.landing), args.events, args.files)
        print(
            f"generated {args.events} events ({bad} bad) in {args.files} files "
            f"in {time.perf_counter() - t0:.1f} s"
        )

        config = IngestConfig(lake=lake)
        from ingest.job import build_ingest_spark

        spark = build_ingest_spark(config)
        spark.range(1).count()  # JVM warm-up outside both timings

        t0 = time.perf_counter()
        (
            spark.read.option("pathGlobFilter", "*.jsonl")
            .json(lake.landing)
            .write.format("delta")
            .mode("overwrite")
            .save(str(work / "baseline"))
        )
        baseline_seconds = time.perf_counter() - t0
        baseline_rate = args.events / baseline_seconds

        summary = run_ingest(config, spark=spark)
        counts = table_counts(spark, config)
        assert counts.raw == args.events, (counts, args.events)
        assert counts.validated + counts.quarantined == args.events, counts
        assert counts.quarantined == bad, (counts.quarantined, bad)
        rate = summary.events_per_second
        ratio = rate / baseline_rate

        print(
            f"baseline spark.read.json -> 1 Delta table: {baseline_seconds:6.1f} s "
            f"{baseline_rate:>12,.0f} events/s"
        )
        print(
            f"ingest -> raw+validated+quarantine:        {summary.seconds:6.1f} s "
            f"{rate:>12,.0f} events/s  ({summary.batches} batch(es))"
        )
        print(
            f"ratio ingest/baseline: {ratio:.2f}x "
            f"(goal >= {GOAL_RATIO}x); goal >= {GOAL_EVENTS_PER_SECOND:,} events/s: "
            f"{'met' if rate >= GOAL_EVENTS_PER_SECOND else 'NOT met'}"
        )
        print(counts.format())
        spark.stop()
        return 0 if rate >= GOAL_EVENTS_PER_SECOND and ratio >= GOAL_RATIO else 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def delta_bytes(table: str) -> int:
    """Bytes of a Delta table's data files (its log left out)."""
    return sum(
        path.stat().st_size
        for path in Path(table).rglob("*.parquet")
        if "_delta_log" not in path.parts
    )


def sweep_child(sizes: list[int], files: int) -> int:
    """One process, one master (SMARTGRID_SPARK_MASTER): every size into a fresh lake."""
    from ingest.job import build_ingest_spark

    spark = None
    points = []
    # The first size twice: the first ingest in a JVM pays its warm-up (class loading, code
    # generation), which is not the fixed cost of a run; that first run is left out.
    for number, events in enumerate([sizes[0], *sizes]):
        work = Path(tempfile.mkdtemp(prefix="bench-ingest-sweep-"))
        try:
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
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if spark is not None:
        spark.stop()
    print("SWEEP " + json.dumps(points), flush=True)
    return 0


def sweep(args: argparse.Namespace) -> int:
    """Each master in a fresh process (a JVM's master is fixed), then the least-squares fits."""
    from measured import fit_line, record

    if len({int(n) for n in args.sweep.split(",")}) < 2:
        raise SystemExit("--sweep needs two different sizes at least")
    masters = [int(k) for k in args.masters.split(",")]
    fits: dict[int, tuple[float, float]] = {}
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
        fixed, slope = fit_line([p["events"] for p in points], [p["seconds"] for p in points])
        fits[cores] = (fixed, slope)
        largest = max(points, key=lambda p: p["events"])
        if slope <= 0:
            print(f"local[{cores}]: time does not grow with size; sizes too small or machine busy")
            return 1
        rate = 1 / slope
        print(
            f"local[{cores}] fit: seconds = {fixed:.2f} + events / {rate:,.0f}  "
            f"-> {rate / cores:,.0f} events/s per core, fixed cost {fixed:.2f} s"
        )
    if len(fits) > 1:
        low, high = min(fits), max(fits)
        scaling = fits[low][1] / fits[high][1] / (high / low)
        print(f"scaling local[{low}] -> local[{high}]: {scaling:.2f} of linear (same run)")
    if args.record is not None:
        cores = max(fits)
        fixed, slope = fits[cores]
        how = (
            f"bench/bench_ingest.py --sweep {args.sweep} --masters {args.masters}: "
            f"least squares at local[{cores}]"
        )
        record(
            {
                "ingest_events_per_second_per_core": 1 / slope / cores,
                "ingest_fixed_seconds": max(fixed, 0.0),
                "raw_bytes_per_row": largest["raw_bytes"] / largest["events"],
                "validated_bytes_per_row": largest["validated_bytes"] / largest["validated_rows"],
            },
            how,
            path=Path(args.record) if args.record else None,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
