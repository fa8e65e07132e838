"""The renderer on hand-made data: values, gauge geometry, escaping, empty states, no assets."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace
from datetime import date

import pytest
from htmltree import parse

from dashboard import charts, svg
from dashboard.model import DailyTarget, DataQuality, MeterDaily, MeterDaypart
from dashboard.render import (
    CHART_DAILY,
    CHART_DAYPART,
    CHART_TARGET,
    CHART_TREND,
    CHARTS,
    render_dashboard,
    write_dashboard,
)


def chart(html: str, name: str):
    [node] = parse(html).find_all(data_chart=name)
    return node


def test_every_chart_is_present_with_its_point_count(data) -> None:
    html = render_dashboard(data)
    assert int(chart(html, CHART_TREND).attrs["data-points"]) == len(data.trend)
    assert int(chart(html, CHART_DAYPART).attrs["data-points"]) == len(data.daypart)
    assert int(chart(html, CHART_DAILY).attrs["data-points"]) == len(data.daily)
    assert int(chart(html, CHART_TARGET).attrs["data-points"]) == len(data.target.daily)
    for name in CHARTS:
        node = chart(html, name)
        assert int(node.attrs["data-points"]) > 0, name
        assert node.find_all(data_mark=None), f"{name} draws no marks"


def test_kpi_values_appear_formatted(data) -> None:
    tree = parse(render_dashboard(data))
    kpis = {n.attrs["data-kpi"]: n for n in tree.find_all(data_kpi=None)}
    assert set(kpis) == {
        "avg-watts",
        "total-kwh",
        "avg-daily-kwh",
        "high-demand-pct",
        "anomaly-pct",
        "avg-voltage",
    }
    k = data.kpis
    assert f"{k.avg_watts:,.0f}" in kpis["avg-watts"].all_text()
    assert f"{k.avg_voltage_v:.1f}" in kpis["avg-voltage"].all_text()
    assert f"{k.high_demand_share * 100:.1f}" in kpis["high-demand-pct"].all_text()
    assert f"{k.anomaly_share * 100:.1f}" in kpis["anomaly-pct"].all_text()
    assert float(kpis["total-kwh"].attrs["data-value"]) == pytest.approx(k.total_kwh, rel=1e-5)
    assert float(kpis["avg-daily-kwh"].attrs["data-value"]) == pytest.approx(
        k.avg_daily_kwh, rel=1e-5
    )


def test_charts_carry_meter_ids_and_values(data) -> None:
    html = render_dashboard(data)
    daypart = chart(html, CHART_DAYPART)
    # One column label per meter, in the order given (largest first).
    labels = [n.all_text() for n in daypart.iter() if "label-x" in n.attrs.get("class", "")]
    assert labels == [m.meter_id for m in data.daypart]
    daily = chart(html, CHART_DAILY)
    bars = daily.find_all(data_mark="bar")
    assert len(bars) == len(data.daily)
    widths = [float(b.attrs["width"]) for b in bars]
    assert widths == sorted(widths, reverse=True)
    # Bar lengths are proportional to the values.
    ratio = data.daily[-1].avg_daily_kwh / data.daily[0].avg_daily_kwh
    assert widths[-1] / widths[0] == pytest.approx(ratio, rel=0.01)
    for reason in data.quality.quarantine_reasons:
        assert reason.reason in html


def test_daypart_segments_stack_to_each_meters_total() -> None:
    meters = [
        MeterDaypart(
            "a", (("Night", 10.0), ("Morning", 20.0), ("Afternoon", 0.0), ("Evening", 30.0))
        ),
        MeterDaypart("b", (("Night", 5.0), ("Morning", 5.0), ("Afternoon", 5.0), ("Evening", 5.0))),
    ]
    tree = parse(charts.daypart_svg(meters))
    segments = tree.find_all(data_mark="segment")
    # Zero-energy dayparts draw nothing.
    assert len(segments) == 3 + 4
    heights = [float(s.attrs["height"]) for s in segments]
    # a: 60 kWh, b: 20 kWh -> stacked heights in the same 3:1 ratio.
    assert sum(heights[:3]) / sum(heights[3:]) == pytest.approx(3.0, rel=0.01)


@pytest.mark.parametrize(
    ("value", "lo", "hi", "expected"),
    [
        (100, 80, 120, 0.5),
        (80, 80, 120, 0.0),
        (120, 80, 120, 1.0),
        (70, 80, 120, 0.0),
        (130, 80, 120, 1.0),
        (5, 5, 5, 0.5),
        (2355.5, 2355.5, 2355.5 + 1e-12, 0.5),
    ],
)
def test_gauge_fraction(value: float, lo: float, hi: float, expected: float) -> None:
    assert charts.gauge_fraction(value, lo, hi) == pytest.approx(expected)


def test_gauge_places_value_and_target_on_the_arc(data) -> None:
    target = DailyTarget(
        as_of=date(2026, 1, 7),
        avg_daily_kwh=100.0,
        min_daily_kwh=80.0,
        max_daily_kwh=120.0,
        rolling_target_kwh=110.0,
        daily=((date(2026, 1, 6), 80.0), (date(2026, 1, 7), 120.0)),
    )
    html = render_dashboard(replace(data, target=target))
    node = chart(html, CHART_TARGET)
    [wrap] = node.find_all(data_value_fraction=None)
    assert float(wrap.attrs["data-value-fraction"]) == pytest.approx(0.5)
    assert float(wrap.attrs["data-target-fraction"]) == pytest.approx(0.75)
    assert (float(wrap.attrs["data-min"]), float(wrap.attrs["data-max"])) == (80.0, 120.0)

    g = charts.GaugeGeometry()
    # The target tick is radial, at 3/4 of the way from min (left) to max (right): 45 degrees.
    [tick] = node.find_all(data_mark="gauge-target")
    for end in ("1", "2"):
        x, y = float(tick.attrs[f"x{end}"]), float(tick.attrs[f"y{end}"])
        assert math.degrees(math.atan2(g.cy - y, x - g.cx)) == pytest.approx(45.0, abs=0.1)
    # The value arc ends at the top of the gauge (fraction 0.5).
    [arc] = node.find_all(data_mark="gauge-value")
    end_x, end_y = map(float, re.findall(r"[-\d.]+", arc.attrs["d"])[-2:])
    assert (end_x, end_y) == pytest.approx((g.cx, g.cy - g.radius), abs=0.01)
    assert "110" in node.all_text() and "120" in node.all_text() and "80" in node.all_text()


def test_meter_ids_and_reasons_are_escaped(data) -> None:
    evil = '<script>alert("x")</script>&"'
    hostile = replace(
        data,
        daypart=(MeterDaypart(evil, (("Night", 1.0),)),),
        daily=(MeterDaily(evil, 2.0, 1),),
        lake='"><img src=x onerror=alert(1)>',
        quality=replace(
            data.quality,
            quarantine_reasons=(replace(data.quality.quarantine_reasons[0], reason=evil),),
        ),
    )
    html = render_dashboard(hostile)
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;" in html
    # Still parses into the same charts: the escaped id did not break the markup.
    assert chart(html, CHART_DAILY).find_all(data_mark="bar")
    assert len(parse(html).find_all(data_chart=None)) == len(CHARTS)


def test_empty_data_renders_a_clear_no_data_state(empty_data) -> None:
    html = render_dashboard(empty_data)
    tree = parse(html)
    for name in (CHART_TREND, CHART_DAYPART, CHART_DAILY, CHART_TARGET):
        node = chart(html, name)
        assert node.attrs["data-points"] == "0"
        assert node.find_all(data_empty="true"), name
        assert "No data yet" in node.all_text()
        assert not node.find_all(data_mark=None)
    assert "no readings yet" in tree.all_text()
    assert "ingest tables (validated, quarantine) were not found" in tree.all_text()


def test_ingest_tables_present_but_nothing_quarantined(data) -> None:
    quality = DataQuality(validated=1000, quarantined=0, completeness=1.0, meter_days=7)
    html = render_dashboard(replace(data, quality=quality))
    assert "No event was quarantined." in html
    assert "0.00\u202f%" in html


def test_single_point_and_flat_series_do_not_crash(data) -> None:
    one = replace(data, trend=data.trend[:1], daily=data.daily[:1], daypart=data.daypart[:1])
    html = render_dashboard(one)
    assert chart(html, CHART_TREND).find_all(data_mark="point")
    flat = DailyTarget(date(2026, 1, 5), 50.0, 50.0, 50.0, 50.0, ((date(2026, 1, 5), 50.0),))
    html = render_dashboard(replace(data, target=flat))
    [wrap] = chart(html, CHART_TARGET).find_all(data_value_fraction=None)
    assert float(wrap.attrs["data-value-fraction"]) == 0.5


def test_page_is_self_contained(data) -> None:
    html = render_dashboard(data)
    tree = parse(html)
    assert not [n for n in tree.iter() if n.tag in {"link", "img", "iframe", "object", "embed"}]
    assert not [n for n in tree.iter() if "src" in n.attrs or "href" in n.attrs]
    assert not re.search(r"https?://|@import|url\((?!#)", html)


@pytest.mark.parametrize(
    ("share", "text"),
    [(0.0, "0.00\u202f%"), (0.00004, "<0.01\u202f%"), (0.0123, "1.23\u202f%"), (None, "\u2013")],
)
def test_small_shares_do_not_read_as_zero(share: float | None, text: str) -> None:
    assert svg.fmt_pct(share, 2) == text


def test_refresh_is_opt_in(data) -> None:
    assert 'http-equiv="refresh"' not in render_dashboard(data)
    assert '<meta http-equiv="refresh" content="15">' in render_dashboard(data, refresh_seconds=15)


def test_trend_is_downsampled_by_weighted_mean(data) -> None:
    points = list(data.trend) * 3
    out = charts.downsample(points, limit=100)
    assert len(out) <= 100
    assert sum(p.readings for p in out) == sum(p.readings for p in points)
    total = sum(p.avg_watts * p.readings for p in points) / sum(p.readings for p in points)
    assert sum(p.avg_watts * p.readings for p in out) / sum(
        p.readings for p in out
    ) == pytest.approx(total)


@pytest.mark.parametrize(("lo", "hi"), [(0, 1234.5), (0, 0.07), (3, 3), (0, 98765)])
def test_nice_ticks_cover_the_range_in_round_steps(lo: float, hi: float) -> None:
    ticks = svg.nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert 2 <= len(ticks) <= 12


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path, data) -> None:
    out = tmp_path / "curated" / "dashboard.html"
    write_dashboard(render_dashboard(data), out)
    write_dashboard(render_dashboard(data), out)
    assert [p.name for p in out.parent.iterdir()] == ["dashboard.html"]
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
