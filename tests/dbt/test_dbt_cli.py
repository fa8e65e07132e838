"""`smartgrid build` refuses what it cannot do in one clear line, before starting anything;
a dbt failure is one line carrying dbt's own message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smartgrid.lake import Lake

ROOT = Path(__file__).resolve().parents[2]


def test_locked_metastore_is_one_clear_line(spark, session_lake: Lake) -> None:
    """This test session's JVM holds the session lake's Derby metastore: a second process
    asking for it gets one line and a non-zero exit, before any Spark starts."""
    spark.sql("show databases").collect()  # Derby boots lazily; make sure it is held
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "build",
            "--lake",
            session_lake.root,
            "--allow-empty",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: the Derby metastore at {session_lake.metastore} is in use by another process "
        "(Derby admits one at a time: another `smartgrid build`, `dbt` or a notebook on this "
        "lake); stop it and retry, or use another --lake"
    ]


def test_build_refuses_bad_vars_before_starting_anything(capsys, tmp_path) -> None:
    from pipeline.cli import main

    assert main(["build", "--lake", str(tmp_path), "--allow-empty", "--vars", "{not json"]) == 2
    assert capsys.readouterr().err.startswith("error: --vars must be a JSON object")


def test_a_dbt_error_is_one_line_that_names_its_cause(spark, session_lake: Lake) -> None:
    """dbt's first lines say only what and where ("Runtime Error", "Compilation Error in ...
    inline_query"); the one line carries the next one too, which says what is wrong."""
    from transform import runner

    result = runner.run_dbt(
        ["compile", "--inline", "select {{ var('no_such_var_xyz') }} as x"],
        session_lake,
        spark=spark,
    )
    assert not result.success
    reason = runner.failure(result)
    assert "\n" not in reason
    assert "Compilation Error in " in reason, reason
    assert "no_such_var_xyz" in reason, reason
