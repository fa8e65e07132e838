"""One dbt build shared by every module of tests/dbt (its time limit does not allow more).

dbt runs in-process (dbt-spark's session method reuses the session fixture's SparkSession). The
input is a small validated Delta table written directly (dbt_events.py), and a few quarantined
events; every result is checked against dbt_expected.py, which restates the rules in plain
Python.

The build is session-scoped, so it runs once whichever modules are selected. pytest runs the
modules in file-name order: the ones that only read the build (test_dbt_build.py,
test_dbt_data_quality.py) sort before test_dbt_incremental.py, which appends batch two to the
build's lake and builds other lakes in the same metastore.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smartgrid.lake import Lake
from transform import runner as dbt_runner

sys.path.insert(0, str(Path(__file__).parent))
from dbt_events import DBT_VARS, batch_one, quarantined, write_quarantine, write_validated


@pytest.fixture(scope="session")
def dbt_lake(spark, tmp_path_factory) -> Lake:
    """A lake of its own for the dbt tests (the metastore stays the session's)."""
    lake = Lake.resolve(str(tmp_path_factory.mktemp("dbt_lake"))).ensure()
    Path(lake.reference, "meters.csv").write_text(
        "meter_id,profile,has_solar,nominal_voltage,reports_energy\n"
        "MTR-A,household,true,230,false\n"
        "MTR-B,small_business,false,230,true\n"
        "MTR-UNSEEN,household,false,230,false\n",
        encoding="utf-8",
    )
    return lake


@pytest.fixture(scope="session")
def built(spark, dbt_lake: Lake) -> list[dict]:
    """Batch one ingested (and a few events quarantined), then a full `dbt build` (models, data
    tests and unit tests); the validated events written."""
    events = batch_one()
    write_validated(spark, dbt_lake, events)
    write_quarantine(spark, dbt_lake, quarantined())
    dbt_runner.build(dbt_lake, dbt_vars=DBT_VARS, spark=spark, full_refresh=True)
    return events


def pytest_collection_modifyitems(config, items) -> None:
    """The dbt tests on the session's shared lake (the ``built`` fixture) run before the dbt
    tests that build lakes of their own: the metastore is the session's, and a build on another
    lake points the ``smartgrid.*`` tables at that lake's files, so a later test reading the
    shared lake's tables would read another lake's. Their order is kept otherwise."""
    here = Path(__file__).parent
    positions = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]
    if not positions:
        return
    dbt_items = [items[i] for i in positions]
    shared = [item for item in dbt_items if "built" in getattr(item, "fixturenames", ())]
    own = [item for item in dbt_items if "built" not in getattr(item, "fixturenames", ())]
    for i, item in zip(positions, shared + own, strict=True):
        items[i] = item
