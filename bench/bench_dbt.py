"""Benchmark: dbt full refresh vs. the incremental run after 1% new readings.

    .venv/bin/python bench/bench_dbt.py                       # 1,000 meters x 7 days x 1 min = 10M
    .venv/bin/python bench/bench_dbt.py --meters 200 --days 2 # 576k readings, a few minutes

Writes a validated Delta table directly (the ingest job's contract, ingest/tables.py) in a
fresh lake, runs `dbt seed`, then times `dbt run --full-refresh` (the baseline), appends the
next 1% of readings for every meter (a later ingest batch) and times `dbt run` (incremental).
Prints both, the time of each model and hook in both runs, and their ratio; the goal is
incremental <= 0.15x the full refresh. Data tests are not timed: they scan whole tables in
both runs.

Then two figures that bound what an incremental run can cost here: `dbt run` again with no new
data (the fixed cost of the chain of models: no incremental run can be faster), and, with
`--repeat N`, N more runs, each after as many new readings again, in the same (by then warm)
JVM.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smartgrid.lake import Lake  # noqa: E402
from transform import runner as dbt_runner  # noqa: E402

GOAL = 0.15
START_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
INGEST_START = datetime(2025, 2, 1)  # the full history's ingest time; batch k comes k hours later


def write_readings(
    spark,
    lake: Lake,
    *,
    meters: int,
    first: int,
    count: int,
    interval: int,
    ingest_time: str,
    batch_id: int,
) -> int:
    """Readings first..first+count-1 (per meter) of every meter, appended in time order."""
    from pyspark.sql import functions as F

    ids = spark.range(first * meters, (first + count) * meters)
    k = F.floor(F.col("id") / meters)
    meter = F.col("id") % meters
    noise = (F.abs(F.xxhash64("id")) % 1000) / 1000.0
    df = ids.select(
        F.concat(F.lit("bench-"), F.col("id").cast("string")).alias("event_id"),
        F.timestamp_seconds(F.lit(START_EPOCH) + k * interval).alias("timestamp"),
        F.format_string("MTR-%06d", meter).alias("meter_id"),
        (300.0 + 2500.0 * noise).alias("real_power_watts"),
        (225.0 + 12.0 * noise).alias("voltage"),
        (0.85 + 0.14 * noise).alias("power_factor"),
        F.lit(None).cast("double").alias("energy_kwh"),
        F.lit(None).cast("double").alias("current_a"),
        F.lit(1).alias("schema_version"),
        F.lit(None).cast("string").alias("extra_fields"),
        F.lit(f"bench/batch-{batch_id}").alias("source_name"),
        F.lit(None).cast("int").alias("source_partition"),
        F.col("id").alias("source_offset"),
        F.to_timestamp(F.lit(ingest_time)).alias("source_timestamp"),
        F.to_timestamp(F.lit(ingest_time)).alias("ingest_time"),
        F.lit(batch_id).cast("long").alias("batch_id"),
    )
    # The ingest job appends micro-batches in arrival order: files are ordered by time.
    df.orderBy("timestamp").write.format("delta").mode("append").save(lake.validated)
    return meters * count


def timed_run(
    lake: Lake, spark, args: list[str], dbt_vars: dict
) -> tuple[float, list[tuple[str, float]]]:
    """Wall time of ``dbt <args>`` and the time of each node it ran (hooks included)."""
    start = time.perf_counter()
    result = dbt_runner.run_dbt(args, lake, dbt_vars=dbt_vars, spark=spark)
    elapsed = time.perf_counter() - start
    if not result.success:
        raise SystemExit(f"dbt {' '.join(args)} failed")
    nodes = [(r.node.name, r.execution_time) for r in getattr(result.result, "results", [])]
    return elapsed, nodes


def print_nodes(title: str, elapsed: float, nodes: list[tuple[str, float]]) -> None:
    """Per-node times. Independent models run side by side (the profile's threads), so the
    node times can add up to more than the run's wall time."""
    print(f"{title}: {elapsed:.1f} s")
    for name, seconds in nodes:
        print(f"  {name:<40} {seconds:7.1f} s")
    print(f"  {'(sum of the node times)':<40} {sum(s for _, s in nodes):7.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--interval-seconds", type=int, default=60)
    parser.add_argument("--new-fraction", type=float, default=0.01)
    parser.add_argument("--lake", help="lake directory (default: a temporary one, removed after)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="more incremental runs, each after as many new readings again",
    )
    options = parser.parse_args()
    if options.meters < 1 or options.days <= 0 or not 0 < options.new_fraction < 1:
        parser.error("--meters >= 1, --days > 0 and 0 < --new-fraction < 1")
    if options.repeat < 0:
        parser.error("--repeat >= 0")

    root = options.lake or tempfile.mkdtemp(prefix="smartgrid-bench-dbt-")
    lake = Lake.resolve(root).ensure()
    per_meter = int(options.days * 86400 // options.interval_seconds)
    new_per_meter = max(1, round(per_meter * options.new_fraction))
    # max_gap_seconds may not be below the interval (the dbt project refuses it)
    dbt_vars = {
        "nominal_interval_seconds": options.interval_seconds,
        "max_gap_seconds": max(900, options.interval_seconds),
    }
    try:
        spark = dbt_runner.start_spark(lake)
        base = write_readings(
            spark,
            lake,
            meters=options.meters,
            first=0,
            count=per_meter,
            interval=options.interval_seconds,
            ingest_time=str(INGEST_START),
            batch_id=0,
        )
        timed_run(lake, spark, ["seed"], dbt_vars)
        full, full_nodes = timed_run(lake, spark, ["run", "--full-refresh"], dbt_vars)

        def add_batch(batch_id: int) -> int:
            """The next new_per_meter readings of every meter, ingested batch_id hours later."""
            return write_readings(
                spark,
                lake,
                meters=options.meters,
                first=per_meter + (batch_id - 1) * new_per_meter,
                count=new_per_meter,
                interval=options.interval_seconds,
                ingest_time=str(INGEST_START + timedelta(hours=batch_id)),
                batch_id=batch_id,
            )

        added = add_batch(1)
        incremental, incremental_nodes = timed_run(lake, spark, ["run"], dbt_vars)
        no_new_data, no_new_data_nodes = timed_run(lake, spark, ["run"], dbt_vars)
        repeats = []
        for batch_id in range(2, options.repeat + 2):
            added += add_batch(batch_id)
            repeats.append(timed_run(lake, spark, ["run"], dbt_vars)[0])
        clean_rows = spark.table("smartgrid.int_meter_readings__clean").count()
        curated_rows = spark.table("smartgrid.fct_meter_readings").count()
    finally:
        if not options.lake:
            shutil.rmtree(root, ignore_errors=True)

    ratio = incremental / full
    print_nodes("dbt run --full-refresh, per node", full, full_nodes)
    print_nodes("dbt run (incremental), per node", incremental, incremental_nodes)
    print(
        f"readings: {base:,} base + {added:,} new ({options.meters:,} meters x "
        f"{options.days:g} days x {options.interval_seconds} s)"
    )
    print(f"rows after: clean {clean_rows:,}, curated {curated_rows:,}")
    print(f"dbt run --full-refresh: {full:8.1f} s (baseline)")
    print(f"dbt run (incremental):  {incremental:8.1f} s")
    print(f"ratio: {ratio:.3f}x (goal <= {GOAL}x) -> {'OK' if ratio <= GOAL else 'ABOVE GOAL'}")
    print_nodes("dbt run (no new data), per node", no_new_data, no_new_data_nodes)
    print(f"dbt run (no new data):  {no_new_data:8.1f} s = {no_new_data / full:.3f}x (the floor)")
    for index, seconds in enumerate(repeats, start=2):
        print(f"incremental run {index} (+1 %, warm): {seconds:8.1f} s = {seconds / full:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
