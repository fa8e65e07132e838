"""The names of the lake's tables and of the dbt models the pipeline reads, in one place.

The ingest writes three Delta tables by path (``<lake>/raw``, ``validated``, ``quarantine``),
which dbt declares as the ``meter_events`` source. dbt materialises its clean model under
``<lake>/clean/<model>`` and every mart under ``<lake>/curated/<model>`` (dbt_project.yml's
``location_root``), and the demo, live mode, the CSV export and the dashboard read them there
by path. tests/foundation/test_catalog.py checks these names against dbt's manifest.json, so a
renamed model fails a test instead of a dashboard.
"""

from __future__ import annotations

from smartgrid.lake import Lake

# The ingest's Delta tables (zones of the lake), declared to dbt as source meter_events.
EVENTS_SOURCE = "meter_events"
RAW, VALIDATED, QUARANTINE = "raw", "validated", "quarantine"
LAKE_TABLES = (RAW, VALIDATED, QUARANTINE)

# The clean layer: deduplicated, typed readings (an incremental model in <lake>/clean).
CLEAN_READINGS = "int_meter_readings__clean"
CLEAN_MODELS = (CLEAN_READINGS,)

# Curated marts (Delta folders under <lake>/curated/).
READINGS = "fct_meter_readings"
METER_DAILY = "fct_meter_daily_energy"
FLEET_DAILY = "fct_fleet_daily_target"
POWER_TREND = "fct_fleet_power_trend"
DAYPART = "fct_meter_daypart_energy"
DAYPART_DAILY = "fct_meter_daypart_daily_energy"
METERS = "dim_meters"
# Data quality: the ingest's verdicts per day (grain ingested_on) and per reason (ingested_on,
# reason), built from the validated and quarantine tables.
INGEST_DAILY = "fct_ingest_daily"
QUARANTINE_REASONS = "fct_quarantine_reasons"
# Readings received with conflicting values (grain meter_id, reading_at) and how they were decided.
READING_CONFLICTS = "fct_reading_conflicts"
MARTS = (
    READINGS,
    METER_DAILY,
    FLEET_DAILY,
    POWER_TREND,
    DAYPART,
    DAYPART_DAILY,
    METERS,
    INGEST_DAILY,
    QUARANTINE_REASONS,
    READING_CONFLICTS,
)

# The CSV export of READINGS that Power BI reads, and the dashboard beside it.
EXPORT_RELATION = READINGS
CURATED_CSV_NAME = "smart_grid_curated.csv"
DASHBOARD_NAME = "dashboard.html"


def clean_path(lake: Lake, model: str = CLEAN_READINGS) -> str:
    """Where dbt keeps a clean-layer model's Delta table."""
    return lake.path("clean", model)


def mart_path(lake: Lake, mart: str) -> str:
    """Where dbt keeps a mart's Delta table."""
    return lake.path("curated", mart)
