"""The Databricks Asset Bundle (databricks.yml, resources/*.yml): the rules no schema expresses.

No workspace is reachable, so ``databricks bundle validate`` cannot run. test_bundle_schema.py
validates the files against the CLI's JSON Schema; this file checks, for each target as the CLI
would deploy it (bundle_config.py resolves every reference for sample users):

- the jobs load into the ``Job`` model of the ``databricks-bundles`` package (generated from
  the same schema; a second opinion on the job files, with a negative control);
- the Jobs API's cross-field rules: a dbt task has profiles_directory or warehouse_id, never
  both; its commands name the bundle target and one shared --vars; no `dbt deps` without a
  packages.yml; the profile has an output per target; wheel tasks name a package and an entry
  point the wheel really has, and get the wheel as a library;
- isolation: each developer's dev and prod have their own schemas, lake prefix and checkpoint,
  none inside another's, and every job of a target writes under that target's lake;
- the CLI's own checks: production mode needs a root_path and CAN_MANAGE for the deployer (else
  a permission warning); development paths contain the user; both jobs run as one identity,
  which owns the lake tables dbt registers (docs/deploy-azure.md, "Who owns what");
- what the bundle uploads keeps every dbt test (sync.exclude), and holds no secret.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pathspec
import pytest
import yaml
from bundle_config import ALICE, ANY_REFERENCE, BOB, DEPLOYER, ROOT, VAR_REFERENCE, load_bundle
from bundle_config import strings as all_strings
from databricks.bundles.jobs import Job

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

BUNDLE = load_bundle()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ALLOWED_SUBSTITUTIONS = ("var.", "bundle.", "workspace.", "resources.")
DEPLOYMENTS = [("dev", ALICE), ("dev", BOB), ("prod", DEPLOYER)]


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


def _tasks(deployed: dict, job: str) -> dict[str, dict]:
    return {t["task_key"]: t for t in deployed["resources"]["jobs"][job]["tasks"]}


def _dbt_task(deployed: dict) -> dict:
    return _tasks(deployed, "smartgrid_dbt")["dbt"]["dbt_task"]


# --------------------------------------------------------------------------------------------
# Shape
# --------------------------------------------------------------------------------------------


def test_top_level_layout() -> None:
    root = BUNDLE.root
    known = {"bundle", "include", "artifacts", "variables", "targets", "sync", "workspace"}
    assert set(root) <= known, set(root) - known  # the schema's root admits any key
    assert root["bundle"]["name"] == "smartgrid"
    assert root["include"] == ["resources/*.yml"]
    targets = root["targets"]
    assert set(targets) == {"dev", "prod"}
    assert targets["dev"]["mode"] == "development" and targets["dev"]["default"] is True
    assert targets["prod"]["mode"] == "production"
    for name, spec in BUNDLE.variables.items():
        assert spec.get("description"), f"variable {name} needs a description"
    for target in targets.values():
        assert set(target.get("variables") or {}) <= set(BUNDLE.variables)


def test_one_job_per_resource_file() -> None:
    assert {p.name for p in BUNDLE.resource_files} == {"ingest_job.yml", "dbt_job.yml"}
    for path, content in BUNDLE.resource_files.items():
        assert set(content) == {"resources"}, path
        assert set(content["resources"]) == {"jobs"}, path
        assert len(content["resources"]["jobs"]) == 1, f"{path.name}: one job per file"


@pytest.mark.parametrize("job_name", sorted(BUNDLE.jobs))
def test_job_loads_into_the_generated_job_model(job_name: str) -> None:
    _, job = BUNDLE.jobs[job_name]
    model = Job.from_dict(copy.deepcopy(job))
    assert model.name and model.tasks
    assert {t.task_key for t in model.tasks} == {t["task_key"] for t in job["tasks"]}


def test_the_job_model_refuses_unknown_keys_and_values() -> None:
    """Negative control: the model validation is not a no-op."""
    _, job = BUNDLE.jobs["smartgrid_ingest"]
    broken = copy.deepcopy(job)
    broken["tasks"][0]["python_wheel_task"]["entrypoint"] = "typo"
    with pytest.raises(ValueError, match="entrypoint"):
        Job.from_dict(broken)
    broken = copy.deepcopy(job)
    broken["job_clusters"][0]["new_cluster"]["data_security_mode"] = "SINGLE_USR"
    with pytest.raises(ValueError):
        Job.from_dict(broken)


def test_every_reference_resolves_and_every_variable_is_used() -> None:
    texts = all_strings(BUNDLE.root) + [
        s for c in BUNDLE.resource_files.values() for s in all_strings(c)
    ]
    referenced = {m for text in texts for m in VAR_REFERENCE.findall(text)}
    assert referenced <= set(BUNDLE.variables), referenced - set(BUNDLE.variables)
    assert set(BUNDLE.variables) <= referenced, set(BUNDLE.variables) - referenced
    for text in texts:
        for reference in ANY_REFERENCE.findall(text):
            assert reference.startswith(ALLOWED_SUBSTITUTIONS), reference
    for target, user in DEPLOYMENTS:
        assert "${" not in json.dumps(BUNDLE.deployed(target, user))


# --------------------------------------------------------------------------------------------
# The dbt job: Jobs API rules, the profile, the commands
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "user"), DEPLOYMENTS, ids=str)
def test_dbt_task_follows_the_jobs_api_rules(target: str, user) -> None:
    """profiles_directory "can only be specified if no warehouse_id is specified"; catalog and
    schema only with a warehouse_id; commands start with dbt, at most 10 (Jobs API)."""
    spec = _dbt_task(BUNDLE.deployed(target, user))
    assert not ("profiles_directory" in spec and "warehouse_id" in spec)
    if "warehouse_id" not in spec:
        assert "catalog" not in spec and "schema" not in spec
    assert 1 <= len(spec["commands"]) <= 10
    assert all(c.startswith("dbt ") for c in spec["commands"])
    assert spec["project_directory"] == "../"
    assert (ROOT / "dbt_project.yml").is_file()


def test_dbt_commands_name_the_target_and_share_one_vars_definition() -> None:
    _, job = BUNDLE.jobs["smartgrid_dbt"]
    raw = next(t for t in job["tasks"] if "dbt_task" in t)["dbt_task"]["commands"]
    for command in raw:
        words = shlex.split(command)
        assert words[words.index("--target") + 1] == "${bundle.target}", command
        assert words[words.index("--vars") + 1] == "${var.dbt_vars}", command
    assert [shlex.split(c)[:2] for c in raw] == [["dbt", "build"], ["dbt", "run-operation"]]
    assert not (ROOT / "packages.yml").exists()  # so no `dbt deps`
    for target, user in DEPLOYMENTS:
        values = BUNDLE.values(target, user)
        for command in _dbt_task(BUNDLE.deployed(target, user))["commands"]:
            words = shlex.split(command)
            assert words[words.index("--target") + 1] == target
            assert json.loads(words[words.index("--vars") + 1]) == json.loads(values["dbt_vars"])


def test_the_profile_has_an_output_per_target_fed_by_the_shared_vars() -> None:
    spec = _dbt_task(BUNDLE.deployed("dev", ALICE))
    text = (ROOT / spec["profiles_directory"] / "profiles.yml").read_text()
    profile_name = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["profile"]
    outputs = yaml.safe_load(text)[profile_name]["outputs"]
    assert set(outputs) == set(BUNDLE.targets)
    needed = set(re.findall(r"\bvar\('(\w+)'", text))
    for target, user in DEPLOYMENTS:
        assert needed <= set(json.loads(BUNDLE.values(target, user)["dbt_vars"])), target
    for output in outputs.values():
        assert output["type"] == "databricks"
        # Host and token come from what Databricks injects into a dbt task, never the file.
        assert "env_var('DBT_HOST')" in output["host"]
        assert "env_var('DBT_ACCESS_TOKEN')" in output["token"]


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


# --------------------------------------------------------------------------------------------
# The wheel: artifacts, python_wheel_task, entry points
# --------------------------------------------------------------------------------------------


def _wheel_tasks() -> list[tuple[str, dict, dict]]:
    found = []
    for name, (_, job) in BUNDLE.jobs.items():
        for task in job["tasks"]:
            if "python_wheel_task" in task:
                found.append((name, job, task))
    return found


def test_python_code_runs_from_the_projects_wheel() -> None:
    """No sys.path launcher: every Python task is a python_wheel_task of this project's wheel,
    whose artifact the bundle builds, with the wheel attached as the task's library."""
    artifact = BUNDLE.root["artifacts"]["smartgrid_wheel"]
    assert artifact["type"] == "whl" and artifact["path"] == "."
    assert "--wheel-dir dist" in artifact["build"]
    distribution = re.sub(r"[-_.]+", "_", PYPROJECT["project"]["name"]).lower()
    scripts = PYPROJECT["project"]["scripts"]
    assert len(_wheel_tasks()) == 2
    for _, job in BUNDLE.jobs.values():
        for task in job["tasks"]:
            assert "spark_python_task" not in task and "notebook_task" not in task
    for name, job, task in _wheel_tasks():
        spec = task["python_wheel_task"]
        assert spec["package_name"] == distribution, name
        target = scripts[spec["entry_point"]]  # a console script of the wheel
        module, function = target.split(":")
        assert callable(getattr(__import__(module, fromlist=[function]), function))
        if "job_cluster_key" in task:  # classic compute: a task library
            assert {"whl": "../dist/*.whl"} in task["libraries"], name
        else:  # serverless: the environment's dependencies
            environment = next(
                e for e in job["environments"] if e["environment_key"] == task["environment_key"]
            )
            assert "../dist/*.whl" in environment["spec"]["dependencies"], name


def test_ingest_task_parameters_build_the_azure_configuration() -> None:
    """What the task would run, parsed by the real entry point (no Spark, fake secret scope)."""
    from deploy.tasks import ingest_configuration

    for target, user in DEPLOYMENTS:
        task = _tasks(BUNDLE.deployed(target, user), "smartgrid_ingest")["ingest"]
        argv = ["ingest", *task["python_wheel_task"]["parameters"]]
        scope = _RecordingScope()
        config, _ = ingest_configuration(argv, env={}, secrets=scope)
        values = BUNDLE.values(target, user)
        assert scope.reads == [(values["secret_scope"], values["eventhub_secret_key"])]
        assert config.source == "kafka"
        assert config.trigger == values["ingest_trigger"]
        assert config.topic == values["eventhub_name"]
        assert config.raw == f"{values['lake_root']}/raw"
        assert config.checkpoint == f"{values['lake_root']}/checkpoints/ingest/kafka"
        assert config.kafka_bootstrap == "smartgrid-ns.servicebus.windows.net:9093"
        assert config.max_offsets_per_trigger == int(values["max_offsets_per_trigger"])


def test_the_secret_never_comes_from_the_bundle() -> None:
    _, job = BUNDLE.jobs["smartgrid_ingest"]
    cluster = job["job_clusters"][0]["new_cluster"]
    assert "EVENTHUB_CONNECTION_STR" not in (cluster.get("spark_env_vars") or {})
    (task,) = job["tasks"]
    assert task["job_cluster_key"] == job["job_clusters"][0]["job_cluster_key"]
    assert "--secret-scope" in task["python_wheel_task"]["parameters"]


# --------------------------------------------------------------------------------------------
# Isolation between targets and developers
# --------------------------------------------------------------------------------------------


def _footprint(target: str, user) -> dict[str, object]:
    """Everything a deployment writes: schemas, lake, checkpoint, workspace folder."""
    from deploy.tasks import ingest_configuration

    deployed = BUNDLE.deployed(target, user)
    ingest = _tasks(deployed, "smartgrid_ingest")["ingest"]["python_wheel_task"]["parameters"]
    config, _ = ingest_configuration(["ingest", *ingest], env={}, secrets=_RecordingScope())
    build = shlex.split(_dbt_task(deployed)["commands"][0])
    dbt_vars = json.loads(build[build.index("--vars") + 1])
    publish = _tasks(deployed, "smartgrid_dbt")["publish_csv"]["python_wheel_task"]["parameters"]
    assert publish[publish.index("--lake") + 1] == dbt_vars["lake_root"] == config.lake.root
    return {
        "schemas": {
            (dbt_vars["catalog"], dbt_vars["schema"]),
            (dbt_vars["catalog"], dbt_vars["lake_schema"]),
        },
        "lake": config.lake.root,
        "checkpoint": config.checkpoint,
        "root_path": (deployed.get("workspace") or {}).get("root_path")
        or f"/Workspace/Users/{user.user_name}/.bundle/smartgrid/{target}",  # the CLI default
    }


def test_every_deployment_writes_only_its_own_schemas_lake_and_checkpoint() -> None:
    """Two developers' dev deployments and prod share nothing they write: schemas, lake prefix
    (so the tables dbt registers and the marts' locations), checkpoint, workspace folder. No
    lake lies inside another (Unity Catalog refuses overlapping table locations)."""
    footprints = {f"{t}/{u.short_name}": _footprint(t, u) for t, u in DEPLOYMENTS}
    names = list(footprints)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = footprints[first], footprints[second]
            assert not a["schemas"] & b["schemas"], (first, second)
            for key in ("lake", "checkpoint", "root_path"):
                assert a[key] != b[key], (first, second, key)
                assert not str(a[key]).startswith(f"{b[key]}/"), (first, second, key)
                assert not str(b[key]).startswith(f"{a[key]}/"), (first, second, key)
    for footprint in footprints.values():
        assert footprint["checkpoint"].startswith(footprint["lake"] + "/")
        assert footprint["lake"].startswith(BUNDLE.values("dev")["lake_location"] + "/")


def test_dev_is_named_after_the_developer() -> None:
    values = BUNDLE.values("dev", ALICE)
    assert ALICE.short_name in values["schema"] and ALICE.short_name in values["lake_root"]
    assert BUNDLE.values("prod", DEPLOYER)["schema"] == BUNDLE.variables["schema"]["default"]


# --------------------------------------------------------------------------------------------
# The CLI's deployment-mode and permission checks, and who runs the jobs
# --------------------------------------------------------------------------------------------


def _can_manage(permissions: list[dict], user) -> bool:
    """bundle/permissions/permission_diagnostics.go: the deploying identity is named."""
    return any(
        p["level"] == "CAN_MANAGE"
        and user.user_name in (p.get("user_name"), p.get("service_principal_name"))
        for p in permissions
    )


def test_production_deploys_one_copy_under_the_deployer_who_can_manage_it() -> None:
    """Production mode must set workspace.root_path (process_target_mode.go); the permissions
    name the deployer with CAN_MANAGE, else the CLI warns that they are not included."""
    deployed = BUNDLE.deployed("prod", DEPLOYER)
    root_path = deployed["workspace"]["root_path"]
    assert root_path == f"/Workspace/Users/{DEPLOYER.user_name}/.bundle/smartgrid/prod"
    assert _can_manage(deployed["permissions"], DEPLOYER)
    assert not _can_manage(deployed["permissions"], ALICE)  # control: another user is not


def test_development_paths_belong_to_the_developer() -> None:
    """Development mode refuses a root, state, file or artifact path without the user name."""
    for user in (ALICE, BOB):
        workspace = BUNDLE.deployed("dev", user).get("workspace") or {}
        for key in ("root_path", "state_path", "file_path", "artifact_path"):
            if key in workspace:
                assert user.user_name in workspace[key], key
        assert "permissions" not in BUNDLE.targets["dev"]  # no permission warning in dev


def test_both_jobs_run_as_one_identity() -> None:
    """The dbt job registers the ingest's Delta folders as tables, so owns them; the ingest
    then writes those paths and needs MODIFY on the tables. No job sets its own run_as: both
    run as the bundle's identity (dev: the developer; prod: the deployer, or a target-level
    run_as), the owner."""
    for _, job in BUNDLE.jobs.values():
        assert "run_as" not in job
    for target in BUNDLE.targets.values():
        run_as = target.get("run_as")
        assert run_as is None or set(run_as) <= {"service_principal_name", "user_name"}


# --------------------------------------------------------------------------------------------
# What the bundle uploads
# --------------------------------------------------------------------------------------------


def _dbt_project_files() -> list[str]:
    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text())
    folders = [
        *project["model-paths"],
        *project["macro-paths"],
        *project["seed-paths"],
        *project["test-paths"],
        # the project has no analyses (the one it had became a mart); dbt defaults the key
        *project.get("analysis-paths", []),
        "dbt_profiles",
    ]
    files = ["dbt_project.yml"]
    for folder in folders:
        files += [str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*") if p.is_file()]
    return files


def test_sync_keeps_every_file_of_the_dbt_project() -> None:
    """sync.exclude (gitignore lines, as the CLI matches them) drops no model, macro, seed,
    analysis, profile or test of the dbt project: every dbt test runs on Databricks too."""
    exclude = pathspec.PathSpec.from_lines("gitwildmatch", BUNDLE.root["sync"]["exclude"])
    files = _dbt_project_files()
    assert any(f.startswith("tests/dbt/singular/") for f in files)
    assert [f for f in files if exclude.match_file(f)] == []
    assert exclude.match_file("tests/deploy/test_deploy_bundle.py")  # the Python tests stay home
    # Control: the pattern this replaced dropped the singular test.
    old = pathspec.PathSpec.from_lines("gitwildmatch", ["tests/**"])
    assert [f for f in files if old.match_file(f)]


def test_no_secret_and_no_local_path_in_the_bundle() -> None:
    files = [ROOT / "databricks.yml", *BUNDLE.resource_files, ROOT / "dbt_profiles/profiles.yml"]
    # The detect-secrets hook that `make secret-scan` runs, on the bundle's files only.
    scan = subprocess.run(
        [
            str(Path(sys.executable).parent / "detect-secrets-hook"),
            "--baseline",
            ".secrets.baseline",
            *(str(path.relative_to(ROOT)) for path in files),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert scan.returncode == 0, scan.stdout
    for path in files:
        text = path.read_text()
        assert "SharedAccessKey" not in text and "AccountKey" not in text, path
        assert str(ROOT) not in text, path
        assert not re.search(r"(?m)^\s*token:\s*(?![\"']?\{\{)\S", text), path


def test_the_lake_location_is_an_external_location_not_a_volume() -> None:
    from deploy.tasks import ingest_configuration
    from smartgrid.errors import SmartgridError

    assert BUNDLE.values("dev")["lake_root"].startswith("abfss://")
    volume = {"lake_location": "/Volumes/main/smartgrid/lake"}
    task = _tasks(BUNDLE.deployed("dev", ALICE), "smartgrid_ingest")["ingest"]
    argv = BUNDLE.resolve(
        [
            "ingest",
            *BUNDLE.jobs["smartgrid_ingest"][1]["tasks"][0]["python_wheel_task"]["parameters"],
        ],
        "dev",
        ALICE,
        volume,
    )
    assert task["python_wheel_task"]["parameters"] != argv[1:]
    with pytest.raises(SmartgridError) as error:
        ingest_configuration(argv, env={}, secrets=_RecordingScope())
    message = str(error.value)
    assert "\n" not in message
    assert "Unity Catalog volume" in message and "external location" in message
