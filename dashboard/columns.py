"""The curated contract the dashboard and the Power BI kit read: its columns, in one place.

The dbt marts are written as Delta tables under ``<lake>/curated/<model>`` and read by path
(no metastore), so the dashboard can run beside ``dbt`` and against ADLS Gen2 unchanged.
If a mart or column is renamed, change it here: the loader, the Power BI kit's test and the
dashboard all follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartgrid import catalog

# Curated marts (Delta folders under <lake>/curated/); their names live in smartgrid.catalog.
READINGS_TABLE = catalog.READINGS
METER_DAILY_TABLE = catalog.METER_DAILY
FLEET_DAILY_TABLE = catalog.FLEET_DAILY
POWER_TREND_TABLE = catalog.POWER_TREND
DAYPART_TABLE = catalog.DAYPART
METERS_TABLE = catalog.METERS

# The CSV export of READINGS_TABLE that Power BI reads.
CURATED_CSV_NAME = catalog.CURATED_CSV_NAME
DASHBOARD_NAME = catalog.DASHBOARD_NAME

# Dayparts in display order (the dbt dayparts seed: Night 0-5, Morning 6-11, Afternoon 12-17,
# Evening 18-23).
DAYPARTS = ("Night", "Morning", "Afternoon", "Evening")

ANOMALY = "Anomaly"
NORMAL = "Normal"
ANOMALY_REASON_SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    """One column of the curated CSV: its name and logical type.

    ``kind`` is one of: ``timestamp`` (UTC, ISO 8601), ``date``, ``string``, ``double``, ``int``.
    """

    name: str
    kind: str


# fct_meter_readings == smart_grid_curated.csv, in file order.
CURATED_CSV_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "timestamp"),
    Column("meter_id", "string"),
    Column("energy_kwh", "double"),
    Column("real_power_watts", "double"),
    Column("voltage_v", "double"),
    Column("power_factor", "double"),
    Column("apparent_power_va", "double"),
    Column("current_a", "double"),
    Column("high_demand_flag", "int"),
    Column("anomaly_flag", "string"),
    Column("anomaly_reason", "string"),
    Column("time_of_day", "string"),
    Column("local_date", "date"),
    Column("rolling_avg_voltage_v", "double"),
)

CURATED_CSV_HEADER: tuple[str, ...] = tuple(c.name for c in CURATED_CSV_COLUMNS)

# Columns of the other marts the loader reads (a subset of each mart).
METER_DAILY_COLUMNS = (
    "meter_id",
    "local_date",
    "kwh",
    "reading_count",
    "expected_reading_count",
    "completeness",
)
FLEET_DAILY_COLUMNS = (
    "local_date",
    "fleet_kwh",
    "min_daily_kwh_to_date",
    "max_daily_kwh_to_date",
    "avg_daily_kwh_to_date",
    "rolling_target_kwh",
)
# Optional: read when the mart has it.
ROLLING_DAYS_COLUMN = "rolling_window_days_used"
POWER_TREND_COLUMNS = ("bucket_start", "avg_watts", "reading_count")
DAYPART_COLUMNS = ("meter_id", "time_of_day", "kwh", "reading_count")

# The data-quality marts the data-quality panel reads: fct_ingest_daily (grain ingested_on) and
# fct_quarantine_reasons (grain ingested_on, reason).
INGESTED_ON_COLUMN = "ingested_on"
VALIDATED_EVENTS_COLUMN = "validated_events"
QUARANTINED_EVENTS_COLUMN = "quarantined_events"
REASON_COLUMN = "reason"
