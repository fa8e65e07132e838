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

The base sweep for the capacity model (docs/capacity.md): the same number of new readings on a
growing base, each base in a fresh lake and process (1,000 meters at 1 min, the days chosen to
give the base). The incremental run should stay flat as the base grows (goal: at most 1.2x from
5M to 10M); the full refresh grows about linearly; the no-new-data run is the floor:

    SMARTGRID_DRIVER_MEMORY=8g .venv/bin/python bench/bench_dbt.py \
        --sweep 2500000,5000000,10000000 --new-rows 100000 --record

``--record`` writes the floor and the per-new-row rate (of the largest base), the curated table's
bytes per row and both curves into capacity/measured.json (``--record PATH``: another file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from _common import (
    Timer,
    add_record_option,
    add_sweep_option,
    positive_int,
    record_if_asked,
    sizes,
    work_dir,
)

from smartgrid.lake import Lake
from transform import runner as dbt_runner

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
    with Timer() as run:
        result = dbt_runner.run_dbt(args, lake, dbt_vars=dbt_vars, spark=spark)
    if not result.success:
        raise SystemExit(f"dbt {' '.join(args)} failed")
    nodes = [(r.node.name, r.execution_time) for r in getattr(result.result, "results", [])]
    return run.seconds, nodes


def print_nodes(title: str, elapsed: float, nodes: list[tuple[str, float]]) -> None:
    """Per-node times. Independent models run side by side (the profile's threads), so the
    node times can add up to more than the run's wall time."""
    print(f"{title}: {elapsed:.1f} s")
    for name, seconds in nodes:
        print(f"  {name:<40} {seconds:7.1f} s")
    print(f"  {'(sum of the node times)':<40} {sum(s for _, s in nodes):7.1f} s")


def table_bytes(spark, table: str) -> int:
    """Bytes of a Delta table's current snapshot (DESCRIBE DETAIL)."""
    return int(spark.sql(f"DESCRIBE DETAIL {table}").collect()[0]["sizeInBytes"])


def curves_text(points: list[dict]) -> str:
    """The sweep's curves in one line, for the figures' provenance."""
    bases = "/".join(f"{p['base'] / 1e6:g}M" for p in points)

    def curve(key: str) -> str:
        return "/".join(f"{p[key]:.1f}" for p in points)

    return (
        f"on {bases} readings + {points[0]['added']:,} new: incremental {curve('incremental')} s, "
        f"full refresh {curve('full')} s, no new data {curve('no_new_data')} s"
    )


def sweep(options: argparse.Namespace) -> int:
    """Each base in a fresh process and lake; then the curves and, with --record, the figures."""
    from measured import master_cores

    bases = sizes(options.sweep, at_least=1)
    meters, interval = options.meters, options.interval_seconds
    points = []
    for base in bases:
        days = base / (meters * 86400 / interval)
        fraction = options.new_rows / base
        if not 0 < fraction < 1:
            raise SystemExit(f"--new-rows {options.new_rows} must be below the base {base}")
        with tempfile.TemporaryDirectory(prefix="bench-dbt-sweep-") as tmp:
            out = Path(tmp) / "point.json"
            argv = [
                sys.executable, __file__, "--meters", str(meters), "--days", repr(days),
                "--interval-seconds", str(interval), "--new-fraction", repr(fraction),
                "--json-out", str(out),
            ]  # fmt: skip
            print(f"base {base:,} readings, about {options.new_rows:,} new:", flush=True)
            subprocess.run(argv, check=True, env=dict(os.environ))
            points.append(json.loads(out.read_text(encoding="utf-8")))
    print(f"{'base':>12} {'new':>9} {'full refresh':>13} {'incremental':>12} {'no new data':>12}")
    for p in points:
        print(
            f"{p['base']:>12,} {p['added']:>9,} {p['full']:>12.1f}s {p['incremental']:>11.1f}s "
            f"{p['no_new_data']:>11.1f}s"
        )
    by_base = {p["base"]: p for p in points}
    growth = None
    five, ten = (
        min(by_base, key=lambda b: abs(b - 5_000_000)),
        min(by_base, key=lambda b: abs(b - 10_000_000)),
    )
    if five != ten:
        growth = by_base[ten]["incremental"] / by_base[five]["incremental"]
        print(
            f"incremental {ten:,} / {five:,} base: {growth:.2f}x (goal <= 1.2x: "
            f"{'met' if growth <= 1.2 else 'NOT met'}); full refresh "
            f"{by_base[ten]['full'] / by_base[five]['full']:.2f}x"
        )
    top = by_base[max(by_base)]
    floor = top["no_new_data"]
    figures = {
        "dbt_incremental_floor_seconds": floor,
        "dbt_incremental_rows_per_second": top["added"] / max(top["incremental"] - floor, 1e-3),
        "dbt_local_cores": float(master_cores()),
        "curated_bytes_per_row": top["curated_bytes"] / top["curated_rows"],
    }
    if growth is not None:
        figures["dbt_incremental_growth_5m_to_10m"] = growth
    record_if_asked(
        options,
        figures,
        f"bench/bench_dbt.py --sweep {options.sweep} --new-rows {options.new_rows}: "
        f"largest base; {curves_text(points)}",
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=positive_int, default=1000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--interval-seconds", type=positive_int, default=60)
    parser.add_argument("--new-fraction", type=float, default=0.01)
    parser.add_argument("--lake", help="lake directory (default: a temporary one, removed after)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="more incremental runs, each after as many new readings again",
    )
    add_sweep_option(parser, "base readings for the base sweep")
    parser.add_argument(
        "--new-rows", type=positive_int, default=100_000, help="new readings per run"
    )
    add_record_option(parser, "the sweep's figures")
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sweep:
        return sweep(options)
    if options.meters < 1 or options.days <= 0 or not 0 < options.new_fraction < 1:
        parser.error("--meters >= 1, --days > 0 and 0 < --new-fraction < 1")
    if options.repeat < 0:
        parser.error("--repeat >= 0")

    per_meter = int(options.days * 86400 // options.interval_seconds)
    new_per_meter = max(1, round(per_meter * options.new_fraction))
    # max_gap_seconds may not be below the interval (the dbt project refuses it)
    dbt_vars = {
        "nominal_interval_seconds": options.interval_seconds,
        "max_gap_seconds": max(900, options.interval_seconds),
    }
    with work_dir(options.lake, "smartgrid-bench-dbt-") as root:
        lake = Lake.resolve(str(root)).ensure()
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
        curated_bytes = table_bytes(spark, "smartgrid.fct_meter_readings")

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
    if options.json_out:
        point = {
            "base": base,
            "added": added,
            "full": full,
            "incremental": incremental,
            "no_new_data": no_new_data,
            "curated_rows": curated_rows,
            "curated_bytes": curated_bytes,
        }
        Path(options.json_out).write_text(json.dumps(point), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
