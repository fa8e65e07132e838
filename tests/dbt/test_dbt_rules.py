"""A bad rule var stops `dbt build` with one error naming the var and its value, before any
hook or model writes (macros/rules.sql; the rules themselves are unit-tested beside
fct_meter_readings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake
from transform import runner as dbt_runner

BAD_VARS = [
    ({"over_voltage_comparison": "loose"}, 'var over_voltage_comparison = "loose"'),
    ({"high_demand_watts_comparison": ">="}, 'var high_demand_watts_comparison = ">="'),
    ({"under_voltage_limit": -5}, "var under_voltage_limit = -5: must not be negative"),
    ({"over_voltage_limit": "ten%"}, 'var over_voltage_limit = "ten%"'),
    ({"over_voltage_limit": "10"}, 'var over_voltage_limit = "10"'),
    ({"under_voltage_limit": 260}, "var under_voltage_limit = 260 (260.0 V) must be below"),
    ({"over_voltage_limit": 240, "under_voltage_limit": 240}, "must be below"),
    ({"min_power_factor": -0.1}, "var min_power_factor = -0.1: must not be negative"),
    ({"high_demand_interval_kwh": "0.1"}, 'var high_demand_interval_kwh = "0.1"'),
    ({"voltage_band_pct": -1}, "var voltage_band_pct = -1"),
    (
        {"nominal_interval_seconds": 3600, "max_gap_seconds": 900},
        "var max_gap_seconds = 900 is smaller than var nominal_interval_seconds = 3600",
    ),
]


@pytest.mark.parametrize(("bad", "named"), BAD_VARS, ids=[str(b) for b, _ in BAD_VARS])
def test_bad_rule_var_stops_the_build_before_anything_is_written(
    spark, tmp_path: Path, bad: dict, named: str
) -> None:
    lake = Lake.resolve(str(tmp_path / "lake")).ensure()
    with pytest.raises(SmartgridError) as refused:
        dbt_runner.build(lake, dbt_vars=bad, spark=spark, full_refresh=True)
    assert named in str(refused.value)
    # Not even the source tables the first hooks create are there.
    for zone in (lake.raw, lake.validated, lake.quarantine, lake.clean, lake.curated):
        assert not list(Path(zone).rglob("_delta_log")), zone


def test_hourly_vars_are_accepted(spark, tmp_path: Path) -> None:
    """The check refuses only what is wrong: an hourly cadence with a one-hour cap, limits in
    volts and percent, every comparison word, null thresholds."""
    lake = Lake.resolve(str(tmp_path / "lake")).ensure()
    result = dbt_runner.run_dbt(
        ["run-operation", "validate_rules"],
        lake,
        dbt_vars={
            "nominal_interval_seconds": 3600,
            "max_gap_seconds": 3600,
            "over_voltage_limit": 250,
            "under_voltage_limit": "7.5%",
            "over_voltage_comparison": "inclusive",
            "under_voltage_comparison": "strict",
            "min_power_factor": None,
            "high_demand_watts": 0,
            "high_demand_watts_comparison": "strict",
        },
        spark=spark,
    )
    assert result.success, result.exception
