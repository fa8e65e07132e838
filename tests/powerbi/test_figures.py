"""Power BI and the local dashboard show the same figures.

One small lake is built through the pipeline (produce -> ingest -> dbt build -> CSV export). Each
card and visual of the Power BI report is computed here from the exported CSV the way its DAX
measures define them, in the filter context the visual gives them (a meter on the axis, a
15-minute bucket, the top 10 meters), and compared with the local dashboard's figures, which the
dashboard reads from the other dbt marts. No DAX engine runs here: each measure has a Python
twin below, tied to its DAX by a fingerprint, so changing a measure without its twin fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pbi_parsers import dax
from project import DAYPARTS, build_lake, dashboard

FACT = "MeterReadings"
APPROX = {"rel": 1e-9, "abs": 1e-9}


@dataclass(frozen=True)
class Reading:
    """One row of smart_grid_curated.csv, typed as the model types it."""

    timestamp: dt.datetime  # UTC, no zone
    meter_id: str
    energy_kwh: float | None
    real_power_watts: float | None
    voltage_v: float | None
    high_demand_flag: int
    anomaly_flag: str
    time_of_day: str
    local_date: dt.date


def read_csv(path: Path) -> list[Reading]:
    def number(text: str) -> float | None:
        return float(text) if text != "" else None

    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Reading(
                timestamp=dt.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))
                .astimezone(dt.timezone.utc)
                .replace(tzinfo=None),
                meter_id=r["meter_id"],
                energy_kwh=number(r["energy_kwh"]),
                real_power_watts=number(r["real_power_watts"]),
                voltage_v=number(r["voltage_v"]),
                high_demand_flag=int(r["high_demand_flag"]),
                anomaly_flag=r["anomaly_flag"],
                time_of_day=r["time_of_day"],
                local_date=dt.date.fromisoformat(r["local_date"]),
            )
            for r in csv.DictReader(handle)
        ]


# --- The measures, restated over a filter context (the rows it leaves) ----------------------


def divide(numerator: float | None, denominator: float | None) -> float | None:
    """DAX DIVIDE: blank when the denominator is blank or zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def average(values) -> float | None:
    """DAX AVERAGE / AVERAGEX: the mean of the non-blank values, blank when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def by(rows: list[Reading], key: Callable[[Reading], object]) -> dict[object, list[Reading]]:
    groups: dict[object, list[Reading]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def total_energy(rows):
    return sum(r.energy_kwh for r in rows if r.energy_kwh is not None) if rows else None


def daily_totals(rows) -> dict[dt.date, float]:
    return {
        day: total_energy(day_rows) for day, day_rows in by(rows, lambda r: r.local_date).items()
    }


def rolling_target(rows, window_days: int = 7):
    totals = daily_totals(rows)
    if not totals:
        return None
    last = max(totals)
    return average(
        v for d, v in totals.items() if last - dt.timedelta(days=window_days) < d <= last
    )


def meter_mean_daily(rows):
    return average(average_daily(m) for m in by(rows, lambda r: r.meter_id).values())


def average_daily(rows):
    return average(daily_totals(rows).values())


def selected_meter(rows, meter_filtered: bool = False):
    meters = {r.meter_id for r in rows}
    if len(meters) == 1:
        return next(iter(meters))
    return f"{len(meters):,} meters selected" if meter_filtered else "All meters"


def bucket_start(at: dt.datetime, minutes: int = 15) -> dt.datetime:
    return at.replace(minute=minutes * (at.minute // minutes), second=0, microsecond=0)


# name -> (fingerprint of its DAX, the twin over the rows of a filter context)
TWINS: dict[str, tuple[str, Callable]] = {
    "Reading Count": ("0823d61cafbb", len),  # pragma: allowlist secret
    "Meter Count": ("522588708d51", lambda rows: len({r.meter_id for r in rows})),
    "Total Energy kWh": ("52c168525a76", total_energy),
    "Average Watts": ("3b0d696c2975", lambda rows: average(r.real_power_watts for r in rows)),
    "Average Voltage V": ("0df519f4576a", lambda rows: average(r.voltage_v for r in rows)),
    "High Demand %": (
        "94f8ddaea11e",
        lambda rows: divide(sum(r.high_demand_flag for r in rows), len(rows)),
    ),
    "Anomaly Count": ("6130d5599362", lambda rows: sum(r.anomaly_flag == "Anomaly" for r in rows)),
    "Anomaly %": (
        "fd0b1968c1a4",  # pragma: allowlist secret
        lambda rows: divide(sum(r.anomaly_flag == "Anomaly" for r in rows), len(rows)),
    ),
    "Selected Meter": ("726eb85935e4", selected_meter),  # pragma: allowlist secret
    "Average Daily kWh": ("9f96983e3f95", average_daily),
    "Min Daily kWh": ("2b0b831022d7", lambda rows: min(daily_totals(rows).values(), default=None)),
    "Max Daily kWh": ("fe1807b0dab1", lambda rows: max(daily_totals(rows).values(), default=None)),
    "Rolling Target kWh": ("7c9a6d9991e7", rolling_target),
    "Daily kWh vs Target %": (
        "d72ad3bf3b85",  # pragma: allowlist secret
        lambda rows: divide(
            None if average_daily(rows) is None else average_daily(rows) - rolling_target(rows),
            rolling_target(rows),
        ),
    ),
    "Meter Mean Daily kWh": ("14a8f614f518", meter_mean_daily),
    "bucket_start": ("ee4acdfe7724", bucket_start),
}


def fingerprint(code: str) -> str:
    """The DAX's tokens without whitespace and comments, hashed: formatting may change freely."""
    tokens = dax.main.remove_non_executing_tokens(dax.Lexer(code).scan())
    text = " ".join(t.text for t in tokens if t.text)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def test_every_measure_has_a_twin_of_its_current_dax(model) -> None:
    fact = model.tables[FACT]
    defined = {m.name: m.expression for m in fact.measures.values()}
    defined |= {c.name: c.expression for c in fact.columns.values() if c.calculated}
    assert set(TWINS) == set(defined)
    stale = {
        name: fingerprint(code)
        for name, code in defined.items()
        if fingerprint(code) != TWINS[name][0]
    }
    assert stale == {}, (
        "these definitions changed: restate them in tests/powerbi/test_figures.py's TWINS and "
        f"set their fingerprints to {stale}"
    )


def measure(name: str, rows, **context):
    return TWINS[name][1](rows, **context)


# --- One small lake ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory, kit):
    """12 meters over 9 days at 30 minutes: more meters than the top 10, more days than the
    7-day rolling window, and the injected voltage faults make anomalies."""
    lake, csv_path = build_lake(
        spark,
        tmp_path_factory.mktemp("powerbi-lake"),
        meters=12,
        days=9,
        interval=dt.timedelta(minutes=30),
        seed=16,
        dbt_vars={"nominal_interval_seconds": 1800, "max_gap_seconds": 3600},
    )
    with csv_path.open(newline="", encoding="utf-8") as handle:
        header = tuple(next(csv.reader(handle)))
    return read_csv(csv_path), dashboard(spark, lake, kit.TOP_N), header


def test_exported_header_is_the_models_columns(built, model) -> None:
    """The CSV the pipeline really wrote has the model's data columns, in order."""
    *_, header = built
    data_columns = [c.name for c in model.tables[FACT].columns.values() if not c.calculated]
    assert header == tuple(data_columns)


def test_the_lake_exercises_every_figure(built, kit) -> None:
    rows, data, _ = built
    assert len({r.meter_id for r in rows}) > kit.TOP_N
    assert len({r.local_date for r in rows}) > 7
    assert 0 < sum(r.anomaly_flag == "Anomaly" for r in rows) < len(rows)
    assert len(data.trend) > 100


def test_kpi_cards_match_the_dashboard(built, kit, visuals) -> None:
    rows, data, _ = built
    k = data.kpis
    dashboard_value = {
        "Average Watts": k.avg_watts,
        "Total Energy kWh": k.total_kwh,
        "Average Daily kWh": k.avg_daily_kwh,
        "High Demand %": k.high_demand_share,
        "Anomaly %": k.anomaly_share,
        "Average Voltage V": k.avg_voltage_v,
    }
    cards = {name: field for name, field, _ in kit.KPI_CARDS}
    assert set(cards.values()) == set(dashboard_value)
    for name, field in cards.items():
        [projection] = visuals[name]["visual"]["query"]["queryState"]["Values"]["projections"]
        assert projection["field"]["Measure"]["Property"] == field
        assert measure(field, rows) == pytest.approx(dashboard_value[field], **APPROX), field
    assert measure("Reading Count", rows) == k.readings
    assert measure("Meter Count", rows) == k.meters
    assert measure("Selected Meter", rows) == "All meters"
    one = [r for r in rows if r.meter_id == rows[0].meter_id]
    assert measure("Selected Meter", one, meter_filtered=True) == rows[0].meter_id


def test_global_watts_trend_matches_the_dashboard(built) -> None:
    """Average Watts per bucket_start (the line chart's axis) == fct_fleet_power_trend."""
    rows, data, _ = built
    power_bi = {
        bucket: measure("Average Watts", bucket_rows)
        for bucket, bucket_rows in by(rows, lambda r: measure("bucket_start", r.timestamp)).items()
    }
    local = {p.at.astimezone(dt.timezone.utc).replace(tzinfo=None): p.avg_watts for p in data.trend}
    assert sorted(power_bi) == sorted(local)
    for bucket, watts in power_bi.items():
        assert watts == pytest.approx(local[bucket], **APPROX), bucket


def top_meters(rows, by_measure: str, count: int) -> list[tuple[str, list[Reading]]]:
    """The visual's Top N filter on meter_id, ranked by a measure, largest first."""
    meters = by(rows, lambda r: r.meter_id)
    ranked = sorted(meters.items(), key=lambda m: (-measure(by_measure, m[1]), m[0]))
    return ranked[:count]


def test_meter_energy_by_daypart_matches_the_dashboard(built, kit) -> None:
    rows, data, _ = built
    power_bi = [
        (
            meter,
            {
                part: measure("Total Energy kWh", p)
                for part, p in by(meter_rows, lambda r: r.time_of_day).items()
            },
        )
        for meter, meter_rows in top_meters(rows, "Total Energy kWh", kit.TOP_N)
    ]
    assert [m for m, _ in power_bi] == [m.meter_id for m in data.daypart]
    for (meter, parts), local in zip(power_bi, data.daypart, strict=True):
        # A daypart without readings is a missing segment in Power BI, a 0 in the dashboard.
        assert {p: parts.get(p, 0.0) for p in DAYPARTS} == pytest.approx(dict(local.kwh), **APPROX)
        assert set(parts) <= set(DAYPARTS), meter


def test_daily_kwh_per_meter_matches_the_dashboard(built, kit) -> None:
    rows, data, _ = built
    power_bi = [
        (meter, measure("Average Daily kWh", meter_rows))
        for meter, meter_rows in top_meters(rows, "Average Daily kWh", kit.TOP_N)
    ]
    assert [m for m, _ in power_bi] == [m.meter_id for m in data.daily]
    for (_, kwh), local in zip(power_bi, data.daily, strict=True):
        assert kwh == pytest.approx(local.avg_daily_kwh, **APPROX), local.meter_id
    # The tooltip: REMOVEFILTERS(meter_id) sees every meter, not only the bars shown.
    assert measure("Meter Mean Daily kWh", rows) == pytest.approx(data.daily_mean_kwh, **APPROX)


def test_target_daily_kwh_gauge_matches_the_dashboard(built) -> None:
    rows, data, _ = built
    t = data.target
    assert measure("Average Daily kWh", rows) == pytest.approx(t.avg_daily_kwh, **APPROX)
    assert measure("Min Daily kWh", rows) == pytest.approx(t.min_daily_kwh, **APPROX)
    assert measure("Max Daily kWh", rows) == pytest.approx(t.max_daily_kwh, **APPROX)
    assert measure("Rolling Target kWh", rows) == pytest.approx(t.rolling_target_kwh, **APPROX)
    # The window cut days: the target is not just the mean of every day.
    assert t.rolling_days == 7 and len(t.daily) > 7
    gap = (t.avg_daily_kwh - t.rolling_target_kwh) / t.rolling_target_kwh
    assert measure("Daily kWh vs Target %", rows) == pytest.approx(gap, **APPROX)
