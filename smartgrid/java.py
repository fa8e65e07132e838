"""Java check: Spark 4 needs Java 17 or newer; say so in one line instead of a gateway stack trace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from smartgrid.errors import SmartgridError

MIN_JAVA = 17
INSTALL_HINT = "install OpenJDK 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"


def java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("java")


def parse_java_major(version_output: str) -> int | None:
    """Major version from ``java -version`` output: '1.8.0_392' -> 8, '17.0.15' -> 17, '25' -> 25."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def check_java() -> int:
    """Return the Java major version, or raise a one-line error that says what to install."""
    java = java_executable()
    if java is None:
        raise SmartgridError(f"Java not found: {INSTALL_HINT}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SmartgridError(f"Java at {java} does not run ({exc}): {INSTALL_HINT}.") from exc
    major = parse_java_major(out.stderr + out.stdout)
    if major is None:
        raise SmartgridError(f"cannot tell the version of Java at {java}: {INSTALL_HINT}.")
    if major < MIN_JAVA:
        raise SmartgridError(
            f"Java {major} at {java} is too old (Spark 4 needs {MIN_JAVA}+): {INSTALL_HINT}."
        )
    return major


if __name__ == "__main__":  # used by the Makefile before anything is installed
    import sys

    try:
        print(f"java {check_java()} ok")
    except SmartgridError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
