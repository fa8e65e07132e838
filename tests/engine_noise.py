"""What the engines print when they are let onto the console: Spark/Ivy/log4j/py4j/dbt lines.

The quiet-output tests assert that no console line matches (and that ``--verbose`` brings some
back); one list so every test means the same thing by "noise".
"""

from __future__ import annotations

import re

NOISE_PATTERNS = (
    r"\bivy\b",  # Ivy's resolution report (":: resolving dependencies ::", "ivy-default-cache")
    r"(?i:\bresolving\b)",
    r"::",
    r"(?i:\bpy4j\b)",
    r"(?i:\blog4j)",
    r"\bWARN(ING)?\b",
    r"\bINFO\b",
    r"(?i:proxy server)",
    r"Setting default log level",
    r"NativeCodeLoader",
    r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d ",  # a log4j line's time stamp
    r"Running with dbt=",  # dbt's banner
    r"\bTraceback \(most recent call last\)",
)
NOISE = re.compile("|".join(f"(?:{p})" for p in NOISE_PATTERNS), re.MULTILINE)
# A line log4j wrote with smartgrid/log4j2.properties' layout (or Spark's default one).
LOG4J_LINE = re.compile(
    r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) ", re.M
)


def noisy_lines(text: str) -> list[str]:
    """The lines of ``text`` that look like engine output."""
    return [line for line in text.splitlines() if NOISE.search(line)]
