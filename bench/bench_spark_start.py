"""Benchmark: SparkSession start + first Delta write, jar folder vs spark.jars.packages.

    .venv/bin/python bench/bench_spark_start.py --repeat 3

Each run is a fresh Python subprocess (a fresh JVM) that builds the project's session
(smartgrid.spark.build_spark) and writes one small Delta table, timed from before the session
is built to after the write commits:

- ``folder``:   the jars ``make setup`` put in .spark-jars/ on the class path (the default);
- ``packages``: the same packages through ``spark.jars.packages``: Spark's Ivy resolves them
  on every start (from its warm cache; no download), as before the jar folder existed.

The two alternate (folder, packages, folder, ...) so a busy machine slows both alike; the
ratio packages / folder is what to read. Needs `make setup` (the folder) first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _common import ROOT, positive_int, work_dir

from smartgrid import jars

# Runs in the child: time the session start and the first Delta write, print them as JSON.
CHILD = """
import json, sys, time
from smartgrid.lake import Lake
from smartgrid.spark import build_spark

mode, root = sys.argv[1], sys.argv[2]
started = time.monotonic()
extra = {}
if mode == "packages":
    from smartgrid.jars import ALL_PACKAGES
    extra = {"spark.jars.packages": ",".join(ALL_PACKAGES)}
spark = build_spark(Lake(root), "bench-spark-start", extra_conf=extra)
session = time.monotonic()
spark.range(1000).write.format("delta").save(root + "/probe")
written = time.monotonic()
classpath = spark.sparkContext.getConf().get("spark.driver.extraClassPath", "")
spark.stop()
print(json.dumps({"start": session - started, "total": written - started,
                  "classpath": bool(classpath)}))
"""


def run_once(mode: str, folder: Path) -> dict:
    env = dict(os.environ)
    if mode == "packages":  # no jar folder: spark_conf falls back to spark.jars.packages
        env[jars.JARS_ENV] = str(folder / "none")
    else:
        env[jars.JARS_ENV] = str(folder)
    with work_dir(None, "bench-spark-start-") as root:
        # The child's own log (smartgrid.logs): the JVM's output and Ivy's report stay off
        # the console.
        env["SMARTGRID_LOG_FILE"] = f"{root}/bench.log"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, mode, root],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{mode} run failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    expected_classpath = mode == "folder"
    if result["classpath"] != expected_classpath:
        raise SystemExit(f"{mode} run did not use the {mode} set-up: {result}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=positive_int, default=3, help="runs of each mode (default 3)"
    )
    args = parser.parse_args()
    folder = jars.jars_dir()
    if not jars.is_ready(folder, jars.ALL_PACKAGES):
        print(f"error: no jar folder at {folder}: run `make setup` first", file=sys.stderr)
        return 2
    times: dict[str, list[dict]] = {"folder": [], "packages": []}
    for i in range(args.repeat):
        for mode in ("folder", "packages"):
            result = run_once(mode, folder)
            times[mode].append(result)
            print(
                f"run {i + 1} {mode:<8} session start {result['start']:6.1f} s, "
                f"+ first Delta write {result['total']:6.1f} s",
                flush=True,
            )
    medians = {
        mode: (
            statistics.median(r["start"] for r in runs),
            statistics.median(r["total"] for r in runs),
        )
        for mode, runs in times.items()
    }
    for mode, (start, total) in medians.items():
        print(f"median {mode:<8} session start {start:6.1f} s, start + first write {total:6.1f} s")
    ratio_start = medians["packages"][0] / medians["folder"][0]
    ratio_total = medians["packages"][1] / medians["folder"][1]
    print(
        f"ratio packages/folder: session start {ratio_start:.2f}x, "
        f"start + first write {ratio_total:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
