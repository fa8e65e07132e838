"""Shared fixtures: one lake and one SparkSession for the whole test session.

The session is Hive-enabled (Derby metastore in a temporary lake) so dbt, run in-process
through dbt-spark's session method, reuses it instead of starting a second JVM.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smartgrid.lake import Lake

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def session_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The lake behind the session's SparkSession (its warehouse and metastore live here)."""
    return Lake.resolve(str(tmp_path_factory.mktemp("lake"))).ensure()


@pytest.fixture(scope="session")
def spark(session_lake: Lake):
    from smartgrid.spark import build_spark

    os.environ.setdefault("SMARTGRID_SHUFFLE_PARTITIONS", "1")
    session = build_spark(
        session_lake,
        "smartgrid-tests",
        hive=True,
        extra_conf={"spark.sql.shuffle.partitions": "1", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A fresh, empty lake for one test."""
    return Lake.resolve(str(tmp_path / "lake")).ensure()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
