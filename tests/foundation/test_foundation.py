"""The foundation: Java check, lake layout, CLI errors, and one definition of the Spark settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from pipeline.cli import main
from smartgrid import jars
from smartgrid.errors import SmartgridError
from smartgrid.java import check_java, parse_java_major
from smartgrid.lake import ZONES, Lake
from smartgrid.spark import LOG4J2_CONFIG, spark_conf

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "25" 2025-09-16', 25),
        ('openjdk version "11.0.2"', 11),
        ("garbage", None),
    ],
)
def test_parse_java_major(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def test_missing_java_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SmartgridError) as err:
        check_java()
    assert "Java not found" in str(err.value)
    assert "\n" not in str(err.value)


def test_too_old_java_names_the_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(SmartgridError, match=r"Java 8 .* too old"):
        check_java()


def test_java_check_command_exits_non_zero_without_java(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path), "PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "smartgrid.java"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: Java not found")


def test_lake_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMARTGRID_LAKE", str(tmp_path / "from-env"))
    assert Lake.resolve().root == str(tmp_path / "from-env")
    assert Lake.resolve(str(tmp_path / "from-cli")).root == str(tmp_path / "from-cli")
    monkeypatch.delenv("SMARTGRID_LAKE")
    monkeypatch.chdir(tmp_path)
    assert Lake.resolve().root == str(tmp_path / "lake")


def test_lake_zones_and_cloud_paths(tmp_path: Path) -> None:
    Lake.resolve(str(tmp_path / "l")).ensure()
    assert all((tmp_path / "l" / zone).is_dir() for zone in ZONES)
    cloud = Lake.resolve("abfss://lake@acct.dfs.core.windows.net/smartgrid/")
    assert cloud.validated == "abfss://lake@acct.dfs.core.windows.net/smartgrid/validated"
    assert not cloud.is_local
    assert cloud.ensure() is cloud  # nothing to create on ADLS


def test_cli_refuses_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def _rendered_local_profile(lake: str, jars: str) -> dict[str, str]:
    text = (ROOT / "profiles.example.yml").read_text()
    env = {"SMARTGRID_LAKE": lake, "SMARTGRID_SPARK_JARS": jars}

    def env_var(name: str, default: str | None = None) -> str:
        # Unset credentials of the other target render empty; only the local output is checked.
        return env.get(name, os.environ.get(name, default)) or ""

    environment = jinja2.Environment()
    environment.filters["as_number"] = int  # dbt's filter: the rendered value as a number
    rendered = environment.from_string(text).render(env_var=env_var)
    return yaml.safe_load(rendered)["smartgrid"]["outputs"]["local"]


def test_dbt_profile_mirrors_the_spark_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`dbt run` from the shell must start the same Spark as the project's own module: the
    jar folder on the class path (after setup) and the same logging configuration."""
    for name in (
        "SMARTGRID_SPARK_MASTER",
        "SMARTGRID_SHUFFLE_PARTITIONS",
        "SMARTGRID_DRIVER_MEMORY",
        "SMARTGRID_DBT_THREADS",
    ):
        monkeypatch.delenv(name, raising=False)
    jars = _ready_jar_folder(tmp_path / "jars")
    monkeypatch.setenv("SMARTGRID_SPARK_JARS", str(jars))
    profile = _rendered_local_profile("/data/lake", str(jars))
    assert profile["method"] == "session"
    assert profile["threads"] == "4"
    conf = spark_conf(Lake("/data/lake"))
    assert profile["server_side_parameters"] == conf
    assert conf["spark.driver.extraClassPath"] == f"{jars}/*"
    assert "spark.jars.packages" not in conf  # no resolution once the folder is there
    assert (
        f"-Dlog4j2.configurationFile={jars}/log4j2.properties"
        in (conf["spark.driver.extraJavaOptions"])
    )


def _ready_jar_folder(folder: Path) -> Path:
    """A jar folder as `make setup` leaves it (a manifest for the packages, the files it names)."""
    folder.mkdir()
    names = ["io.delta_delta-spark_4.2_2.13-4.4.0.jar"]
    for name in [*names, jars.LOG4J2_COPY]:
        (folder / name).write_bytes(b"")
    manifest = {"packages": jars.ALL_PACKAGES, "jars": names}
    (folder / jars.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_without_the_jar_folder_spark_resolves_the_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A clean clone before `make setup`: nothing breaks, Spark resolves the packages itself;
    a manifest for other coordinates (a version changed) counts as missing."""
    monkeypatch.setenv("SMARTGRID_SPARK_JARS", str(tmp_path / "missing"))
    conf = spark_conf(Lake("/data/lake"), kafka=True)
    assert conf["spark.jars.packages"] == f"{jars.DELTA_PACKAGE},{jars.KAFKA_PACKAGE}"
    assert "spark.driver.extraClassPath" not in conf
    assert str(LOG4J2_CONFIG) in conf["spark.driver.extraJavaOptions"]
    stale = _ready_jar_folder(tmp_path / "stale")
    manifest = json.loads((stale / jars.MANIFEST).read_text())
    manifest["packages"] = ["io.delta:delta-spark_4.2_2.13:0.0.1"]
    (stale / jars.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setenv("SMARTGRID_SPARK_JARS", str(stale))
    assert "spark.jars.packages" in spark_conf(Lake("/data/lake"))
