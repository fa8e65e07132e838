"""The Databricks task entry points (deploy/tasks.py, run from the project's wheel).

Databricks itself (dbutils.secrets, dbutils.fs, the cluster's SparkSession) cannot be reached
here: the secret scope is a small fake with ``get(scope, key)``, and ``dbutils.fs`` a fake over
a local directory with the same ``ls``/``mv``/``rm`` behaviour. No test starts Spark. The wheel
is built with the bundle's own build command and installed, without dependencies, into an
empty virtual environment, as a cluster's runtime would hold it beside its own PySpark.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.tasks import (
    EVENTHUB_CONNECTION_STR_ENV,
    ingest_configuration,
    job_environment,
    main,
    publish_staged_exports,
)
from smartgrid.errors import SmartgridError

ROOT = Path(__file__).resolve().parents[2]
LAKE = "abfss://lake@examplestore.dfs.core.windows.net/smartgrid"


def _connection_string() -> str:
    # Built at run time: no key-shaped string is committed (make secret-scan).
    key = base64.b64encode(os.urandom(32)).decode()
    return (
        "Endpoint=sb://smartgrid-ns.servicebus.windows.net/;"
        f"SharedAccessKeyName=listen;SharedAccessKey={key}"
    )


class FakeScope:
    """``dbutils.secrets`` stand-in: one secret, and a record of what was read."""

    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        self.secrets = secrets
        self.reads: list[tuple[str, str]] = []

    def get(self, scope: str, key: str) -> str:
        self.reads.append((scope, key))
        if (scope, key) not in self.secrets:
            raise RuntimeError("Secret does not exist")  # what dbutils raises, roughly
        return self.secrets[(scope, key)]


AZURE_ARGS = [
    "ingest",
    "--source",
    "kafka",
    "--trigger",
    "continuous",
    "--interval",
    "1m",
    "--lake",
    LAKE,
    "--topic",
    "meter-readings",
    "--secret-scope",
    "smartgrid",
]


def test_databricks_configuration_from_the_secret_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTHUB_CONNECTION_STR", raising=False)
    secret = _connection_string()
    scope = FakeScope({("smartgrid", "eventhub-listen-connection-string"): secret})
    env = {"DATABRICKS_RUNTIME_VERSION": "17.3"}
    config, validation = ingest_configuration(AZURE_ARGS, env=env, secrets=scope)

    assert scope.reads == [("smartgrid", "eventhub-listen-connection-string")]
    assert "EVENTHUB_CONNECTION_STR" not in os.environ  # kept in a private mapping
    assert config.lake.root == LAKE and not config.lake.is_local
    assert config.raw == f"{LAKE}/raw"
    assert config.validated == f"{LAKE}/validated"
    assert config.quarantine == f"{LAKE}/quarantine"
    assert config.checkpoint == f"{LAKE}/checkpoints/ingest/kafka"
    assert config.spark_trigger == {"processingTime": "60000 milliseconds"}
    assert config.topic == "meter-readings"
    options = config.kafka_reader_options()
    assert options["kafka.bootstrap.servers"] == "smartgrid-ns.servicebus.windows.net:9093"
    assert options["subscribe"] == "meter-readings"
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "PLAIN"
    jaas = options["kafka.sasl.jaas.config"]
    # Databricks Runtime's Kafka client is shaded; the password is the connection string.
    assert jaas.startswith("kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule")
    assert 'username="$ConnectionString"' in jaas and secret in jaas
    # ... and nothing that gets printed or logged carries it.
    assert secret not in repr(config) and secret not in str(config)
    assert validation.max_body_bytes > 0


def test_environment_wins_over_the_scope() -> None:
    """A cluster env var set to {{secrets/...}} arrives resolved: the scope is not read."""
    secret = _connection_string()
    scope = FakeScope({})
    env = {
        "EVENTHUB_CONNECTION_STR": secret,
        "EVENTHUB_NAME": "from-env",
        "EVENTHUB_NAMESPACE": "other-ns",
    }
    args = [a for a in AZURE_ARGS if a not in ("--topic", "meter-readings")]
    config, _ = ingest_configuration(args, env=env, secrets=scope)
    assert scope.reads == []
    assert config.topic == "from-env"
    assert config.kafka_bootstrap == "other-ns.servicebus.windows.net:9093"
    assert config.raw == f"{LAKE}/raw"
    # Off Databricks the plain (unshaded) Kafka login module is used.
    jaas = config.kafka_reader_options()["kafka.sasl.jaas.config"]
    assert jaas.startswith("org.apache.kafka.common.security.plain.PlainLoginModule")


def test_missing_secret_is_named_without_any_value() -> None:
    with pytest.raises(SmartgridError) as error:
        ingest_configuration(AZURE_ARGS, env={}, secrets=FakeScope({}))
    message = str(error.value)
    assert "'eventhub-listen-connection-string'" in message and "'smartgrid'" in message
    with pytest.raises(SmartgridError, match="needs Databricks"):
        # pragma: allowlist nextline secret
        job_environment({}, secret_scope="smartgrid", secret_key="k", secrets=None)
    # Without a scope and without the variable, the ingest config says what to set.
    args = [a for a in AZURE_ARGS if a not in ("--secret-scope", "smartgrid")]
    with pytest.raises(SmartgridError, match="EVENTHUB_CONNECTION_STR"):
        ingest_configuration(args, env={}, secrets=None)


def test_bad_option_is_refused_before_work_and_the_secret_never_printed(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = _connection_string()
    monkeypatch.setenv("EVENTHUB_CONNECTION_STR", secret)
    # A file-source option on a Kafka run: refused by IngestConfig, before Spark starts.
    code = main([*AZURE_ARGS, "--max-files-per-trigger", "5"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: --max-files-per-trigger applies to --source local")
    assert secret not in out + err
    assert secret.split("SharedAccessKey=")[1] not in out + err


class LocalDbfs:
    """``dbutils.fs`` over a local directory: ls gives FileInfo-like entries (directories end
    with '/'), mv renames, rm refuses a missing path like dbutils does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def ls(self, path: str):
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(path)
        return [
            SimpleNamespace(
                path=str(c) + ("/" if c.is_dir() else ""),
                name=c.name + ("/" if c.is_dir() else ""),
            )
            for c in sorted(p.iterdir())
        ]

    def mv(self, source: str, destination: str) -> bool:
        self.calls.append(("mv", source, destination))
        Path(source.rstrip("/")).rename(destination)
        return True

    def rm(self, path: str, recurse: bool = False) -> bool:
        self.calls.append(("rm", path))
        p = Path(path.rstrip("/"))
        if not p.exists():
            raise FileNotFoundError(path)
        if p.is_dir():
            import shutil

            shutil.rmtree(p) if recurse else p.rmdir()
        else:
            p.unlink()
        return True


def _stage(curated: Path, rows: str, parts: int = 1) -> Path:
    staging = curated / ".smart_grid_curated.csv.staging"
    staging.mkdir(parents=True)
    (staging / "_SUCCESS").write_text("")
    for i in range(parts):
        (staging / f"part-0000{i}-abc.csv").write_text(rows)
    return staging


def test_publish_renames_the_staged_part_over_the_target(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    curated.mkdir()
    (curated / "smart_grid_curated.csv").write_text("old\n")
    (curated / "fct_meter_readings").mkdir()  # a Delta folder beside it is left alone
    staging = _stage(curated, "timestamp,meter_id\n2025-01-01T00:00:00.000Z,MTR-1\n")
    fs = LocalDbfs()

    published = publish_staged_exports(str(curated), fs)

    assert published == [f"{curated}/smart_grid_curated.csv"]
    assert (curated / "smart_grid_curated.csv").read_text().startswith("timestamp,meter_id\n")
    assert not staging.exists()
    assert (curated / "fct_meter_readings").is_dir()
    assert publish_staged_exports(str(curated), fs) == []  # nothing staged any more
    assert publish_staged_exports(str(tmp_path / "missing"), fs) == []


def test_publish_refuses_an_ambiguous_staging_directory(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    _stage(curated, "a\n", parts=2)
    with pytest.raises(SmartgridError, match="2 part files"):
        publish_staged_exports(str(curated), LocalDbfs())
    assert not (curated / "smart_grid_curated.csv").exists()


def test_the_connection_string_variable_is_the_ingest_sources_own() -> None:
    from ingest.sources import EVENTHUB_CONNECTION_STR_ENV as ingest_name

    assert ingest_name == EVENTHUB_CONNECTION_STR_ENV


def test_a_volume_lake_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    code = main(["publish-export", "--lake", "/Volumes/main/smartgrid/lake"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: --lake /Volumes/main/smartgrid/lake")
    assert "external location" in err


def _packaged() -> list[str]:
    """The packages pyproject.toml ships (``tool.setuptools.packages``), top level only."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [name for name in config["tool"]["setuptools"]["packages"] if "." not in name]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built by the bundle's artifact command from a copy of the project files."""
    import shlex

    import yaml

    build = yaml.safe_load((ROOT / "databricks.yml").read_text())["artifacts"]["smartgrid_wheel"]
    source = tmp_path_factory.mktemp("wheel-source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for package in _packaged():
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    command = shlex.split(build["build"])
    assert command[:3] == ["python3", "-m", "pip"]
    # The same pip command, without build isolation: setuptools is already here (CI is offline
    # from nothing, but a build environment would fetch setuptools again for each run).
    proc = subprocess.run(
        [sys.executable, *command[1:], "--no-build-isolation"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # setuptools warns (e.g. a deprecated `license` table) on stderr: the build stays quiet.
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]
    (built,) = (source / "dist").glob("*.whl")
    return built


def test_the_wheel_holds_the_code_and_a_lean_core(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(
            archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA")
        )
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")
        )
    # Every package of the tree, the deploy tasks' imports (ingest, transform's publishing) too.
    for package in _packaged():
        assert f"{package}/__init__.py" in names, package
    assert "transform/publish.py" in names
    assert "smartgrid/event.schema.json" in names
    assert "smartgrid/log4j2.properties" in names  # Spark's logging, set by smartgrid.spark
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "smartgrid-ingest-task = deploy.tasks:ingest_entry" in entry_points
    assert "smartgrid-publish-task = deploy.tasks:publish_entry" in entry_points
    requires = [
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    core = [r for r in requires if "extra ==" not in r]
    heavy = ("pyspark", "delta-spark", "dbt-", "azure-", "confluent-kafka")
    assert core and not [r for r in core if r.startswith(heavy)], core
    extras = {r.split("extra ==")[1].strip().strip("'\"") for r in requires if "extra ==" in r}
    assert {"local", "azure", "kafka", "dev"} <= extras
    assert any(r.startswith("pyspark") and "local" in r for r in requires)


def test_the_wheels_publish_task_runs_where_only_the_wheel_is_installed(
    wheel: Path, tmp_path: Path
) -> None:
    """An empty virtual environment, the wheel installed without dependencies: the console
    script a python_wheel_task calls runs the publish task, from any directory, with neither
    PySpark nor dbt importable."""
    import venv

    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print(u.find_spec('pyspark'), u.find_spec('dbt'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.split() == ["None", "None"], probe.stdout + probe.stderr
    lake = tmp_path / "lake"
    _stage(lake / "curated", "h\n1\n")
    script = environment / "bin" / "smartgrid-publish-task"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = [str(script), "--lake", str(lake)]
    ok = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert (lake / "curated" / "smart_grid_curated.csv").read_text() == "h\n1\n"
    again = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1
    assert again.stderr.startswith("error: no staged export")
