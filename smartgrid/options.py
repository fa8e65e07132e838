"""argparse value types shared by every command: numbers that are finite and in range.

A bare ``type=float`` lets ``nan``, ``inf`` and ``1e999`` through, and each command then fails
later and elsewhere (or never: ``--for nan`` runs forever). These types refuse such a value
while the options are parsed, so the command line's one ``error:`` line names the option and
no work has started. ``tests/foundation/test_hostile_args.py`` checks that no option of any
command takes a bare ``float``.
"""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text.strip())
    except (TypeError, ValueError, OverflowError):
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def finite_float(text: str) -> float:
    return float(_number(text, float))


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return value
