"""The Databricks Asset Bundle (databricks.yml, resources/*.yml), checked without a workspace.

No workspace is reachable here, so ``databricks bundle validate`` cannot run. Instead:

- every job is loaded into the ``Job`` model of the ``databricks-bundles`` package (PyPI), which
  is generated from the bundle's JSON schema and refuses unknown keys and wrong types at any
  depth (a test below proves it bites);
- the top level (bundle, include, variables, targets) is checked structurally;
- every ``${var.x}`` is declared, every task's file, entry command, dbt project and profile
  exists in this repository, and the task parameters are accepted by the entry point.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shlex

import pytest
import yaml
from bundle_config import ANY_REFERENCE, ROOT, VAR_REFERENCE, load_bundle, strings
from databricks.bundles.jobs import Job

BUNDLE = load_bundle()
ALLOWED_SUBSTITUTIONS = ("var.", "bundle.", "workspace.", "resources.")


def _scan_secrets_module():
    spec = importlib.util.spec_from_file_location("scan_secrets", ROOT / "scripts/scan_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _RecordingScope:
    """``dbutils.secrets`` stand-in (no workspace here): records what the entry point reads."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []

    def get(self, scope: str, key: str) -> str:
        self.reads.append((scope, key))
        return (
            "Endpoint=sb://smartgrid-ns.servicebus.windows.net/;"
            "SharedAccessKeyName=listen;SharedAccessKey=<not-a-real-key>"
        )


def test_top_level_layout() -> None:
    root = BUNDLE.root
    assert set(root) <= {"bundle", "include", "variables", "targets", "sync", "workspace"}
    assert root["bundle"]["name"] == "smartgrid"
    assert root["include"] == ["resources/*.yml"]
    targets = root["targets"]
    assert set(targets) == {"dev", "prod"}
    assert targets["dev"]["mode"] == "development" and targets["dev"]["default"] is True
    assert targets["prod"]["mode"] == "production"
    for name, spec in BUNDLE.variables.items():
        assert spec.get("description"), f"variable {name} needs a description"
    target_keys = {"mode", "default", "workspace", "variables", "permissions", "run_as", "presets"}
    for target in targets.values():
        assert set(target) <= target_keys, set(target) - target_keys
        assert set(target.get("variables") or {}) <= set(BUNDLE.variables)


def test_one_job_per_resource_file() -> None:
    assert {p.name for p in BUNDLE.resource_files} == {"ingest_job.yml", "dbt_job.yml"}
    for path, content in BUNDLE.resource_files.items():
        assert set(content) == {"resources"}, path
        assert set(content["resources"]) == {"jobs"}, path
        assert len(content["resources"]["jobs"]) == 1, f"{path.name}: one job per file"


@pytest.mark.parametrize("job_name", sorted(BUNDLE.jobs))
def test_job_matches_the_bundle_schema(job_name: str) -> None:
    _, job = BUNDLE.jobs[job_name]
    model = Job.from_dict(copy.deepcopy(job))
    assert model.name and model.tasks
    assert {t.task_key for t in model.tasks} == {t["task_key"] for t in job["tasks"]}


def test_schema_check_refuses_unknown_keys() -> None:
    """Negative control: the model validation is not a no-op."""
    _, job = BUNDLE.jobs["smartgrid_ingest"]
    broken = copy.deepcopy(job)
    broken["tasks"][0]["spark_python_task"]["python_files"] = "typo.py"
    with pytest.raises(ValueError, match="python_files"):
        Job.from_dict(broken)
    broken = copy.deepcopy(job)
    broken["job_clusters"][0]["new_cluster"]["data_security_mode"] = "SINGLE_USR"
    with pytest.raises(ValueError):
        Job.from_dict(broken)


def test_every_variable_is_declared_and_used() -> None:
    texts = strings(BUNDLE.root) + [s for c in BUNDLE.resource_files.values() for s in strings(c)]
    referenced = {m for text in texts for m in VAR_REFERENCE.findall(text)}
    assert referenced <= set(BUNDLE.variables), referenced - set(BUNDLE.variables)
    assert set(BUNDLE.variables) <= referenced, set(BUNDLE.variables) - referenced
    for text in texts:
        for reference in ANY_REFERENCE.findall(text):
            assert reference.startswith(ALLOWED_SUBSTITUTIONS), reference
    for target in BUNDLE.root["targets"]:
        resolved = json.dumps(BUNDLE.resolve(list(BUNDLE.resource_files.values()), target))
        assert "${var." not in resolved


def test_ingest_job_reads_event_hubs_and_writes_the_lake() -> None:
    path, job = BUNDLE.jobs["smartgrid_ingest"]
    assert "continuous" in job and job["max_concurrent_runs"] == 1
    (task,) = job["tasks"]
    script = (path.parent / task["spark_python_task"]["python_file"]).resolve()
    assert script == ROOT / "deploy" / "databricks_task.py"
    argv = BUNDLE.resolve(task["spark_python_task"]["parameters"])
    assert argv[0] == "ingest"
    assert argv[argv.index("--source") + 1] == "kafka"
    assert argv[argv.index("--lake") + 1].startswith("abfss://")
    # The secret is fetched at run time from the scope; never an env var value in the bundle.
    cluster = job["job_clusters"][0]["new_cluster"]
    assert "EVENTHUB_CONNECTION_STR" not in (cluster.get("spark_env_vars") or {})
    assert task["job_cluster_key"] == job["job_clusters"][0]["job_cluster_key"]


def test_ingest_task_parameters_build_the_azure_configuration() -> None:
    """What the task would run, parsed by the real entry point (no Spark, fake secret scope)."""
    from ingest.databricks_entry import ingest_configuration

    _, job = BUNDLE.jobs["smartgrid_ingest"]
    for target in ("dev", "prod"):
        argv = BUNDLE.resolve(job["tasks"][0]["spark_python_task"]["parameters"], target)
        scope = _RecordingScope()
        config, _ = ingest_configuration(argv, env={}, secrets=scope)
        values = BUNDLE.values(target)
        assert scope.reads == [(values["secret_scope"], values["eventhub_secret_key"])]
        assert config.source == "kafka"
        assert config.trigger == values["ingest_trigger"]
        assert config.topic == values["eventhub_name"]
        assert config.raw == f"{values['lake_root']}/raw"
        assert config.checkpoint == f"{values['lake_root']}/checkpoints/ingest/kafka"
        assert config.kafka_bootstrap == "smartgrid-ns.servicebus.windows.net:9093"
        assert config.max_offsets_per_trigger == int(values["max_offsets_per_trigger"])


def test_dbt_job_runs_deps_build_and_export_with_the_deployed_profile() -> None:
    path, job = BUNDLE.jobs["smartgrid_dbt"]
    dbt_task = next(t for t in job["tasks"] if "dbt_task" in t)
    spec = dbt_task["dbt_task"]
    project = (path.parent / spec["project_directory"]).resolve()
    assert project == ROOT and (project / "dbt_project.yml").is_file()
    profiles = yaml.safe_load((project / spec["profiles_directory"] / "profiles.yml").read_text())
    profile_name = yaml.safe_load((project / "dbt_project.yml").read_text())["profile"]
    output = profiles[profile_name]["outputs"]["databricks"]
    assert output["type"] == "databricks"
    # Host and token come from what Databricks injects into a dbt task, never from the file.
    assert "env_var('DBT_HOST')" in output["host"]
    assert "env_var('DBT_ACCESS_TOKEN')" in output["token"]

    commands = [shlex.split(c) for c in BUNDLE.resolve(spec["commands"])]
    assert [c[:2] for c in commands] == [
        ["dbt", "deps"],
        ["dbt", "build"],
        ["dbt", "run-operation"],
    ]
    assert commands[2][2] == "export_csv"
    values = BUNDLE.values("dev")
    for command in commands:
        assert command[command.index("--target") + 1] == "databricks"
    for command in commands[1:]:
        cli_vars = json.loads(command[command.index("--vars") + 1])
        assert cli_vars["lake_root"] == values["lake_root"]
        assert cli_vars["databricks_warehouse_id"] == values["warehouse_id"]
    # The profile needs every var it names from the command line.
    needed = set(re.findall(r"\bvar\('(\w+)'", json.dumps(output)))
    assert needed <= set(cli_vars)

    publish = next(t for t in job["tasks"] if "spark_python_task" in t)
    assert publish["depends_on"] == [{"task_key": dbt_task["task_key"]}]
    assert (path.parent / publish["spark_python_task"]["python_file"]).resolve().is_file()
    assert BUNDLE.resolve(publish["spark_python_task"]["parameters"])[0] == "publish-export"


def test_dbt_task_pins_the_locked_versions() -> None:
    _, job = BUNDLE.jobs["smartgrid_dbt"]
    locked = dict(
        line.strip().split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    environments = {e["environment_key"]: e for e in job["environments"]}
    for task in job["tasks"]:
        assert task["environment_key"] in environments
    pins = environments["dbt"]["spec"]["dependencies"]
    assert {p.split("==")[0] for p in pins} == {"dbt-core", "dbt-databricks"}
    for pin in pins:
        name, version = pin.split("==")
        assert locked[name] == version, pin


def test_no_secret_and_no_local_path_in_the_bundle() -> None:
    scanner = _scan_secrets_module()
    files = [ROOT / "databricks.yml", *BUNDLE.resource_files, ROOT / "deploy/dbt/profiles.yml"]
    assert scanner.scan(ROOT, files) == []
    for path in files:
        text = path.read_text()
        assert "SharedAccessKey" not in text and "AccountKey" not in text, path
        assert str(ROOT) not in text, path
        assert not re.search(r"(?m)^\s*token:\s*(?![\"']?\{\{)\S", text), path
