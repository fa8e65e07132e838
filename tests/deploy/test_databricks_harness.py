"""dbt-databricks end to end, offline: the deployed dbt job against a recording warehouse.

A Databricks SQL warehouse cannot be reached from here, so its client's entry point,
``databricks.sql.connect``, is replaced by a fake at the edge of that unreachable cloud service
(fake_warehouse.py): an in-process warehouse that records every statement and answers it with
the test session's Spark (one session per connection, Unity Catalog names on Spark's catalog).
Everything else is real: the dbt project as the bundle syncs it (databricks.yml, sync.exclude),
the deployed profile (dbt_profiles/profiles.yml) with the host and token a dbt task receives,
the dbt commands of resources/dbt_job.yml resolved for a developer's dev target, dbt-databricks
1.12 and dbt-core, run in-process through dbtRunner.

The runs: `dbt build` on a first batch of validated events, `dbt build` again after a second
batch (late, re-sent and new readings: the incremental path; without the data and unit tests,
whose SQL the first build already sent), `dbt run-operation export_csv`, and the dbt job's
publish task. Then the lake moves (relocation), and a volume as lake root is
refused. What is checked: every run succeeds; every statement parses as Databricks SQL with
sqlglot, except the allow-listed kinds (statements.py); no statement writes outside the target's
own schemas and lake prefix; the incremental run merges, and bounds its merges by partition as
designed; every session ran in UTC although the warehouse's global zone is not UTC; the
singular dbt test ran. What only a workspace confirms is listed in docs/deploy-azure.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec
import pytest
import sqlglot
from bundle_config import ALICE, BOB, ROOT, load_bundle
from fake_warehouse import FakeWarehouse, Statement
from sqlglot import exp
from statements import UNPARSED_KINDS, parse, unparsed_kind, writes

BUNDLE = load_bundle()
HOST = "adb-1234567890123456.7.azuredatabricks.invalid"  # RFC 2606: never resolves
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
STEP = dt.timedelta(minutes=10)
INCREMENTAL_MODELS = {
    "int_meter_readings__clean",
    "fct_meter_readings",
    "fct_meter_daily_energy",
    "fct_meter_daypart_daily_energy",
    "fct_fleet_power_trend",
}
# The merges that carry a partition bound (macros/incremental/bounded_merge.sql, meta merge_window_column).
BOUNDED_MERGES = {"int_meter_readings__clean": "reading_date", "fct_meter_readings": "local_date"}
# The merges that delete the rows whose keys the model emits as tombstones (a row whose marker
# column is null; macros/incremental/bounded_merge.sql, meta merge_tombstone_column), by marker.
TOMBSTONE_MERGES = {
    "fct_meter_readings": "anomaly_flag",
    "fct_meter_daily_energy": "reading_count",
    "fct_meter_daypart_daily_energy": "reading_count",
}
# The small marts merged whole into their table (meta merge_whole_table,
# macros/incremental/whole_table_merge.sql), with their unique keys.
WHOLE_TABLE_KEYS = {
    "dim_meters": ("meter_id",),
    "fct_fleet_daily_target": ("local_date",),
    "fct_meter_daypart_energy": ("meter_id", "time_of_day"),
    "fct_ingest_daily": ("ingested_on",),
    "fct_quarantine_reasons": ("ingested_on", "reason"),
    "fct_reading_conflicts": ("meter_id", "reading_at"),
}
# Of those, the marts that recount a window of days in an incremental run
# (macros/incremental/ingest_window.sql): the by-source delete is limited to the window.
WHOLE_TABLE_WINDOWS = {"fct_ingest_daily": "ingested_on", "fct_quarantine_reasons": "ingested_on"}


def synced_files(root: Path = ROOT) -> list[str]:
    """What `databricks bundle deploy` uploads: the files git does not ignore (tracked or not),
    minus sync.exclude, which the CLI matches like .gitignore lines (go-gitignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    excluded = pathspec.PathSpec.from_lines("gitwildmatch", BUNDLE.root["sync"]["exclude"])
    return sorted(f for f in listed if (root / f).is_file() and not excluded.match_file(f))


@dataclass
class Run:
    name: str
    result: object
    statements: list[Statement]
    lake_root: str

    @property
    def node_results(self) -> dict[str, object]:
        results = getattr(self.result.result, "results", None) or []
        return {r.node.unique_id: r for r in results if getattr(r, "node", None)}


@dataclass
class Harness:
    warehouse: FakeWarehouse
    project: Path
    values: dict
    lake_root: str
    build: list[str]
    runs: dict[str, Run] = field(default_factory=dict)


def _event(meter: str, k: int, watts: float, ingest: dt.datetime, batch: int, offset: int):
    return {
        "event_id": f"{meter}-{k}",
        "timestamp": T0 + k * STEP,
        "meter_id": meter,
        "real_power_watts": float(watts),
        "voltage": 230.0 + (k % 7),
        "power_factor": 0.95,
        "energy_kwh": None,
        "current_a": None,
        "schema_version": 1,
        "extra_fields": None,
        "source_name": "meter-readings",
        "source_partition": 0,
        "source_offset": offset,
        "source_timestamp": ingest,
        "ingest_time": ingest,
        "batch_id": batch,
    }


def first_batch() -> list[dict]:
    ingest = T0 + dt.timedelta(days=2, minutes=5)
    meters = ("MTR-A", "MTR-B")
    return [
        _event(m, k, 400 + 100 * (k % 5), ingest, 0, i * 500 + k)
        for i, m in enumerate(meters)
        for k in range(288)  # two days every 10 minutes
        if not (m == "MTR-A" and k in (100, 101))  # held back: late in the second batch
    ]


def second_batch() -> list[dict]:
    ingest = T0 + dt.timedelta(days=2, hours=2)
    late = [_event("MTR-A", k, 700, ingest, 1, 2000 + k) for k in (100, 101)]
    resent = [_event("MTR-B", 200, 4321, ingest, 1, 2900)]
    new = [
        _event(m, k, 500, ingest, 1, 3000 + 10 * i + k)
        for i, m in enumerate(("MTR-A", "MTR-B"))
        for k in (288, 289)
    ]
    return late + resent + new  # offsets after the first batch's: one event hub partition


def write_validated(spark, lake_root: str, events: list[dict]) -> None:
    from ingest.tables import VALIDATED_SCHEMA

    spark.createDataFrame(events, VALIDATED_SCHEMA).write.format("delta").mode("append").save(
        f"{lake_root}/validated"
    )


@contextlib.contextmanager
def task_environment() -> Iterator[None]:
    """The environment of a dbt task: DBT_HOST (here with https:// and a trailing slash, which
    the profile must strip) and DBT_ACCESS_TOKEN; no DBT_PROFILES_DIR of the caller."""
    saved = dict(os.environ)
    os.environ.pop("DBT_PROFILES_DIR", None)
    os.environ["DBT_HOST"] = f"https://{HOST}/"
    os.environ["DBT_ACCESS_TOKEN"] = "dapi-offline-harness-" + "0" * 8  # not a token
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dbt_task() -> dict:
    _, job = BUNDLE.jobs["smartgrid_dbt"]
    return next(t for t in job["tasks"] if "dbt_task" in t)["dbt_task"]


def dbt_commands(values_overrides: dict) -> list[list[str]]:
    """The dbt task's commands, resolved for alice's dev deployment, as argument lists."""
    commands = BUNDLE.resolve(dbt_task()["commands"], "dev", ALICE, values_overrides)
    return [shlex.split(c) for c in commands]


def run_dbt(harness: Harness, name: str, args: list[str], lake_root: str) -> Run:
    from dbt.cli.main import dbtRunner

    assert args[0] == "dbt"
    mark = len(harness.warehouse.statements)
    target = harness.project.parent / "dbt-target"
    with task_environment(), harness.warehouse.serving():
        result = dbtRunner().invoke(
            [
                *args[1:],
                "--project-dir",
                str(harness.project),
                "--profiles-dir",
                str(harness.project / dbt_task()["profiles_directory"]),
                "--target-path",
                str(target),
                "--log-path",
                str(harness.project.parent / "dbt-logs"),
            ]
        )
    run = Run(name, result, harness.warehouse.since(mark), lake_root)
    harness.runs[name] = run
    return run


def with_vars(args: list[str], **changes) -> list[str]:
    args = list(args)
    position = args.index("--vars") + 1
    args[position] = json.dumps({**json.loads(args[position]), **changes})
    return args


@pytest.fixture(scope="module")
def harness(spark, tmp_path_factory) -> Harness:
    base = tmp_path_factory.mktemp("databricks-harness")
    project = base / "synced"
    for name in synced_files():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    location = base / "external-location"
    overrides = {"lake_location": str(location)}
    values = BUNDLE.values("dev", ALICE, overrides)
    lake_root = values["lake_root"]
    Path(lake_root, "reference").mkdir(parents=True)
    Path(lake_root, "reference", "meters.csv").write_text(
        "meter_id,profile,has_solar,nominal_voltage,reports_energy\n"
        "MTR-A,household,true,230,false\nMTR-B,small_business,false,230,false\n",
        encoding="utf-8",
    )
    warehouse = FakeWarehouse(spark, catalog=values["catalog"])
    build, export = dbt_commands(overrides)
    harness = Harness(warehouse, project, values, lake_root, build)
    assert build[:2] == ["dbt", "build"] and export[:3] == ["dbt", "run-operation", "export_csv"]

    write_validated(spark, lake_root, first_batch())
    run_dbt(harness, "first build", build, lake_root)
    write_validated(spark, lake_root, second_batch())
    # The same command again. Its data and unit tests are left out: their SQL is the first
    # build's, and tests/dbt checks the incremental results row by row.
    tests = ["--exclude", "resource_type:test", "resource_type:unit_test"]
    run_dbt(harness, "incremental build", [*build, *tests], lake_root)
    run_dbt(harness, "export", export, lake_root)
    return harness


def test_every_run_succeeds_on_the_deployed_profile(harness: Harness) -> None:
    for run in (harness.runs[name] for name in ("first build", "incremental build", "export")):
        failed = [
            (uid, r.status, r.message)
            for uid, r in run.node_results.items()
            if str(r.status) not in ("success", "pass")
        ]
        assert run.result.success, (run.name, run.result.exception, failed)
    first = harness.runs["first build"].node_results
    assert {uid.split(".")[-1] for uid in first if uid.startswith("model.")} >= INCREMENTAL_MODELS
    # The singular test under tests/dbt/singular ships with the bundle and runs on Databricks.
    assert str(first["test.smartgrid.assert_daily_energy_reconciles_with_readings"].status) == (
        "pass"
    )
    assert any(uid.startswith("unit_test.") for uid in first)


def test_connections_use_the_profile_as_a_dbt_task_receives_it(harness: Harness) -> None:
    values = harness.values
    assert harness.warehouse.connections
    for connection in harness.warehouse.connections:
        assert connection["server_hostname"] == HOST  # DBT_HOST came with https:// and a /
        assert connection["http_path"] == f"/sql/1.0/warehouses/{values['warehouse_id']}"
        assert connection["catalog"] == values["catalog"]
        assert connection["schema"] == values["schema"]
        assert connection["session_configuration"]["TIMEZONE"] == "UTC"


def test_every_statement_runs_in_utc_although_the_warehouse_default_is_not(harness) -> None:
    assert harness.warehouse.global_time_zone != "UTC"
    statements = harness.warehouse.statements
    assert statements and {s.time_zone for s in statements} == {"UTC"}
    # ... and it shows in the data: the first reading (00:00 UTC) is on its UTC date.
    readings = harness.warehouse.spark.sql(
        f"select min(local_date) from spark_catalog.{harness.values['schema']}.fct_meter_readings"
    ).first()[0]
    assert readings == T0.date()


def test_every_statement_parses_as_databricks_sql(harness: Harness) -> None:
    unparsed = set()
    for statement in harness.warehouse.statements:
        if parse(statement.sql) is None:  # AssertionError names a statement sqlglot cannot read
            unparsed.add(unparsed_kind(statement.sql))
    assert unparsed == set(UNPARSED_KINDS)  # the allow-list holds only what the runs need


def foreign_writes(sqls: list[str], values: dict, lake_root: str) -> list[tuple[str, str]]:
    """The writes of ``sqls`` outside the target's own schemas (``<schema>``, ``<schema>_lake``
    in its catalog) and lake root, as (what, statement)."""
    own = {(values["catalog"], values["schema"]), (values["catalog"], f"{values['schema']}_lake")}
    found = []
    for sql in sqls:
        for write in writes(sql):
            if write.relation and not write.temporary:
                # An unqualified name is the session's: the profile's catalog and schema.
                catalog, schema, _ = write.relation
                if (catalog or values["catalog"], schema or values["schema"]) not in own:
                    found.append((f"{write.kind} {write.relation}", sql))
            if write.path and not write.path.startswith(lake_root.rstrip("/") + "/"):
                found.append((f"{write.kind} at {write.path}", sql))
    return found


def test_nothing_is_written_outside_the_targets_schemas_and_lake(harness: Harness) -> None:
    writing = 0
    for run in harness.runs.values():
        sqls = [s.sql for s in run.statements]
        writing += sum(bool(writes(sql)) for sql in sqls)
        assert foreign_writes(sqls, harness.values, run.lake_root) == [], run.name
    assert writing > 20


def test_the_write_check_catches_another_targets_schema_and_lake() -> None:
    """Control: prod's schema, another catalog and a path beside the lake are each caught."""
    values = BUNDLE.values("dev", ALICE)
    lake = values["lake_root"]
    other = BUNDLE.values("dev", BOB)["lake_root"]
    bad = [
        "create or replace view `main`.`smartgrid`.`v` as select 1",
        "merge into `hive_metastore`.`smartgrid_alice_smith`.`t` as d using s on d.k = s.k "
        "when matched then delete",
        f"create table `main`.`smartgrid_alice_smith_lake`.`raw` using delta location '{other}/raw'",
        f"insert overwrite directory '{lake}-other/curated/.x.staging' using csv select 1",
    ]
    good = [
        "drop view if exists `t__dbt_tmp`",
        f"create table `main`.`smartgrid_alice_smith_lake`.`raw` using delta location '{lake}/raw'",
        "select * from `main`.`smartgrid`.`fct_meter_readings`",  # reading is fine
    ]
    assert [sql for _, sql in foreign_writes(bad, values, lake)] == bad
    assert foreign_writes(good, values, lake) == []


def test_the_incremental_build_merges_with_partition_bounds(harness: Harness) -> None:
    run = harness.runs["incremental build"]
    merges: dict[str, exp.Merge] = {}
    for statement in run.statements:
        tree = parse(statement.sql)
        if isinstance(tree, exp.Merge):
            merges[tree.this.name] = tree
    assert set(merges) - set(WHOLE_TABLE_KEYS) == INCREMENTAL_MODELS  # merged, not rebuilt
    for table, column in BOUNDED_MERGES.items():
        condition = merges[table].args["on"]
        bounds = [
            node
            for node in condition.find_all(exp.GTE)
            if isinstance(node.this, exp.Column)
            and node.this.name == column
            and node.this.table.lower() == "dbt_internal_dest"
        ]
        assert bounds, (table, condition.sql())
    for table, marker in TOMBSTONE_MERGES.items():
        assert_tombstone_merge(merges[table], marker)
    creates = [
        w for s in run.statements for w in writes(s.sql) if w.kind == "create table" and w.relation
    ]
    rebuilt = {w.relation[2] for w in creates}
    assert not rebuilt & (INCREMENTAL_MODELS | set(WHOLE_TABLE_KEYS)), rebuilt


def assert_tombstone_merge(merge: exp.Merge, marker: str) -> None:
    """The statement tombstone_merge_sql writes: a matched source row whose marker is null
    deletes its target row; any other matched row updates it; an unmatched one is inserted
    unless it is a tombstone."""

    def is_tombstone(condition) -> bool:
        return (
            isinstance(condition, exp.Is)
            and isinstance(condition.this, exp.Column)
            and condition.this.name == marker
            and condition.this.table.upper() == "DBT_INTERNAL_SOURCE"
            and isinstance(condition.expression, exp.Null)
        )

    delete, update, insert = (
        (w.args.get("matched"), w.args.get("condition"), w.args["then"])
        for w in merge.args["whens"]
    )
    assert delete[0] and is_tombstone(delete[1]), merge.sql()
    assert delete[2].sql().upper() == "DELETE", merge.sql()
    assert update[0] and update[1] is None and isinstance(update[2], exp.Update), merge.sql()
    assert not insert[0] and isinstance(insert[2], exp.Insert), merge.sql()
    assert isinstance(insert[1], exp.Not) and is_tombstone(insert[1].this), merge.sql()


def _null_safe_pair(node: exp.Expression) -> tuple[str, str] | None:
    """(column, column) of ``DBT_INTERNAL_DEST.c <=> DBT_INTERNAL_SOURCE.c``, else None."""
    if not isinstance(node, exp.NullSafeEQ):
        return None
    if not all(isinstance(c, exp.Column) for c in (node.this, node.expression)):
        return None
    sides = {c.table.upper(): c.name for c in (node.this, node.expression)}
    return sides.get("DBT_INTERNAL_DEST"), sides.get("DBT_INTERNAL_SOURCE")


def _conjuncts(node: exp.Expression, kind: type) -> list[exp.Expression]:
    node = node.unnest()
    if isinstance(node, kind):
        return _conjuncts(node.this, kind) + _conjuncts(node.expression, kind)
    return [node]


def assert_whole_table_merge(
    merge: exp.Merge, keys: tuple[str, ...], columns: list[str], window: str | None = None
) -> None:
    """The statement whole_table_merge_sql writes: matched on the key (null-safe); updated when
    any other column differs (null-safe), those columns set; inserted whole; the target's rows
    the model no longer has deleted (with a window: only those from its start on)."""
    values = [c for c in columns if c not in keys]
    on = [_null_safe_pair(n) for n in _conjuncts(merge.args["on"], exp.And)]
    assert sorted(on) == sorted((k, k) for k in keys), merge.args["on"].sql()
    whens = {(w.args.get("matched"), bool(w.args.get("source"))): w for w in merge.args["whens"]}
    assert set(whens) == {(True, False), (False, False), (False, True)}, merge.sql()
    matched = whens[(True, False)]
    differs = _conjuncts(matched.args["condition"], exp.Or)
    assert all(isinstance(d, exp.Not) for d in differs), matched.sql()
    assert sorted(_null_safe_pair(d.this.unnest()) for d in differs) == [
        (c, c) for c in sorted(values)
    ]
    update = matched.args["then"]
    assert isinstance(update, exp.Update)
    assigned = {e.this.name: e.expression for e in update.expressions}
    assert sorted(assigned) == sorted(values), update.sql()
    assert all(v.table.upper() == "DBT_INTERNAL_SOURCE" for v in assigned.values())
    insert = whens[(False, False)].args["then"]
    assert isinstance(insert, exp.Insert)
    assert [c.name for c in insert.this.expressions] == columns, insert.sql()
    by_source = whens[(False, True)]
    condition = by_source.args.get("condition")
    if window is None:
        assert condition is None, by_source.sql()
    else:
        assert isinstance(condition, exp.GTE), by_source.sql()
        assert condition.this.name == window, by_source.sql()
        assert condition.this.table.upper() == "DBT_INTERNAL_DEST", by_source.sql()
    assert by_source.args["then"].sql().upper() == "DELETE", by_source.sql()


def test_the_small_marts_are_merged_whole_or_not_written(harness: Harness) -> None:
    """Each whole-table mart of the incremental build is either merged into its table (the
    statement's clauses checked) or, when the read-only precheck finds it equal to the model, not
    written at all. The quarantine is empty in both batches, so fct_quarantine_reasons is the one
    left as it was; the second batch changes the others (its resent MTR-B reading with new values
    is a conflict, so fct_reading_conflicts too)."""
    run = harness.runs["incremental build"]
    schema = harness.values["schema"]
    spark = harness.warehouse.spark
    merged, written, prechecked = {}, set(), set()
    for statement in run.statements:
        tree = parse(statement.sql)
        for write in writes(statement.sql):
            if write.relation and write.relation[2] in WHOLE_TABLE_KEYS and not write.temporary:
                written.add(write.relation[2])
        if isinstance(tree, exp.Merge) and tree.this.name in WHOLE_TABLE_KEYS:
            merged[tree.this.name] = tree
        if isinstance(tree, exp.Select) and tree.args.get("having") is not None:
            prechecked |= {t.name for t in tree.find_all(exp.Table)} & set(WHOLE_TABLE_KEYS)
    assert prechecked == set(WHOLE_TABLE_KEYS)  # every mart compared before any write
    assert written == set(merged)  # a mart is written by its merge only
    assert set(merged) == set(WHOLE_TABLE_KEYS) - {"fct_quarantine_reasons"}
    for table, tree in merged.items():
        columns = spark.table(f"spark_catalog.{schema}.{table}").columns
        assert_whole_table_merge(
            tree, WHOLE_TABLE_KEYS[table], columns, WHOLE_TABLE_WINDOWS.get(table)
        )


def test_export_stages_one_csv_that_the_publish_task_publishes(harness: Harness) -> None:
    from deploy.tasks import main

    run = harness.runs["export"]
    staged = [w for s in run.statements for w in writes(s.sql) if w.path]
    curated = f"{harness.lake_root}/curated"
    assert [w.path for w in staged] == [f"{curated}/.smart_grid_curated.csv.staging"]
    assert main(["publish-export", "--lake", harness.lake_root]) == 0
    lines = Path(curated, "smart_grid_curated.csv").read_text(encoding="utf-8").splitlines()
    rows = harness.warehouse.spark.sql(
        f"select count(*) from spark_catalog.{harness.values['schema']}.fct_meter_readings"
    ).first()[0]
    assert lines[0].startswith("timestamp,meter_id,") and len(lines) == rows + 1


def test_a_moved_lake_is_rebuilt_where_it_now_is(harness: Harness) -> None:
    """Relocation on Databricks (macros/relocate_lake_tables.sql): a table registered at the old
    lake's location is unregistered and rebuilt at the new one, as on Spark. The run also names
    a separate ingest principal (var lake_writer), which is granted MODIFY on the lake tables."""
    moved = f"{harness.lake_root}-moved"
    spark = harness.warehouse.spark
    write_validated(spark, moved, first_batch())
    run_args = ["dbt", "run", *harness.build[2:], "--select", "int_meter_readings__clean"]
    run_args = with_vars(run_args, lake_root=moved, lake_writer="smartgrid-ingest")
    run = run_dbt(harness, "moved lake", run_args, moved)
    assert run.result.success, run.result.exception
    schema = harness.values["schema"]
    drops = {w.relation[2] for s in run.statements for w in writes(s.sql) if w.kind == "drop"}
    assert {"validated", "int_meter_readings__clean"} <= drops
    # With an ingest principal of its own (var lake_writer), it gets MODIFY on what it writes.
    grants = {
        (w.relation, parse(s.sql).sql(dialect="databricks"))
        for s in run.statements
        for w in writes(s.sql)
        if w.kind == "grant"
    }
    assert {relation[2] for relation, _ in grants} == {"raw", "validated", "quarantine"}
    assert all("SELECT, MODIFY" in sql and "`smartgrid-ingest`" in sql for _, sql in grants)
    location = spark.sql(
        f"describe detail spark_catalog.{schema}.int_meter_readings__clean"
    ).first()["location"]
    assert location.endswith(f"{moved}/clean/int_meter_readings__clean")
    for statement in run.statements:  # the old lake is left alone
        for write in writes(statement.sql):
            assert not (write.path or "").startswith(harness.lake_root + "/"), statement.sql


def test_a_volume_as_lake_root_is_refused_before_anything_is_written(harness) -> None:
    build, _ = dbt_commands({"lake_location": "/Volumes/main/smartgrid/lake"})
    run = run_dbt(harness, "volume", build, "/Volumes/main/smartgrid/lake")
    assert not run.result.success
    messages = " ".join(str(r.message) for r in run.node_results.values()) + str(
        run.result.exception
    )
    assert "is a Unity Catalog volume" in messages and "external location" in messages
    assert not [w for s in run.statements for w in writes(s.sql)]


def test_sqlglot_reads_databricks_sql_and_refuses_nonsense() -> None:
    """Control: the parse check bites (a statement outside the allow-list is refused)."""
    assert isinstance(
        parse("merge into a.b.c as t using d on t.k = d.k when matched then delete"), exp.Merge
    )
    with pytest.raises(AssertionError):
        parse("describe detailed nonsense here")
    with pytest.raises(AssertionError):
        parse("select 1; select 2")
    assert sqlglot.__version__
