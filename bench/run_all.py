"""Run every benchmark under bench/ in turn (``make bench``), at the sizes the README cites.

    python bench/run_all.py                      # each bench/ row of the README's Performance table
    python bench/run_all.py --sweeps --record    # and the capacity model's sweeps, recorded
    python bench/run_all.py --quick              # tiny sizes: a smoke run of each script
    python bench/run_all.py --dry-run --sweeps   # the commands only
    python bench/run_all.py ingest dbt-sweep     # only these (a sweep named here runs)
    python bench/run_all.py producer --record    # names before --record (it takes a PATH)

Each benchmark measures its baseline in the same run and prints the ratio, so the ratios hold on
a busy machine where absolute rates do not. The default sizes are the README's (its Performance
table's commands, docs/performance.md); the sweeps are docs/capacity.md's and feed
capacity/measured.json with ``--record`` (``--record PATH``: another file; the benchmarks that
record nothing ignore it). ``--quick`` runs the same scripts at tiny sizes (the live benchmark
left out: its first refresh alone outlasts a smoke run); its figures mean nothing, so it records
only into a ``--record PATH``, never into capacity/measured.json.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import add_record_option

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SWEEP_EVENTS = "250000,500000,1000000,2000000"
DBT_MEMORY = {"SMARTGRID_DRIVER_MEMORY": "8g"}  # the dbt rows were measured with it


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    full: tuple[str, ...]  # the README's (or docs/capacity.md's) arguments
    quick: tuple[str, ...] | None  # tiny sizes; None: not in a quick run
    records: bool = False  # takes --record
    sweep: bool = False  # a capacity sweep: only with --sweeps or by name
    env: dict[str, str] = field(default_factory=dict)  # at the full sizes (unless already set)


BENCHMARKS = (
    Bench(
        "producer", "bench_producer.py", ("--repeat", "5"), ("--events", "2000", "--repeat", "1"),
        records=True,
    ),
    Bench(
        "eventhubs_sink", "bench_eventhubs_sink.py", (), ("--events", "2000", "--repeat", "1"),
        records=True,
    ),
    Bench("ingest", "bench_ingest.py", ("--events", "2000000"), ("--events", "5000", "--files", "2")),
    Bench(
        "kafka", "bench_kafka.py", ("--events", "500000"), ("--events", "2000")
    ),
    Bench(
        "dbt", "bench_dbt.py", ("--repeat", "1"), ("--meters", "20", "--days", "0.5"),
        env=DBT_MEMORY,
    ),
    Bench("spark_start", "bench_spark_start.py", ("--repeat", "3"), ("--repeat", "1")),
    Bench("live", "bench_live.py", ("--for", "300"), None),
    Bench(
        "ingest-sweep", "bench_ingest.py", ("--sweep", SWEEP_EVENTS, "--masters", "1,2"),
        ("--sweep", "4000,8000", "--masters", "2", "--files", "2"), records=True, sweep=True,
    ),
    Bench(
        "kafka-sweep", "bench_kafka.py", ("--sweep", SWEEP_EVENTS),
        ("--sweep", "2000,4000"), records=True, sweep=True,
    ),
    Bench(
        "dbt-sweep", "bench_dbt.py",
        ("--sweep", "2500000,5000000,10000000", "--new-rows", "100000"),
        ("--sweep", "14400,28800", "--meters", "20", "--new-rows", "1000"),
        records=True, sweep=True, env=DBT_MEMORY,
    ),
)  # fmt: skip
NAMES = tuple(bench.name for bench in BENCHMARKS)


def plan(args: argparse.Namespace) -> list[tuple[Bench, list[str]]]:
    """The benchmarks to run and each one's arguments."""
    chosen = []
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        if bench.sweep and not (args.sweeps or bench.name in args.only):
            continue
        sizes = bench.quick if args.quick else bench.full
        if sizes is None:
            continue
        extra = []
        if bench.records and args.record is not None:
            extra = ["--record", args.record] if args.record else ["--record"]
        chosen.append((bench, [*sizes, *extra]))
    return chosen


def environment(bench: Bench, quick: bool) -> dict[str, str]:
    """What the benchmark's command sets (the caller's own setting wins)."""
    return {} if quick else {k: os.environ.get(k, v) for k, v in bench.env.items()}


def command_line(bench: Bench, arguments: list[str], quick: bool) -> str:
    env = "".join(f"{key}={value} " for key, value in environment(bench, quick).items())
    return f"{env}python bench/{bench.script} {shlex.join(arguments)}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=f"names: {', '.join(NAMES)}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument(
        "--sweeps", action="store_true", help="also the capacity sweeps (ingest, kafka, dbt)"
    )
    add_record_option(parser, "the recording benchmarks' figures")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument("only", nargs="*", help="run only these (e.g. producer ingest-sweep)")
    args = parser.parse_args(argv)
    if args.record in NAMES:  # `--record ingest`: argparse took the name as the PATH
        parser.error(f"--record took {args.record!r} as its PATH: put the names before --record")
    unknown = sorted(set(args.only) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; names: {', '.join(NAMES)}")
    if args.quick and args.record == "":
        parser.error("--quick's figures mean nothing: give --record PATH, not measured.json")

    failed, took = [], []
    for bench, arguments in plan(args):
        line = command_line(bench, arguments, args.quick)
        print(f"\n=== {line} ===", flush=True)
        if args.dry_run:
            continue
        started = time.monotonic()
        code = subprocess.run(
            [sys.executable, str(HERE / bench.script), *arguments],
            cwd=ROOT,
            env={**os.environ, **environment(bench, args.quick)},
        ).returncode
        took.append((bench.name, time.monotonic() - started, code))
        if code != 0:
            failed.append(bench.name)
    if took:
        print("\n" + "\n".join(f"{n:<15} {s:7.1f} s  exit {c}" for n, s, c in took))
    if failed:
        # bench_ingest.py also exits 1 when its goal is not met, which --quick's sizes never meet
        print(f"\nnon-zero exit (failed, or a goal not met): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
