"""The loader on real Delta tables (the session's Spark), and ``smartgrid report`` end to end.

Tiny marts with the contract's columns are written under a lake; every expected figure is
computed here from the same rows, independently of the loader.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from htmltree import parse

from dashboard import columns as c
from dashboard.load import (
    OTHER_REASONS,
    REQUIRED_TABLES,
    MissingTablesError,
    load_dashboard,
)
from dashboard.render import CHART_DAYPART, CHART_TREND, DATA_ELEMENT_ID, render_dashboard
from pipeline.cli import main
from smartgrid import catalog
from smartgrid.lake import Lake

D5, D6 = date(2026, 1, 5), date(2026, 1, 6)

READINGS_DDL = (
    "timestamp timestamp, meter_id string, energy_kwh double, real_power_watts double, "
    "voltage_v double, power_factor double, apparent_power_va double, current_a double, "
    "high_demand_flag int, anomaly_flag string, anomaly_reason string, time_of_day string, "
    "local_date date, rolling_avg_voltage_v double"
)
# timestamp, meter, kWh, W, V, pf, hd, flag, reason, daypart
READINGS = [
    (datetime(2026, 1, 5, 0, 0), "m1", 0.5, 1000.0, 230.0, 0.95, 0, "Normal", None, "Night"),
    (
        datetime(2026, 1, 5, 13, 0),
        "m1",
        1.0,
        2000.0,
        250.0,
        0.80,
        1,
        "Anomaly",
        "over_voltage;low_power_factor",
        "Afternoon",
    ),
    (
        datetime(2026, 1, 6, 8, 0),
        "m2",
        0.25,
        500.0,
        200.0,
        0.90,
        0,
        "Anomaly",
        "under_voltage",
        "Morning",
    ),
    (datetime(2026, 1, 6, 19, 0), "m3", 2.0, 3000.0, 231.0, 0.99, 1, "Normal", "", "Evening"),
    (
        datetime(2026, 1, 5, 2, 0),
        "m3",
        3.0,
        2500.0,
        229.0,
        0.97,
        1,
        "Anomaly",
        "over_voltage",
        "Night",
    ),
]
# meter, day, kWh, readings, expected
METER_DAILY = [
    ("m1", D5, 1.5, 2, 2),
    ("m2", D6, 0.25, 1, 2),
    ("m3", D5, 3.0, 1, 1),
    ("m3", D6, 2.0, 1, 1),
]
FLEET_DAILY = [(D5, 4.5, 4.5, 4.5, 4.5, 4.5, 1), (D6, 2.25, 2.25, 4.5, 3.375, 3.375, 2)]
TREND = [
    (datetime(2026, 1, 5, 0, 0), 1000.0, 1),
    (datetime(2026, 1, 5, 0, 15), 1500.0, 2),
    (datetime(2026, 1, 5, 0, 30), 800.0, 1),
]
# Quarantined events, each with its reasons and the day it was ingested on; validated events
# per ingest day. The data-quality marts below are computed from these here, as dbt would.
QUARANTINE_REASONS = [["not_json"], ["missing_field:meter_id", "bad_type:voltage"], ["not_json"]]
QUARANTINED_ON = [D5, D5, D6]
VALIDATED_ON = {D5: 3, D6: len(READINGS) - 3}
INGEST_DAILY_DDL = "ingested_on date, validated_events bigint, quarantined_events bigint"
QUARANTINE_REASONS_DDL = "ingested_on date, reason string, quarantined_events bigint"
# fct_reading_conflicts: two readings decided by `latest`, one held by `quarantine` (no winner).
CONFLICTS_DDL = (
    "meter_id string, reading_at timestamp, versions bigint, version_values string, "
    "winning_values string, policy string, why string"
)
CONFLICTS = [
    ("m1", datetime(2026, 1, 5, 0, 0), 2, "1 W | 2 W", "2 W", "latest", "latest: sent last"),
    ("m3", datetime(2026, 1, 5, 0, 15), 3, "1 W | 2 W | 3 W", "3 W", "latest", "latest: sent last"),
    ("m3", datetime(2026, 1, 6, 0, 15), 2, "5 W | 6 W", None, "quarantine", "held: kept out"),
]


def _ingest_daily_rows():
    return [
        (day, VALIDATED_ON[day], sum(on == day for on in QUARANTINED_ON))
        for day in sorted(VALIDATED_ON)
    ]


def _quarantine_reason_rows():
    counts: dict[tuple[date, str], int] = {}
    for day, reasons in zip(QUARANTINED_ON, QUARANTINE_REASONS, strict=True):
        for reason in reasons:
            counts[(day, reason)] = counts.get((day, reason), 0) + 1
    return [(day, reason, n) for (day, reason), n in sorted(counts.items())]


def _daypart_rows():
    totals: dict[tuple[str, str], float] = {}
    for r in READINGS:
        totals[(r[1], r[9])] = totals.get((r[1], r[9]), 0.0) + r[2]
    return [(m, part, kwh, 1) for (m, part), kwh in totals.items()]


@pytest.fixture(scope="module")
def filled_lake(spark, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake.resolve(str(tmp_path_factory.mktemp("report-lake"))).ensure()

    def save(rows, schema, path):
        spark.createDataFrame(rows, schema).write.format("delta").save(path)

    save(
        [(*r[:6], r[3] / r[5], r[3] / r[4], *r[6:], r[0].date(), r[4]) for r in READINGS],
        READINGS_DDL,
        f"{lake.curated}/{c.READINGS_TABLE}",
    )
    save(
        [(*r, r[3] / r[4]) for r in METER_DAILY],
        "meter_id string, local_date date, kwh double, reading_count long, "
        "expected_reading_count long, completeness double",
        f"{lake.curated}/{c.METER_DAILY_TABLE}",
    )
    save(
        FLEET_DAILY,
        "local_date date, fleet_kwh double, min_daily_kwh_to_date double, "
        "max_daily_kwh_to_date double, avg_daily_kwh_to_date double, rolling_target_kwh double, "
        "rolling_window_days_used long",
        f"{lake.curated}/{c.FLEET_DAILY_TABLE}",
    )
    save(
        TREND,
        "bucket_start timestamp, avg_watts double, reading_count long",
        f"{lake.curated}/{c.POWER_TREND_TABLE}",
    )
    save(
        _daypart_rows(),
        "meter_id string, time_of_day string, kwh double, reading_count long",
        f"{lake.curated}/{c.DAYPART_TABLE}",
    )
    # The data-quality panel reads dbt's marts only: the ingest's own tables are not written, so
    # a loader still reading them would find nothing.
    save(_ingest_daily_rows(), INGEST_DAILY_DDL, catalog.mart_path(lake, catalog.INGEST_DAILY))
    save(
        _quarantine_reason_rows(),
        QUARANTINE_REASONS_DDL,
        catalog.mart_path(lake, catalog.QUARANTINE_REASONS),
    )
    save(CONFLICTS, CONFLICTS_DDL, catalog.mart_path(lake, catalog.READING_CONFLICTS))
    return lake


def test_loader_computes_every_figure(spark, filled_lake: Lake) -> None:
    data = load_dashboard(spark, filled_lake, top_n=2)
    k = data.kpis
    n = len(READINGS)
    assert (k.readings, k.meters, k.days) == (n, 3, 2)
    assert k.avg_watts == pytest.approx(sum(r[3] for r in READINGS) / n)
    assert k.total_kwh == pytest.approx(sum(r[2] for r in READINGS))
    assert k.avg_voltage_v == pytest.approx(sum(r[4] for r in READINGS) / n)
    assert k.high_demand_share == pytest.approx(sum(r[6] for r in READINGS) / n)
    assert k.anomaly_share == pytest.approx(sum(r[7] == "Anomaly" for r in READINGS) / n)
    assert k.first_reading == min(r[0] for r in READINGS)
    assert k.last_reading == max(r[0] for r in READINGS)

    # Gauge: the last day's row of the fleet table.
    t = data.target
    assert t is not None
    assert (t.as_of, t.avg_daily_kwh, t.min_daily_kwh, t.max_daily_kwh, t.rolling_target_kwh) == (
        D6,
        3.375,
        2.25,
        4.5,
        3.375,
    )
    assert t.daily == ((D5, 4.5), (D6, 2.25))
    assert t.rolling_days == 2
    assert t.rolling_window_days == 2  # the most days any row averaged
    assert k.avg_daily_kwh == t.avg_daily_kwh

    assert [(p.avg_watts, p.readings) for p in data.trend] == [(w, n) for _, w, n in TREND]

    # Top 2 meters by energy, largest first, dayparts in display order.
    assert [m.meter_id for m in data.daypart] == ["m3", "m1"]
    assert dict(data.daypart[0].kwh) == {
        "Night": 3.0,
        "Morning": 0.0,
        "Afternoon": 0.0,
        "Evening": 2.0,
    }
    assert [p for p, _ in data.daypart[1].kwh] == list(c.DAYPARTS)

    # Average daily kWh per meter: m3 (3.0 + 2.0) / 2, m1 1.5; the mean covers all three meters.
    assert [(m.meter_id, m.avg_daily_kwh, m.days) for m in data.daily] == [
        ("m3", 2.5, 2),
        ("m1", 1.5, 1),
    ]
    assert data.daily_mean_kwh == pytest.approx((2.5 + 1.5 + 0.25) / 3)

    q = data.quality
    assert (q.validated, q.quarantined) == (n, len(QUARANTINE_REASONS))
    assert (q.conflicts, q.conflicts_held) == (len(CONFLICTS), 1)
    assert q.conflict_policies == ("latest", "quarantine")
    assert [(r.reason, r.count) for r in q.quarantine_reasons] == [
        ("not_json", 2),
        ("bad_type:voltage", 1),
        ("missing_field:meter_id", 1),
    ]
    assert q.completeness == pytest.approx(
        sum(r[3] for r in METER_DAILY) / sum(r[4] for r in METER_DAILY)
    )
    assert (q.meter_days, q.incomplete_meter_days) == (4, 1)
    assert [(r.reason, r.count) for r in q.anomaly_reasons] == [
        ("over_voltage", 2),
        ("low_power_factor", 1),
        ("under_voltage", 1),
    ]


def test_loader_sums_per_meter_day_and_hour_for_the_filters(spark, filled_lake: Lake) -> None:
    """The page's filters re-aggregate these: sums and counts per meter-day, per meter-hour."""
    data = load_dashboard(spark, filled_lake, top_n=2)
    expected: dict[tuple[str, date], dict] = {}
    for ts, meter, kwh, watts, volts, _pf, hd, flag, _reason, part in READINGS:
        e = expected.setdefault(
            (meter, ts.date()),
            {
                "kwh": 0.0,
                "parts": dict.fromkeys(c.DAYPARTS, 0.0),
                "n": 0,
                "w": 0.0,
                "v": 0.0,
                "hd": 0,
                "an": 0,
            },
        )
        e["kwh"] += kwh
        e["parts"][part] += kwh
        e["n"] += 1
        e["w"] += watts
        e["v"] += volts
        e["hd"] += hd
        e["an"] += flag == c.ANOMALY
    got = {(d.meter_id, d.day): d for d in data.meter_days}
    assert set(got) == set(expected)
    for key, e in expected.items():
        d = got[key]
        assert d.kwh == pytest.approx(e["kwh"])
        assert d.daypart_kwh == pytest.approx(tuple(e["parts"][p] for p in c.DAYPARTS))
        assert (d.readings, d.watts_readings, d.voltage_readings) == (e["n"], e["n"], e["n"])
        assert (d.watts_sum, d.voltage_sum) == pytest.approx((e["w"], e["v"]))
        assert (d.high_demand, d.anomalies) == (e["hd"], e["an"])
    # Every figure of the cards adds back up from the meter-days.
    assert sum(d.kwh for d in data.meter_days) == pytest.approx(data.kpis.total_kwh)
    assert sum(d.watts_sum for d in data.meter_days) / sum(
        d.readings for d in data.meter_days
    ) == pytest.approx(data.kpis.avg_watts)

    hours: dict[tuple[str, datetime], list[float]] = {}
    for r in READINGS:
        hours.setdefault((r[1], r[0].replace(minute=0, second=0)), []).append(r[3])
    assert {(h.meter_id, h.hour): (h.watts_sum, h.readings) for h in data.meter_hours} == {
        k: (pytest.approx(sum(v)), len(v)) for k, v in hours.items()
    }


def test_empty_marts_load_and_render_as_no_data(spark, filled_lake: Lake, tmp_path) -> None:
    """Right after dbt's first build on an empty lake: tables exist, with no rows."""
    empty = Lake.resolve(str(tmp_path / "empty")).ensure()
    for name in (*REQUIRED_TABLES, catalog.INGEST_DAILY, catalog.QUARANTINE_REASONS):
        source, target = catalog.mart_path(filled_lake, name), catalog.mart_path(empty, name)
        spark.read.format("delta").load(source).limit(0).write.format("delta").save(target)
    data = load_dashboard(spark, empty)
    assert (data.kpis.readings, data.trend, data.daypart, data.daily, data.target) == (
        0,
        (),
        (),
        (),
        None,
    )
    assert (data.quality.validated, data.quality.quarantined, data.quality.completeness) == (
        0,
        0,
        None,
    )
    html = render_dashboard(data)
    # The four visuals and the completeness panel.
    assert html.count("No data yet") == 5


def test_many_reasons_fold_into_other(spark, filled_lake: Lake, monkeypatch) -> None:
    from dashboard import load

    monkeypatch.setattr(load, "MAX_REASONS", 2)
    q = load_dashboard(spark, filled_lake).quality
    assert [(r.reason, r.count) for r in q.quarantine_reasons] == [
        ("not_json", 2),
        (OTHER_REASONS, 2),
    ]


def test_report_command_writes_the_dashboard(filled_lake: Lake, capsys) -> None:
    assert main(["report", "--lake", filled_lake.root, "--top", "2"]) == 0
    out = filled_lake.curated + "/" + c.DASHBOARD_NAME
    assert f"dashboard: {out}" in capsys.readouterr().out
    with open(out, encoding="utf-8") as fh:
        tree = parse(fh.read())
    [trend] = tree.find_all(data_chart=CHART_TREND)
    assert trend.attrs["data-points"] == str(len(TREND))
    [daypart] = tree.find_all(data_chart=CHART_DAYPART)
    assert daypart.attrs["data-points"] == "2"  # --top 2 of the three meters
    assert daypart.find_all(data_echart=CHART_DAYPART)
    # The page carries every meter-day for its filters, and a slicer entry per meter.
    [blob] = tree.find_all(id=DATA_ELEMENT_ID)
    embedded = json.loads(blob.all_text())
    assert embedded["meters"] == ["m1", "m2", "m3"]
    assert sum(embedded["meterDays"]["kwh"]) == pytest.approx(sum(r[2] for r in READINGS))
    [select] = tree.find_all(id="meter-filter")
    assert [o.attrs["value"] for o in select.iter() if o.tag == "option"] == ["", "m1", "m2", "m3"]


def test_missing_marts_are_named_and_refused(spark, lake: Lake, capsys) -> None:
    with pytest.raises(MissingTablesError, match=c.READINGS_TABLE):
        load_dashboard(spark, lake)
    assert main(["report", "--lake", lake.root, "--allow-empty"]) == 2
    err = capsys.readouterr().err
    assert "smartgrid build" in err and c.FLEET_DAILY_TABLE in err
    assert not Path(lake.curated, c.DASHBOARD_NAME).exists()


def test_allow_missing_renders_no_data(lake: Lake) -> None:
    out = lake.root + "/out/dash.html"
    assert main(["report", "--lake", lake.root, "--allow-missing", "--out", out]) == 0
    with open(out, encoding="utf-8") as fh:
        html = fh.read()
    assert "No data yet" in html


def test_bad_options_are_refused_before_any_work(lake: Lake, capsys) -> None:
    assert main(["report", "--lake", lake.root, "--top", "0"]) == 2
    assert "--top" in capsys.readouterr().err
    out = lake.root + "/dash.txt"
    assert main(["report", "--lake", lake.root, "--allow-empty", "--out", out]) == 2
    assert "should end in .html" in capsys.readouterr().err


def test_absent_quality_marts_leave_the_panel_without_data(
    spark, filled_lake: Lake, tmp_path
) -> None:
    """Before dbt builds the data-quality marts the panel has nothing to show, even when the
    ingest's own tables are there: it never falls back to reading them."""
    lake = Lake.resolve(str(tmp_path / "no-quality")).ensure()
    for name in REQUIRED_TABLES:
        source, target = catalog.mart_path(filled_lake, name), catalog.mart_path(lake, name)
        spark.read.format("delta").load(source).write.format("delta").save(target)
    spark.createDataFrame([("x",)], "body string").write.format("delta").save(lake.quarantine)
    q = load_dashboard(spark, lake).quality
    assert (q.validated, q.quarantined, q.quarantine_reasons) == (None, None, ())
    assert q.conflicts is None
    assert q.completeness is not None  # the rest of the panel is still read
