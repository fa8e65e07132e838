"""The Databricks dbt profiles: what dbt-databricks makes of them, and what runs offline.

Both profiles are rendered by dbt's own profile renderer into dbt-databricks' credentials, and
the connector's arguments are prepared by the adapter's own code (``SqlUtils.
prepare_connection_arguments``), exactly as a run does just before ``databricks.sql.connect``;
no connection is opened. The profiles:

- dbt_profiles/profiles.yml, of the deployed dbt task (outputs dev and prod; DBT_HOST and
  DBT_ACCESS_TOKEN injected by Databricks, the rest from the bundle's dbt_vars);
- profiles.example.yml's ``databricks`` output, for a workstation (DATABRICKS_HOST, ...).

The offline commands the guide gives (``dbt parse``, ``dbt ls``) are run against a warehouse
that is a tripwire: ``databricks.sql.connect``, the edge of the unreachable cloud service, is
replaced by a fake (fake_warehouse.py) that records every connection; none may be opened.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
import yaml
from bundle_config import ALICE, ROOT, load_bundle
from fake_warehouse import FakeWarehouse

from smartgrid.lake import Lake
from smartgrid.spark import spark_conf

BUNDLE = load_bundle()
HOST = "adb-1234567890123456.7.azuredatabricks.net"
HOST_FORMS = [HOST, f"https://{HOST}", f"https://{HOST}/", f"{HOST}/"]
DEPLOYED = ROOT / "dbt_profiles" / "profiles.yml"
EXAMPLE = ROOT / "profiles.example.yml"


def _dbt_vars() -> dict:
    return json.loads(BUNDLE.values("dev", ALICE)["dbt_vars"])


def _credentials(path: Path, target: str, env: dict[str, str], cli_vars: dict):
    """The credentials dbt-databricks builds from ``path``'s ``target`` output."""
    from dbt.config.profile import Profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_from_args(argparse.Namespace(), None)
    set_invocation_context({**os.environ, **env})
    raw = yaml.safe_load(path.read_text())["smartgrid"]
    profile = Profile.from_raw_profile_info(
        raw, "smartgrid", ProfileRenderer(cli_vars), target_override=target
    )
    return profile.credentials


def _connection_arguments(credentials) -> dict:
    from dbt.adapters.databricks.handle import SqlUtils

    return SqlUtils.prepare_connection_arguments(
        credentials, credentials.authenticate(), credentials.http_path, {}
    )


def _workstation_env(host: str) -> dict[str, str]:
    return {
        "DATABRICKS_HOST": host,
        "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/0123456789abcdef",
        "DATABRICKS_TOKEN": "dapi-" + "0" * 12,  # not a token
        "SMARTGRID_SCHEMA": "smartgrid_alice",
    }


def _deployed_env(host: str) -> dict[str, str]:
    return {"DBT_HOST": host, "DBT_ACCESS_TOKEN": "dapi-" + "0" * 12}


@pytest.mark.parametrize("host", HOST_FORMS)
@pytest.mark.parametrize("target", ["dev", "prod", "databricks"])
def test_the_host_is_accepted_with_or_without_https(target: str, host: str) -> None:
    """dbt-databricks hands the host to the connector as a bare name (https://https://...
    otherwise); the profiles strip a scheme and a trailing slash."""
    if target == "databricks":
        credentials = _credentials(EXAMPLE, target, _workstation_env(host), {})
    else:
        credentials = _credentials(DEPLOYED, target, _deployed_env(host), _dbt_vars())
    assert credentials.host == HOST
    assert _connection_arguments(credentials)["server_hostname"] == HOST


def test_the_deployed_profile_connects_where_the_bundle_says() -> None:
    dbt_vars = _dbt_vars()
    for target in ("dev", "prod"):
        credentials = _credentials(DEPLOYED, target, _deployed_env(HOST), dbt_vars)
        arguments = _connection_arguments(credentials)
        assert arguments["http_path"] == f"/sql/1.0/warehouses/{dbt_vars['warehouse_id']}"
        assert arguments["catalog"] == dbt_vars["catalog"]
        assert arguments["schema"] == dbt_vars["schema"]


def _local_time_zone() -> str:
    """The local target's session time zone, as profiles.example.yml sets it (a foundation
    test keeps that profile equal to smartgrid/spark.py)."""
    local = yaml.safe_load(EXAMPLE.read_text())["smartgrid"]["outputs"]["local"]
    zone = local["server_side_parameters"]["spark.sql.session.timeZone"]
    assert zone == spark_conf(Lake("/lake"))["spark.sql.session.timeZone"]
    return zone


@pytest.mark.parametrize(
    ("path", "target"),
    [(DEPLOYED, "dev"), (DEPLOYED, "prod"), (EXAMPLE, "databricks")],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_every_databricks_output_pins_the_local_time_zone(path: Path, target: str) -> None:
    """to_date, hour and the watermarks follow the session time zone: each Databricks output
    sends the local target's zone as the warehouse's TIMEZONE parameter (the key a SQL warehouse
    accepts; fake_warehouse.py refuses Spark keys as a warehouse does)."""
    env = _deployed_env(HOST) if path == DEPLOYED else _workstation_env(HOST)
    credentials = _credentials(path, target, env, _dbt_vars() if path == DEPLOYED else {})
    configuration = _connection_arguments(credentials)["session_configuration"]
    assert configuration == {"TIMEZONE": _local_time_zone()}


def test_every_output_of_the_example_is_checked() -> None:
    outputs = yaml.safe_load(EXAMPLE.read_text())["smartgrid"]["outputs"]
    assert {name for name, o in outputs.items() if o["type"] == "databricks"} == {"databricks"}


# --------------------------------------------------------------------------------------------
# The offline commands of docs/deploy-azure.md
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "target", "command"),
    [("dbt_profiles", "dev", "parse"), ("example", "databricks", "ls")],
)
def test_offline_commands_open_no_connection(
    tmp_path: Path, monkeypatch, profile: str, target: str, command: str
) -> None:
    """`dbt parse` and `dbt ls` with a Databricks target finish without the warehouse: the
    recording fake stands where the connector would connect, and records no connection."""
    from dbt.cli.main import dbtRunner

    if profile == "example":
        env = _workstation_env(f"https://{HOST}")
        (tmp_path / "profiles").mkdir()
        (tmp_path / "profiles" / "profiles.yml").write_text(EXAMPLE.read_text())
        profiles_dir, cli_vars = tmp_path / "profiles", {}
    else:
        env = _deployed_env(f"https://{HOST}")
        profiles_dir, cli_vars = ROOT / profile, _dbt_vars()
    for name, value in {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    warehouse = FakeWarehouse(spark=None)  # a tripwire: a connection would be recorded, then fail
    args = [command, "--target", target, "--profiles-dir", str(profiles_dir)]
    args += ["--project-dir", str(ROOT), "--target-path", str(tmp_path / "target")]
    args += ["--log-path", str(tmp_path / "logs"), "--no-partial-parse"]
    if cli_vars:
        args += ["--vars", json.dumps(cli_vars)]
    with warehouse.serving():
        result = dbtRunner().invoke(args)
    assert result.success, result.exception
    assert warehouse.connections == [] and warehouse.statements == []
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "databricks"
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    expected_schema = cli_vars.get("schema", env.get("SMARTGRID_SCHEMA"))
    assert models and {m["schema"] for m in models} == {expected_schema}
    sources = {s["schema"] for s in manifest["sources"].values()}
    assert sources == {f"{expected_schema}_lake"}  # each target's own lake schema
