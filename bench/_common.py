"""What the bench scripts share: their options, a working directory, timing, rates, fits, recording.

Each script measures what it measures and its own baseline in the same run, and prints the ratio;
this module holds only the plumbing around that, so the options, the ``--record`` behaviour and
the messages are the same in every script:

* ``add_record_option`` / ``record_if_asked``: ``--record`` writes the script's figures into
  capacity/measured.json (and refills docs/capacity.md), ``--record PATH`` into another file
  (bench/measured.py: the value, how and when it was measured, the machine's cores and load);
* ``sizes``: a ``--sweep N,N,...`` list; ``positive_int``: an argparse type for counts;
* ``work_dir``: a given directory, kept, or a temporary one, removed after;
* ``Timer``: ``with Timer() as t: ...`` then ``t.seconds`` (wall time, or any clock);
* ``rate`` / ``best_rate``: events per second; ``fit_rate``: least squares
  seconds = fixed + events / rate over a sweep's points.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(ROOT), str(HERE)):  # the project (without an install) and measured.py
    if _path not in sys.path:
        sys.path.insert(0, _path)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def add_record_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--record`` (capacity/measured.json) or ``--record PATH`` (another file)."""
    parser.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="PATH",
        help=f"write {what} into capacity/measured.json (or PATH)",
    )


def add_sweep_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--sweep", metavar="N,N,...", help=what)


def sizes(text: str, *, at_least: int = 2, option: str = "--sweep") -> list[int]:
    """``N,N,...`` as whole numbers >= 1; ``at_least`` different ones (a line needs two)."""
    try:
        values = [int(n.replace("_", "")) for n in text.split(",")]
    except ValueError:
        raise SystemExit(f"{option} {text!r}: give whole numbers, e.g. 250000,500000") from None
    if any(n < 1 for n in values):
        raise SystemExit(f"{option} {text!r}: every size must be at least 1")
    if len(set(values)) < at_least:
        raise SystemExit(f"{option} needs two different sizes at least")
    return values


def record_if_asked(
    args: argparse.Namespace, figures: Mapping[str, float], how: str
) -> Path | None:
    """With ``--record [PATH]``, write ``figures`` as measured now by ``how``."""
    if getattr(args, "record", None) is None:
        return None
    from measured import record

    return record(dict(figures), how, path=Path(args.record) if args.record else None)


@contextlib.contextmanager
def work_dir(keep: str | None, prefix: str) -> Iterator[Path]:
    """``keep`` if given (left in place afterwards), else a temporary directory removed after."""
    path = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


class Timer:
    """``with Timer() as t: ...``; ``t.seconds`` afterwards (``time.process_time``: CPU time)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Timer:
        self.started = self.clock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = self.clock() - self.started


def rate(count: float, seconds: float) -> float:
    """Per second; 0 for a run too short to time."""
    return count / seconds if seconds > 0 else 0.0


def best_rate(count: float, seconds: Sequence[float]) -> float:
    """Per second of the fastest of several runs of the same work."""
    return rate(count, min(seconds))


def fit_rate(
    label: str, counts: Sequence[float], seconds: Sequence[float]
) -> tuple[float, float] | None:
    """Least squares seconds = fixed + count / rate: ``(fixed, rate)``, or None (said in one
    line) when the time does not grow with the count."""
    from measured import fit_line

    fixed, slope = fit_line(list(counts), list(seconds))
    if slope <= 0:
        print(f"{label}: time does not grow with size; sizes too small or machine busy")
        return None
    return fixed, 1 / slope
