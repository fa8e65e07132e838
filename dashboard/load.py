"""Read the curated marts and the ingest's quarantine into ``DashboardData`` (the only Spark here).

Tables are read by path (``<lake>/curated/<model>``), not through the metastore, so the report
runs beside ``dbt`` (Derby admits one process) and against an abfss:// lake unchanged.
Every aggregate is computed in Spark; only small results (a few hundred rows) reach Python.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dashboard import columns as c
from dashboard.model import (
    COMPLETE_THRESHOLD,
    DailyTarget,
    DashboardData,
    DataQuality,
    Kpis,
    MeterDaily,
    MeterDay,
    MeterDaypart,
    MeterHour,
    ReasonCount,
    TrendPoint,
)
from smartgrid import catalog
from smartgrid.delta import is_delta_table
from smartgrid.errors import SmartgridError
from smartgrid.lake import Lake

# Curated marts the dashboard cannot do without.
REQUIRED_TABLES = (
    c.READINGS_TABLE,
    c.POWER_TREND_TABLE,
    c.DAYPART_TABLE,
    c.METER_DAILY_TABLE,
    c.FLEET_DAILY_TABLE,
)
# Reasons beyond this many are folded into one row, so a flood of bad_type:<field> stays legible.
MAX_REASONS = 8
OTHER_REASONS = "(other reasons)"


class MissingTablesError(SmartgridError):
    """Some curated marts are not there yet (dbt has not built them)."""


def _read(spark, path: str):
    return spark.read.format("delta").load(path)


def _f(value) -> float | None:
    return None if value is None else float(value)


def load_dashboard(
    spark,
    lake: Lake,
    *,
    top_n: int = 10,
    allow_missing: bool = False,
    now: datetime | None = None,
) -> DashboardData:
    """Everything the dashboard shows, from the Delta tables under ``lake``.

    Missing curated marts raise ``MissingTablesError`` naming them, unless ``allow_missing``
    (live mode, before dbt's first build), when their charts show "no data".
    """
    if top_n < 1:
        raise SmartgridError(f"--top must be at least 1, got {top_n}")
    paths = {name: f"{lake.curated}/{name}" for name in REQUIRED_TABLES}
    present = {name: is_delta_table(spark, path) for name, path in paths.items()}
    missing = [name for name, ok in present.items() if not ok]
    if missing and not allow_missing:
        raise MissingTablesError(
            f"no curated Delta table at {', '.join(paths[m] for m in missing)}: "
            "run `smartgrid build` (dbt) first"
        )
    tables = {name: _read(spark, paths[name]) for name, ok in present.items() if ok}

    target = _target(tables.get(c.FLEET_DAILY_TABLE))
    kpis = _kpis(tables.get(c.READINGS_TABLE), target)
    daily, daily_mean = _daily_per_meter(tables.get(c.METER_DAILY_TABLE), top_n)
    return DashboardData(
        generated_at=now or datetime.now(timezone.utc),
        lake=lake.root,
        top_n=top_n,
        kpis=kpis,
        trend=_trend(tables.get(c.POWER_TREND_TABLE)),
        daypart=_daypart(tables.get(c.DAYPART_TABLE), top_n),
        daily=daily,
        daily_mean_kwh=daily_mean,
        target=target,
        quality=_quality(
            spark, lake, tables.get(c.METER_DAILY_TABLE), tables.get(c.READINGS_TABLE)
        ),
        meter_days=_meter_days(tables.get(c.READINGS_TABLE)),
        meter_hours=_meter_hours(tables.get(c.READINGS_TABLE)),
    )


def _meter_days(readings) -> tuple[MeterDay, ...]:
    """Sums per meter and local day (kWh per daypart too): what the page's filters add up."""
    if readings is None:
        return ()
    from pyspark.sql import functions as F

    parts = [
        F.sum(F.when(F.col("time_of_day") == p, F.col("energy_kwh")).otherwise(0.0)).alias(f"p{i}")
        for i, p in enumerate(c.DAYPARTS)
    ]
    rows = (
        readings.where(F.col("meter_id").isNotNull() & F.col("local_date").isNotNull())
        .groupBy("meter_id", "local_date")
        .agg(
            F.coalesce(F.sum("energy_kwh"), F.lit(0.0)).alias("kwh"),
            *parts,
            F.count(F.lit(1)).alias("readings"),
            F.coalesce(F.sum("real_power_watts"), F.lit(0.0)).alias("watts"),
            F.count("real_power_watts").alias("watts_n"),
            F.coalesce(F.sum("voltage_v"), F.lit(0.0)).alias("volts"),
            F.count("voltage_v").alias("volt_n"),
            F.coalesce(F.sum("high_demand_flag"), F.lit(0)).alias("hd"),
            F.sum(F.when(F.col("anomaly_flag") == c.ANOMALY, 1).otherwise(0)).alias("anom"),
        )
        .orderBy("meter_id", "local_date")
        .collect()
    )
    return tuple(
        MeterDay(
            meter_id=r["meter_id"],
            day=r["local_date"],
            kwh=float(r["kwh"]),
            daypart_kwh=tuple(float(r[f"p{i}"] or 0.0) for i in range(len(c.DAYPARTS))),
            readings=int(r["readings"]),
            watts_sum=float(r["watts"]),
            watts_readings=int(r["watts_n"]),
            voltage_sum=float(r["volts"]),
            voltage_readings=int(r["volt_n"]),
            high_demand=int(r["hd"]),
            anomalies=int(r["anom"]),
        )
        for r in rows
    )


def _meter_hours(readings) -> tuple[MeterHour, ...]:
    """Real power summed per meter and UTC hour: the trend of a filtered selection of meters."""
    if readings is None:
        return ()
    from pyspark.sql import functions as F

    rows = (
        readings.where(F.col("meter_id").isNotNull() & F.col("real_power_watts").isNotNull())
        .groupBy("meter_id", F.date_trunc("hour", "timestamp").alias("hour"))
        .agg(F.sum("real_power_watts").alias("watts"), F.count(F.lit(1)).alias("n"))
        .where(F.col("hour").isNotNull())
        .orderBy("meter_id", "hour")
        .collect()
    )
    return tuple(MeterHour(r["meter_id"], r["hour"], float(r["watts"]), int(r["n"])) for r in rows)


def _kpis(readings, target: DailyTarget | None) -> Kpis:
    if readings is None:
        return Kpis()
    from pyspark.sql import functions as F

    row = readings.agg(
        F.count(F.lit(1)).alias("readings"),
        F.countDistinct("meter_id").alias("meters"),
        F.avg("real_power_watts").alias("avg_watts"),
        F.sum("energy_kwh").alias("total_kwh"),
        F.avg(F.col("high_demand_flag").cast("double")).alias("high_demand"),
        F.avg(F.when(F.col("anomaly_flag") == c.ANOMALY, 1.0).otherwise(0.0)).alias("anomaly"),
        F.avg("voltage_v").alias("avg_voltage"),
        F.min("timestamp").alias("first"),
        F.max("timestamp").alias("last"),
        F.countDistinct("local_date").alias("days"),
    ).first()
    if not row["readings"]:
        return Kpis()
    total = _f(row["total_kwh"])
    days = int(row["days"])
    if target is not None:
        avg_daily = target.avg_daily_kwh
    else:
        avg_daily = total / days if total is not None and days else None
    return Kpis(
        readings=int(row["readings"]),
        meters=int(row["meters"]),
        avg_watts=_f(row["avg_watts"]),
        total_kwh=total,
        avg_daily_kwh=avg_daily,
        high_demand_share=_f(row["high_demand"]),
        anomaly_share=_f(row["anomaly"]),
        avg_voltage_v=_f(row["avg_voltage"]),
        first_reading=row["first"],
        last_reading=row["last"],
        days=days,
    )


def _trend(trend) -> tuple[TrendPoint, ...]:
    if trend is None:
        return ()
    rows = trend.select(*c.POWER_TREND_COLUMNS).orderBy("bucket_start").collect()
    return tuple(
        TrendPoint(r["bucket_start"], float(r["avg_watts"]), int(r["reading_count"] or 0))
        for r in rows
        if r["bucket_start"] is not None and r["avg_watts"] is not None
    )


def _daypart(daypart, top_n: int) -> tuple[MeterDaypart, ...]:
    if daypart is None:
        return ()
    from pyspark.sql import functions as F

    top = (
        daypart.groupBy("meter_id")
        .agg(F.sum("kwh").alias("total"))
        .orderBy(F.desc("total"), "meter_id")
        .limit(top_n)
    )
    rows = (
        daypart.join(top, "meter_id")
        .groupBy("meter_id", "total", "time_of_day")
        .agg(F.sum("kwh").alias("kwh"))
        .collect()
    )
    by_meter: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for r in rows:
        by_meter.setdefault(r["meter_id"], {})[r["time_of_day"]] = float(r["kwh"] or 0.0)
        totals[r["meter_id"]] = float(r["total"] or 0.0)
    order = sorted(totals, key=lambda m: (-totals[m], m))
    return tuple(
        MeterDaypart(m, tuple((p, by_meter[m].get(p, 0.0)) for p in c.DAYPARTS)) for m in order
    )


def _daily_per_meter(meter_daily, top_n: int) -> tuple[tuple[MeterDaily, ...], float | None]:
    if meter_daily is None:
        return (), None
    from pyspark.sql import functions as F

    per_meter = meter_daily.groupBy("meter_id").agg(
        F.avg("kwh").alias("avg_kwh"), F.countDistinct("local_date").alias("days")
    )
    mean = per_meter.agg(F.avg("avg_kwh")).first()[0]
    rows = per_meter.orderBy(F.desc("avg_kwh"), "meter_id").limit(top_n).collect()
    meters = tuple(
        MeterDaily(r["meter_id"], float(r["avg_kwh"]), int(r["days"]))
        for r in rows
        if r["avg_kwh"] is not None
    )
    return meters, _f(mean)


def _target(fleet_daily) -> DailyTarget | None:
    if fleet_daily is None:
        return None
    wanted = list(c.FLEET_DAILY_COLUMNS)
    if c.ROLLING_DAYS_COLUMN in fleet_daily.columns:
        wanted.append(c.ROLLING_DAYS_COLUMN)
    rows = fleet_daily.select(*wanted).orderBy("local_date").collect()
    rows = [r for r in rows if r["local_date"] is not None and r["fleet_kwh"] is not None]
    if not rows:
        return None
    last = rows[-1]
    return DailyTarget(
        as_of=last["local_date"],
        avg_daily_kwh=float(last["avg_daily_kwh_to_date"]),
        min_daily_kwh=float(last["min_daily_kwh_to_date"]),
        max_daily_kwh=float(last["max_daily_kwh_to_date"]),
        rolling_target_kwh=float(last["rolling_target_kwh"]),
        daily=tuple((r["local_date"], float(r["fleet_kwh"])) for r in rows),
        rolling_days=(
            int(last[c.ROLLING_DAYS_COLUMN])
            if c.ROLLING_DAYS_COLUMN in wanted and last[c.ROLLING_DAYS_COLUMN] is not None
            else None
        ),
        rolling_window_days=max(
            (int(r[c.ROLLING_DAYS_COLUMN]) for r in rows if r[c.ROLLING_DAYS_COLUMN] is not None),
            default=None,
        )
        if c.ROLLING_DAYS_COLUMN in wanted
        else None,
    )


def _reason_counts(df, column: str, weight: str | None = None) -> tuple[ReasonCount, ...]:
    """Count a column of reason codes (or sum ``weight`` per reason), largest first, the tail
    folded into OTHER_REASONS."""
    from pyspark.sql import functions as F

    amount = F.count(F.lit(1)) if weight is None else F.sum(weight)
    rows = df.groupBy(column).agg(amount.alias("n")).orderBy(F.desc("n"), column)
    counts = [ReasonCount(r[column], int(r["n"])) for r in rows.collect()]
    if len(counts) > MAX_REASONS:
        head, tail = counts[: MAX_REASONS - 1], counts[MAX_REASONS - 1 :]
        counts = [*head, ReasonCount(OTHER_REASONS, sum(r.count for r in tail))]
    return tuple(counts)


def _quality(spark, lake: Lake, meter_daily, readings) -> DataQuality:
    from pyspark.sql import functions as F

    # The ingest's verdicts come from dbt's data-quality marts, not from the ingest's tables:
    # the dashboard reads the curated layer only.
    validated = quarantined = None
    quarantine_reasons: tuple[ReasonCount, ...] = ()
    ingest_daily = catalog.mart_path(lake, catalog.INGEST_DAILY)
    if is_delta_table(spark, ingest_daily):
        row = (
            _read(spark, ingest_daily)
            .agg(
                F.sum(c.VALIDATED_EVENTS_COLUMN).alias("validated"),
                F.sum(c.QUARANTINED_EVENTS_COLUMN).alias("quarantined"),
            )
            .first()
        )
        validated, quarantined = int(row["validated"] or 0), int(row["quarantined"] or 0)
    reasons_mart = catalog.mart_path(lake, catalog.QUARANTINE_REASONS)
    if is_delta_table(spark, reasons_mart):
        reasons = _read(spark, reasons_mart).where(F.col(c.REASON_COLUMN).isNotNull())
        quarantine_reasons = _reason_counts(reasons, c.REASON_COLUMN, c.QUARANTINED_EVENTS_COLUMN)

    completeness = None
    meter_days = incomplete = 0
    if meter_daily is not None:
        row = meter_daily.agg(
            F.sum("reading_count").alias("got"),
            F.sum("expected_reading_count").alias("expected"),
            F.count(F.lit(1)).alias("meter_days"),
            F.sum(F.when(F.col("completeness") < COMPLETE_THRESHOLD, 1).otherwise(0)).alias(
                "incomplete"
            ),
        ).first()
        meter_days = int(row["meter_days"] or 0)
        incomplete = int(row["incomplete"] or 0)
        if row["expected"]:
            completeness = float(row["got"]) / float(row["expected"])

    anomaly_reasons: tuple[ReasonCount, ...] = ()
    if readings is not None:
        reasons = (
            readings.where(F.col("anomaly_flag") == c.ANOMALY)
            .select(
                F.explode(F.split(F.col("anomaly_reason"), c.ANOMALY_REASON_SEPARATOR)).alias("raw")
            )
            .select(F.trim("raw").alias("reason"))
            .where(F.col("reason") != "")
        )
        anomaly_reasons = _reason_counts(reasons, "reason")

    conflicts, conflicts_held, policies = None, 0, ()
    conflicts_mart = catalog.mart_path(lake, catalog.READING_CONFLICTS)
    if is_delta_table(spark, conflicts_mart):
        rows = (
            _read(spark, conflicts_mart)
            .groupBy("policy")
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.sum(F.when(F.col("winning_values").isNull(), 1).otherwise(0)).alias("held"),
            )
            .collect()
        )
        conflicts = sum(int(r["n"]) for r in rows)
        conflicts_held = sum(int(r["held"] or 0) for r in rows)
        policies = tuple(sorted(str(r["policy"]) for r in rows))

    return DataQuality(
        conflicts=conflicts,
        conflicts_held=conflicts_held,
        conflict_policies=policies,
        validated=validated,
        quarantined=quarantined,
        quarantine_reasons=quarantine_reasons,
        completeness=completeness,
        meter_days=meter_days,
        incomplete_meter_days=incomplete,
        anomaly_reasons=anomaly_reasons,
    )
