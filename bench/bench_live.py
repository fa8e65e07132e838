"""Benchmark: live mode's freshness at ~1,000 events/s against the 60 s goal.

    .venv/bin/python bench/bench_live.py                 # 300 s of the live mode, then the old one
    .venv/bin/python bench/bench_live.py --for 120 --no-baseline

Runs ``smartgrid demo --live`` (pipeline/live.py, 1,000 meters every second) in a fresh lake for
``--for`` seconds, in a process of its own (its own JVM and metastore), and prints its freshness
(pipeline/freshness.py): typical, the newest curated reading's age at each refresh's end (median,
p95), and worst case, the longest an event waited from being sent until the curated table showed
it (max). The baseline is the previous behaviour in the same way: every model on every refresh,
a fixed 20 s period, a 5 s ingest trigger, dbt parsing each time. The first refresh (start-up) is
left out of both. The 1-minute load average is sampled during each run and printed beside it:
on a shared machine only the two runs' ratio means much.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from _common import ROOT, positive_int, work_dir

from pipeline.freshness import RefreshPoint, measure
from pipeline.live import FRESHNESS_GOAL_SECONDS

MODES = {
    "live": {},
    "baseline": {
        "refresh": 20.0,
        "ingest_every": 5.0,
        "all_models": True,
        "wait_for_data": False,
        "reuse_manifest": False,
    },
}


def child(mode: str, lake: str, seconds: float, meters: int, result: str) -> int:
    """One live run in this process; its refreshes are written to ``result`` as JSON."""
    from pipeline.live import LiveOptions, run_live

    # finish=False: the catch-up and the full build with tests after the stop are not measured.
    options = LiveOptions(lake=lake, meters=meters, run_for=seconds, finish=False, **MODES[mode])
    report = run_live(options)
    Path(result).write_text(
        json.dumps(
            {
                "sending_since": report.sending_since.isoformat(),
                "produced": report.produced,
                "refreshes": [
                    {
                        "finished_at": r.finished_at.isoformat(),
                        "newest": r.newest.isoformat() if r.newest else None,
                        "seconds": r.seconds,
                        "dbt": r.dbt_seconds,
                        "csv": r.export_seconds,
                        "dashboard": r.dashboard_seconds,
                    }
                    for r in report.refreshes
                ],
            }
        )
    )
    return 0


def run_mode(mode: str, seconds: float, meters: int) -> dict:
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5):
            loads.append(os.getloadavg()[0])

    with work_dir(None, "bench_live_") as tmp:
        result = Path(tmp) / "result.json"
        command = [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--lake",
            str(Path(tmp) / "lake"),
            "--for",
            str(seconds),
            "--meters",
            str(meters),
            "--result",
            str(result),
        ]
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        log = Path(tmp) / "output.txt"
        with log.open("w") as out:
            code = subprocess.call(command, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL)
        done.set()
        if code != 0:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"{mode}: the live run failed (exit {code})")
        data = json.loads(result.read_text())
    data["loads"] = loads
    return data


def summarise(mode: str, data: dict) -> dict:
    refreshes = data["refreshes"]
    points = [
        RefreshPoint(
            datetime.fromisoformat(r["finished_at"]),
            datetime.fromisoformat(r["newest"]) if r["newest"] else None,
        )
        for r in refreshes
    ]
    fresh = measure(points, datetime.fromisoformat(data["sending_since"]))
    steady = refreshes[1:] or refreshes
    loads = data["loads"] or [float("nan")]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in steady) if steady else float("nan")

    return {
        "mode": mode,
        "refreshes": len(refreshes),
        "refresh_s": median("seconds"),
        "dbt_s": median("dbt"),
        "csv_s": median("csv"),
        "dashboard_s": median("dashboard"),
        "typical_median": fresh.typical_median,
        "typical_p95": fresh.typical_p95,
        "worst_max": fresh.worst_max,
        "met": fresh.meets(FRESHNESS_GOAL_SECONDS),
        "produced": data["produced"],
        "load_mean": statistics.mean(loads),
        "load_max": max(loads),
    }


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--for", dest="seconds", type=float, default=300.0)
    parser.add_argument("--meters", type=positive_int, default=1000)
    parser.add_argument("--no-baseline", action="store_true", help="the live mode only")
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--lake", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.lake, args.seconds, args.meters, args.result)

    modes = ["live"] if args.no_baseline else ["live", "baseline"]
    rows = []
    for mode in modes:
        print(f"{mode}: running for {args.seconds:g} s ...", flush=True)
        rows.append(summarise(mode, run_mode(mode, args.seconds, args.meters)))

    print(
        f"\nlive freshness, {args.meters:,} meters every 1 s, {args.seconds:g} s each "
        f"(goal: worst case < {FRESHNESS_GOAL_SECONDS:g} s); first refresh left out"
    )
    print(
        f"{'mode':<9} {'refreshes':>9} {'refresh s':>9} {'(dbt/csv/dash)':>16} "
        f"{'typical med':>11} {'p95':>6} {'worst max':>9} {'goal':>6} {'sent':>8} {'load avg':>12}"
    )
    for r in rows:
        split = f"{r['dbt_s']:.1f}/{r['csv_s']:.1f}/{r['dashboard_s']:.1f}"
        goal = {True: "met", False: "missed", None: "-"}[r["met"]]
        print(
            f"{r['mode']:<9} {r['refreshes']:>9} {r['refresh_s']:>9.1f} {split:>16} "
            f"{fmt(r['typical_median']):>11} {fmt(r['typical_p95']):>6} "
            f"{fmt(r['worst_max']):>9} {goal:>6} {r['produced']:>8,} "
            f"{r['load_mean']:>5.1f} (max {r['load_max']:.1f})"
        )
    for r in rows:
        if r["worst_max"] is None:
            print(
                f"{r['mode']}: one refresh only (start-up), no steady state: the first refresh "
                "outlasted --for; run longer or on a quieter machine"
            )
    if len(rows) == 2 and rows[0]["worst_max"] and rows[1]["worst_max"]:
        print(f"worst case, live / baseline: {rows[0]['worst_max'] / rows[1]['worst_max']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
