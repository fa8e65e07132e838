"""The broker's jars: ``kafka/pom.xml`` resolved once from Maven Central into ``kafka/lib/``
(``SMARTGRID_KAFKA_LIB`` points at a ready directory instead)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from smartgrid.errors import SmartgridError

KAFKA_VERSION = "4.1.1"  # keep equal to kafka.version in kafka/pom.xml (a test checks)
PROJECT_DIR = Path(__file__).resolve().parent.parent
KAFKA_DIR = PROJECT_DIR / "kafka"
POM = KAFKA_DIR / "pom.xml"
TEMPLATE = KAFKA_DIR / "server.properties"
LOG_CONFIG = KAFKA_DIR / "log4j2.properties"
LIB_ENV = "SMARTGRID_KAFKA_LIB"


# --------------------------------------------------------------------------------------------
# Jars
# --------------------------------------------------------------------------------------------


def lib_dir() -> Path:
    configured = os.environ.get(LIB_ENV)
    return Path(configured) if configured else KAFKA_DIR / "lib"


def _marker(directory: Path) -> Path:
    return directory / f".resolved-kafka-{KAFKA_VERSION}"


def ensure_jars(*, quiet: bool = False) -> Path:
    """The directory of the broker's jars, resolving them from Maven Central on first use."""
    directory = lib_dir()
    if os.environ.get(LIB_ENV):
        if not any(directory.glob("kafka_2.13-*.jar")):
            raise SmartgridError(f"{LIB_ENV}={directory} holds no kafka_2.13 jar")
        return directory
    if _marker(directory).exists():
        return directory
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SmartgridError(
            "Maven (mvn) is needed once to resolve the Kafka broker's jars from Maven Central: "
            f"install it (Debian/Ubuntu: apt-get install maven) or set {LIB_ENV} to a directory "
            "holding Kafka's libs/"
        )
    KAFKA_DIR.mkdir(parents=True, exist_ok=True)
    with _file_lock(KAFKA_DIR / ".resolve.lock"):
        if _marker(directory).exists():  # another process resolved them meanwhile
            return directory
        staging = KAFKA_DIR / f"lib.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        if not quiet:
            print(f"resolving Kafka {KAFKA_VERSION} from Maven Central into {directory} ...")
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            output = (done.stdout + done.stderr).strip().splitlines()[-15:]
            raise SmartgridError(
                f"could not resolve org.apache.kafka:kafka_2.13:{KAFKA_VERSION} from Maven Central "
                f"(mvn exit {done.returncode}):\n" + "\n".join(output)
            )
        _marker(staging).touch()
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(staging, directory)  # whole directory or nothing: a killed run leaves no half
    return directory


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
