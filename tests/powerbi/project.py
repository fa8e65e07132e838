"""Everything tests/powerbi takes from the rest of the project, in one place.

The Power BI tests read the pipeline's contract (the CSV header, the dbt mart's contract and
vars), build one small lake through the pipeline's public entry points and read the local
dashboard's figures. If those move, re-point them here.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import yaml

from dashboard.columns import (
    CURATED_CSV_COLUMNS,
    CURATED_CSV_HEADER,
    CURATED_CSV_NAME,
    DAYPARTS,
    READINGS_TABLE,
)
from dashboard.load import load_dashboard
from dashboard.model import DashboardData
from smartgrid.lake import Lake
from transform import runner as dbt_runner

ROOT = Path(__file__).resolve().parents[2]
MARTS = ROOT / "models" / "marts"
DBT_PROJECT = ROOT / "dbt_project.yml"

__all__ = [
    "CURATED_CSV_COLUMNS",
    "CURATED_CSV_HEADER",
    "CURATED_CSV_NAME",
    "DAYPARTS",
    "READINGS_TABLE",
    "build_lake",
    "dashboard",
    "dbt_var",
    "mart_contract",
]


def mart_contract(model: str = READINGS_TABLE) -> list[tuple[str, str]]:
    """(column, data_type) of a dbt mart's enforced contract, in order (the mart's own yml)."""
    text = (MARTS / f"{model}.yml").read_text(encoding="utf-8")
    models = yaml.safe_load(text)["models"]
    [mart] = [m for m in models if m["name"] == model]
    return [(c["name"], c["data_type"]) for c in mart["columns"]]


def dbt_var(name: str):
    return yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["vars"][name]


def build_lake(
    spark,
    root: Path,
    *,
    meters: int,
    days: int,
    interval: dt.timedelta,
    seed: int,
    dbt_vars: dict,
) -> tuple[Lake, Path]:
    """produce -> ingest -> dbt build -> CSV export, as `smartgrid demo` runs them."""
    from ingest.config import IngestConfig
    from ingest.job import run_ingest
    from producer.faults import parse_fault_spec
    from producer.options import ProduceOptions
    from producer.run import produce

    lake = Lake.resolve(str(root)).ensure()
    produce(
        ProduceOptions(
            meters=meters,
            duration=dt.timedelta(days=days),
            interval=interval,
            seed=seed,
            # Sags and swells, so the anomaly share is not zero.
            faults=parse_fault_spec("voltage=0.02"),
        ),
        lake,
        stderr=io.StringIO(),
    )
    run_ingest(IngestConfig(lake=lake), spark=spark)
    # Seeds, then the models: the lake stands on its own whatever ran before in the session;
    # dbt's data tests are tests/dbt's business (and would double this fixture's time).
    for command in ("seed", "run"):
        dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, full_refresh=True, command=command)
    return lake, dbt_runner.export_csv(lake, spark=spark)


def dashboard(spark, lake: Lake, top_n: int) -> DashboardData:
    """The local dashboard's figures, as `smartgrid report` computes them."""
    return load_dashboard(spark, lake, top_n=top_n)
