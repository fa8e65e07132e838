"""Run every benchmark under bench/ in turn (``make bench``); each prints its own ratio.

Each benchmark measures its baseline in the same run, so the ratios hold on a busy machine
where absolute rates do not. ``--quick`` runs them at a tenth of their default sizes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (script, default arguments, quick arguments)
BENCHMARKS = (
    ("bench_producer.py", [], ["--events", "100000"]),
    ("bench_eventhubs_sink.py", [], ["--events", "20000"]),
    ("bench_ingest.py", [], ["--events", "200000", "--files", "8"]),
    ("bench_kafka.py", [], ["--events", "50000"]),
    ("bench_dbt.py", ["--repeat", "1"], ["--meters", "100", "--days", "2"]),
    ("bench_spark_start.py", ["--repeat", "3"], ["--repeat", "1"]),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("only", nargs="*", help="run only these (e.g. producer ingest)")
    args = parser.parse_args()
    failed = []
    for script, full, quick in BENCHMARKS:
        name = script.removeprefix("bench_").removesuffix(".py")
        if args.only and name not in args.only:
            continue
        if not (HERE / script).exists():
            continue
        print(f"\n=== {script} ===", flush=True)
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        if subprocess.run(command).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
