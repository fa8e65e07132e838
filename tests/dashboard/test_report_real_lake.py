"""The dashboard of a lake the pipeline really built (produce -> ingest -> dbt -> CSV), in Chromium.

Unfiltered, the page's figures (read from the ECharts options and the cards) are the marts'
as the loader reads them; filtered by a meter or by dates they are the exported CSV's readings
added up here, independently of the page and of the marts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from pathlib import Path

import pytest
from cdp import Browser
from dashpage import choose, kpis, option

from dashboard.columns import DAYPARTS
from dashboard.load import load_dashboard
from dashboard.render import (
    CHART_DAILY,
    CHART_DAYPART,
    CHART_TARGET,
    render_dashboard,
    write_dashboard,
)
from smartgrid.lake import Lake

REL = 1e-9


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory):
    """5 meters over 3 days at 30 minutes, with voltage faults (so anomalies exist)."""
    from ingest.config import IngestConfig
    from ingest.job import run_ingest
    from producer.faults import parse_fault_spec
    from producer.options import ProduceOptions
    from producer.run import produce
    from transform import runner as dbt_runner

    lake = Lake.resolve(str(tmp_path_factory.mktemp("dash-lake"))).ensure()
    produce(
        ProduceOptions(
            meters=5,
            duration=dt.timedelta(days=3),
            interval=dt.timedelta(minutes=30),
            seed=18,
            faults=parse_fault_spec("voltage=0.02"),
        ),
        lake,
        stderr=io.StringIO(),
    )
    run_ingest(IngestConfig(lake=lake), spark=spark)
    dbt_vars = {"nominal_interval_seconds": 1800, "max_gap_seconds": 3600}
    for command in ("seed", "run"):
        dbt_runner.build(lake, dbt_vars=dbt_vars, spark=spark, full_refresh=True, command=command)
    csv_path = dbt_runner.export_csv(lake, spark=spark)
    with Path(csv_path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    data = load_dashboard(spark, lake, top_n=3)
    page = write_dashboard(render_dashboard(data), tmp_path_factory.mktemp("out") / "d.html")
    return data, rows, page


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def test_a_built_lakes_page_shows_the_marts_and_filters_to_the_readings(built, browser) -> None:
    data, rows, path = built
    assert len({r["meter_id"] for r in rows}) > data.top_n  # the top N really cuts
    page = browser.page()
    try:
        page.goto(path.as_uri())
        # Unfiltered: the marts' figures.
        cards = kpis(page)
        k = data.kpis
        assert float(cards["total-kwh"]) == pytest.approx(k.total_kwh, rel=REL)
        assert float(cards["avg-daily-kwh"]) == pytest.approx(k.avg_daily_kwh, rel=REL)
        assert float(cards["avg-watts"]) == pytest.approx(k.avg_watts, rel=REL)
        assert float(cards["avg-voltage"]) == pytest.approx(k.avg_voltage_v, rel=REL)
        assert float(cards["anomaly-pct"]) == pytest.approx(k.anomaly_share * 100, rel=REL)
        daily = option(page, CHART_DAILY)
        assert daily["yAxis"][0]["data"] == [m.meter_id for m in data.daily]
        assert daily["series"][0]["data"] == pytest.approx(
            [m.avg_daily_kwh for m in data.daily], rel=REL
        )
        daypart = option(page, CHART_DAYPART)
        assert daypart["xAxis"][0]["data"] == [m.meter_id for m in data.daypart]
        gauge = option(page, CHART_TARGET)["series"]
        t = data.target
        assert gauge[0]["data"][0]["value"] == pytest.approx(t.avg_daily_kwh, rel=REL)
        assert gauge[1]["data"][0]["value"] == pytest.approx(t.rolling_target_kwh, rel=REL)
        assert (gauge[0]["min"], gauge[0]["max"]) == pytest.approx(
            (t.min_daily_kwh, t.max_daily_kwh), rel=REL
        )

        # One meter: its readings in the CSV, added up here.
        meter = data.daily[-1].meter_id
        mine = [r for r in rows if r["meter_id"] == meter]
        per_day: dict[str, float] = defaultdict(float)
        per_part: dict[str, float] = defaultdict(float)
        for r in mine:
            per_day[r["local_date"]] += float(r["energy_kwh"])
            per_part[r["time_of_day"]] += float(r["energy_kwh"])
        choose(page, meter)
        daily = option(page, CHART_DAILY)
        assert daily["yAxis"][0]["data"] == [meter]
        assert daily["series"][0]["data"] == pytest.approx(
            [sum(per_day.values()) / len(per_day)], rel=1e-6
        )
        daypart = option(page, CHART_DAYPART)
        for part in DAYPARTS:
            [series] = [s for s in daypart["series"] if s["name"] == part]
            assert series["data"] == pytest.approx([per_part[part]], rel=1e-6, abs=1e-9), part
        assert float(kpis(page)["avg-watts"]) == pytest.approx(
            sum(float(r["real_power_watts"]) for r in mine) / len(mine), rel=1e-6
        )

        # A date range over every meter.
        days = sorted({r["local_date"] for r in rows})
        start, end = days[1], days[-1]
        inside = [r for r in rows if start <= r["local_date"] <= end]
        choose(page, "", start, end)
        cards = kpis(page)
        assert float(cards["total-kwh"]) == pytest.approx(
            sum(float(r["energy_kwh"]) for r in inside), rel=1e-6
        )
        assert float(cards["avg-daily-kwh"]) == pytest.approx(
            sum(float(r["energy_kwh"]) for r in inside) / len(days[1:]), rel=1e-6
        )
        assert not page.errors, page.errors
        assert {u.split(":", 1)[0] for u in page.requests} <= {"file", "data"}
    finally:
        page.close()
