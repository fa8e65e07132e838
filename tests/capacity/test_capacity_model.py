"""The capacity model's scaling properties (capacity/model.py): each test fails if the rule it
names were missing or wrong. Pure Python, no Spark."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from capacity.model import (
    MEASURED_FILE,
    PUBLISHED,
    Assumptions,
    Fleet,
    Measured,
    Published,
    load_measured,
    plan,
)

MEASURED = load_measured()


def _plan(meters: int, interval: float, **assume) -> object:
    return plan(Fleet(meters, interval), MEASURED, Assumptions(**assume))


def test_events_and_storage_grow_linearly_in_meters() -> None:
    small, large = _plan(10_000, 60), _plan(1_000_000, 60)
    assert large.events_per_second_mean == pytest.approx(100 * small.events_per_second_mean)
    assert large.events_per_second_peak == pytest.approx(100 * small.events_per_second_peak)
    assert large.megabytes_per_second_peak == pytest.approx(100 * small.megabytes_per_second_peak)
    assert large.rows_per_day == pytest.approx(100 * small.rows_per_day)
    assert large.storage_gb_per_day == pytest.approx(100 * small.storage_gb_per_day)
    assert small.events_per_second_mean == pytest.approx(10_000 / 60)


def test_peak_comes_from_clock_alignment_within_the_spread() -> None:
    # 15-minute readings sent within a minute of the boundary: 15 times the mean.
    aligned = _plan(100_000, 900, spread_seconds=60)
    assert aligned.peak_to_mean == pytest.approx(15)
    assert aligned.events_per_second_peak == pytest.approx(100_000 / 60)
    # Sends spread over the whole interval: the peak is the mean.
    spread = _plan(100_000, 900, spread_seconds=900)
    assert spread.peak_to_mean == pytest.approx(1)
    # A spread longer than the interval cannot lower the peak below the mean.
    assert _plan(100_000, 1, spread_seconds=60).peak_to_mean == pytest.approx(1)


def test_throughput_units_are_the_ceiling_of_the_larger_limit_with_headroom() -> None:
    for meters, interval in ((10_000, 1), (123_457, 60), (5_000_000, 900), (777, 1)):
        item = _plan(meters, interval, hub_headroom=1.25)
        events_tus = item.events_per_second_peak / PUBLISHED.tu_ingress_events_per_second
        mb_tus = item.megabytes_per_second_peak * 1e6 / PUBLISHED.tu_ingress_bytes_per_second
        assert item.throughput_units == max(1, math.ceil(max(events_tus, mb_tus) * 1.25 - 1e-9))


def test_bytes_decide_the_units_when_events_are_large() -> None:
    # 2 kB events: 1,000 events/s is 2 MB/s, so bytes need 2 TUs where the count needs 1.
    big = replace(MEASURED, eventhubs_bytes_per_event=2_000)
    item = plan(Fleet(1_000, 1), big, Assumptions(hub_headroom=1.0))
    assert item.throughput_units == 2


def test_partitions_are_at_least_the_throughput_units() -> None:
    for meters in (1, 10_000, 1_000_000, 10_000_000):
        for interval in (1, 60, 900):
            item = _plan(meters, interval)
            assert item.partitions >= item.throughput_units >= 1


def test_every_output_is_monotonic_in_meters_and_in_reporting_frequency() -> None:
    fields = (
        "events_per_second_peak",
        "megabytes_per_second_peak",
        "throughput_units",
        "partitions",
        "ingest_cores",
        "storage_gb_per_day",
        "dbt_incremental_seconds",
    )
    meters = [1, 10, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    for interval in (1, 60, 900):
        plans = [_plan(m, interval) for m in meters]
        for name in fields:
            values = [getattr(p, name) for p in plans]
            assert values == sorted(values), (name, interval, values)
    for name in fields:
        values = [getattr(_plan(100_000, i), name) for i in (900, 60, 1)]
        assert values == sorted(values), (name, values)


def test_ten_million_meters_every_second_exceeds_the_standard_tier_and_says_so() -> None:
    item = _plan(10_000_000, 1)
    assert item.throughput_units > PUBLISHED.standard_max_throughput_units
    assert item.hub_tier != "Standard"
    advice = " ".join(item.warnings)
    assert "Standard tier" in advice and "Premium" in advice and "Dedicated" in advice
    assert "Capture" in advice
    # A small fleet stays on Standard, with no warning about the hub.
    small = _plan(10_000, 900)
    assert small.hub_tier == "Standard" and not any("Standard" in w for w in small.warnings)


def test_more_partitions_than_standard_allows_leaves_standard_even_within_its_units() -> None:
    limits = Published(standard_max_partitions=4)
    item = plan(Fleet(6_000, 1), MEASURED, Assumptions(hub_headroom=1.0), limits)
    assert item.throughput_units == 6 and item.partitions == 6
    assert item.hub_tier != "Standard"


def test_ingest_cores_come_from_the_measured_rate_and_fixed_cost() -> None:
    base = replace(MEASURED, ingest_events_per_second_per_core=10_000, ingest_fixed_seconds=0)
    assume = Assumptions(ingest_headroom=1.0, trigger_seconds=60)
    # 30,000 events/s at 10,000 per core: 3 cores.
    assert plan(Fleet(30_000, 1), base, assume).ingest_cores == 3
    # A 30 s fixed cost per 60 s trigger halves the time left: 6 cores.
    slow = replace(base, ingest_fixed_seconds=30)
    assert plan(Fleet(30_000, 1), slow, assume).ingest_cores == 6
    # A fixed cost that fills the trigger: no core count makes it, and the plan says so.
    stuck = plan(Fleet(30_000, 1), replace(base, ingest_fixed_seconds=60), assume)
    assert not stuck.ingest_feasible and any("trigger" in w for w in stuck.warnings)
    # Headroom multiplies.
    assert plan(Fleet(30_000, 1), base, replace(assume, ingest_headroom=2)).ingest_cores == 6


def test_storage_sums_the_measured_bytes_of_the_three_tables() -> None:
    figures = replace(
        MEASURED, raw_bytes_per_row=50, validated_bytes_per_row=20, curated_bytes_per_row=30
    )
    item = plan(Fleet(1_000, 60), figures)
    rows_per_day = 1_000 * 1_440
    assert item.storage_gb_per_day == pytest.approx(rows_per_day * 100 / 1e9)
    assert item.storage_tb_per_year == pytest.approx(item.storage_gb_per_day * 365 / 1e3)


def test_dbt_time_is_the_floor_plus_new_rows_at_the_measured_rate_scaled_by_cores() -> None:
    figures = replace(
        MEASURED,
        dbt_incremental_floor_seconds=10,
        dbt_incremental_rows_per_second=1_000,
        dbt_local_cores=2,
    )
    # 100 meters each minute, hourly runs: 6,000 new rows; 8 cores are 4x the local 2.
    item = plan(Fleet(100, 60), figures, Assumptions(dbt_every_seconds=3600, dbt_cores=8))
    assert item.dbt_new_rows_per_run == pytest.approx(6_000)
    assert item.dbt_incremental_seconds == pytest.approx(10 + 6_000 / 4_000)
    assert item.dbt_fits_schedule
    late = plan(Fleet(1_000_000, 1), figures, Assumptions(dbt_every_seconds=60, dbt_cores=2))
    assert not late.dbt_fits_schedule and any("dbt" in w for w in late.warnings)


def test_the_published_limits_are_the_reference_figures() -> None:
    """One place for the vendors' limits, with their sources (grid-facts.md, Microsoft Learn)."""
    assert PUBLISHED.tu_ingress_events_per_second == 1_000
    assert PUBLISHED.tu_ingress_bytes_per_second == 1_000_000
    assert PUBLISHED.standard_max_partitions == 32
    assert PUBLISHED.standard_max_throughput_units == 40
    assert all(source for _, source in PUBLISHED.sources)


def test_measured_figures_load_from_the_committed_file_with_their_provenance() -> None:
    raw = json.loads(MEASURED_FILE.read_text(encoding="utf-8"))["figures"]
    assert (
        MEASURED.ingest_events_per_second_per_core
        == raw["ingest_events_per_second_per_core"]["value"]
    )
    names = {f.name for f in MEASURED.provenance}
    assert names >= {n for n in Measured.__dataclass_fields__ if n != "provenance"}
    assert names == set(raw)
    for figure in MEASURED.provenance:
        assert figure.status in {"measured", "from-readme", "placeholder"}, figure
        assert figure.how and figure.unit


def test_a_file_missing_a_figure_is_refused_by_name(tmp_path: Path) -> None:
    data = json.loads(MEASURED_FILE.read_text(encoding="utf-8"))
    del data["figures"]["raw_bytes_per_row"]
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="raw_bytes_per_row"):
        load_measured(path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"meters": 0, "interval_seconds": 60}, "meters"),
        ({"meters": 1, "interval_seconds": 0}, "interval"),
    ],
)
def test_a_fleet_with_no_meters_or_no_interval_is_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Fleet(**kwargs)
