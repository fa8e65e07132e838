"""The renderer on hand-made data: the embedded data, the cards, escaping, empty states, no assets.

What the browser does with the page (charts, filters, tooltips) is tested in
test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest
from htmltree import parse

from dashboard import fmt
from dashboard.model import DailyTarget, DataQuality, MeterDaily, MeterDaypart
from dashboard.render import (
    CHART_DAILY,
    CHART_DAYPART,
    CHART_TARGET,
    CHART_TREND,
    CHARTS,
    DATA_ELEMENT_ID,
    VISUALS,
    inline_script,
    json_script,
    render_dashboard,
    write_dashboard,
)
from dashboard.vendor import echarts_source


def chart(html: str, name: str):
    [node] = parse(html).find_all(data_chart=name)
    return node


def embedded(html: str) -> dict:
    [node] = parse(html).find_all(id=DATA_ELEMENT_ID)
    return json.loads(node.all_text())


def test_every_chart_is_present_with_its_point_count(data) -> None:
    html = render_dashboard(data)
    assert int(chart(html, CHART_TREND).attrs["data-points"]) == len(data.trend)
    assert int(chart(html, CHART_DAYPART).attrs["data-points"]) == len(data.daypart)
    assert int(chart(html, CHART_DAILY).attrs["data-points"]) == len(data.daily)
    assert int(chart(html, CHART_TARGET).attrs["data-points"]) == len(data.target.daily)
    for name in CHARTS:
        node = chart(html, name)
        assert int(node.attrs["data-points"]) > 0, name
        if name in VISUALS:
            assert node.find_all(data_echart=name), f"{name} has no ECharts canvas"
        else:
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


def test_embedded_data_adds_up_to_the_marts(data) -> None:
    html = render_dashboard(data)
    d = embedded(html)
    md = d["meterDays"]
    assert len(md["kwh"]) == len(data.meter_days)
    assert sum(md["kwh"]) == pytest.approx(data.kpis.total_kwh, rel=1e-12)
    assert sum(md["readings"]) == data.kpis.readings
    assert d["meters"] == sorted({m.meter_id for m in data.meter_days})
    assert d["days"][0] == data.target.daily[0][0].isoformat()
    assert d["days"][-1] == data.target.as_of.isoformat()
    assert d["trend"]["watts"] == [p.avg_watts for p in data.trend]
    assert len(d["hours"]["at"]) == len(data.meter_hours)
    assert d["topN"] == data.top_n
    assert d["rollingDays"] == data.target.rolling_days
    [start] = parse(html).find_all(id="date-from")
    assert (start.attrs["min"], start.attrs["value"]) == (d["days"][0], d["days"][0])
    [select] = parse(html).find_all(id="meter-filter")
    values = [o.attrs["value"] for o in select.iter() if o.tag == "option"]
    assert values == ["", *d["meters"]]


def test_meter_ids_and_reasons_are_escaped(data) -> None:
    evil = '<script>alert("x")</script>&"{app}'
    hostile = replace(
        data,
        daypart=(MeterDaypart(evil, (("Night", 1.0),)),),
        daily=(MeterDaily(evil, 2.0, 1),),
        meter_days=(replace(data.meter_days[0], meter_id=evil), *data.meter_days[1:]),
        lake='"><img src=x onerror=alert(1)>',
        quality=replace(
            data.quality,
            quarantine_reasons=(replace(data.quality.quarantine_reasons[0], reason=evil),),
        ),
    )
    # Everything but ECharts' own source (whose text holds an '<img' of its own).
    html = render_dashboard(hostile).replace(inline_script(echarts_source()), "")
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;" in html
    # In the embedded JSON the id survives whole, with no '<' to end the script element early.
    assert evil in embedded(html)["meters"]
    # The slicer offers it; '{app}' in an id stays text, never a template slot.
    [select] = parse(html).find_all(id="meter-filter")
    assert evil in [o.attrs["value"] for o in select.iter() if o.tag == "option"]
    assert len(parse(html).find_all(data_chart=None)) == len(CHARTS)


def test_json_and_scripts_cannot_close_their_element() -> None:
    text = json_script({"id": "</script><!-- & >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"id": "</script><!-- & >"}
    assert inline_script('x = "</SCRIPT>";') == 'x = "<\\/SCRIPT>";'


def test_empty_data_renders_a_clear_no_data_state(empty_data) -> None:
    html = render_dashboard(empty_data)
    tree = parse(html)
    for name in (CHART_TREND, CHART_DAYPART, CHART_DAILY, CHART_TARGET):
        node = chart(html, name)
        assert node.attrs["data-points"] == "0"
        assert node.find_all(data_empty="true"), name
        assert "No data yet" in node.all_text()
        assert not node.find_all(data_echart=None)
    assert "no readings yet" in tree.all_text()
    assert "ingest tables (validated, quarantine) were not found" in tree.all_text()


def test_ingest_tables_present_but_nothing_quarantined(data) -> None:
    quality = DataQuality(validated=1000, quarantined=0, completeness=1.0, meter_days=7)
    html = render_dashboard(replace(data, quality=quality))
    assert "No event was quarantined." in html
    assert "0.00\u202f%" in html


def test_the_quality_panel_says_how_conflicting_readings_were_decided(data) -> None:
    base = DataQuality(validated=1000, quarantined=0, completeness=1.0, meter_days=7)

    def conflicts(quality: DataQuality):
        marks = parse(render_dashboard(replace(data, quality=quality))).find_all(
            data_mark="conflicts"
        )
        return marks[0] if marks else None

    assert conflicts(base) is None  # the mart is not built: no line
    none = conflicts(replace(base, conflicts=0))
    assert none.attrs["data-count"] == "0" and "No reading" in none.all_text()
    held = conflicts(
        replace(base, conflicts=1234, conflicts_held=1234, conflict_policies=("quarantine",))
    )
    assert held.attrs["data-count"] == "1234"
    text = held.all_text()
    assert "1,234 readings" in text and "policy: quarantine" in text
    assert "1,234 held out of the marts" in text
    latest = conflicts(replace(base, conflicts=1, conflict_policies=("latest",))).all_text()
    assert "1 reading received" in latest and "policy: latest" in latest
    assert "held" not in latest


def test_single_point_and_flat_series_do_not_crash(data) -> None:
    one = replace(data, trend=data.trend[:1], meter_days=data.meter_days[:1])
    html = render_dashboard(one)
    assert chart(html, CHART_TREND).find_all(data_echart=CHART_TREND)
    assert embedded(html)["meters"] == sorted({h.meter_id for h in data.meter_hours})
    flat = DailyTarget(date(2026, 1, 5), 50.0, 50.0, 50.0, 50.0, ((date(2026, 1, 5), 50.0),))
    html = render_dashboard(replace(data, target=flat))
    assert "50.0\u202fkWh" in chart(html, CHART_TARGET).all_text()


def test_page_is_self_contained(data) -> None:
    html = render_dashboard(data)
    tree = parse(html)
    assert not [n for n in tree.iter() if n.tag in {"link", "img", "iframe", "object", "embed"}]
    assert not [n for n in tree.iter() if "src" in n.attrs or "href" in n.attrs]
    # ECharts is inline, whole (its own text names XML namespaces and its licence by URL).
    echarts = inline_script(echarts_source())
    assert echarts in html
    assert not re.search(r"https?://|@import|url\((?!#)", html.replace(echarts, ""))


@pytest.mark.parametrize(
    ("share", "text"),
    [(0.0, "0.00\u202f%"), (0.00004, "<0.01\u202f%"), (0.0123, "1.23\u202f%"), (None, "\u2013")],
)
def test_small_shares_do_not_read_as_zero(share: float | None, text: str) -> None:
    assert fmt.fmt_pct(share, 2) == text


def test_refresh_is_opt_in(data) -> None:
    assert 'http-equiv="refresh"' not in render_dashboard(data)
    assert '<meta http-equiv="refresh" content="15">' in render_dashboard(data, refresh_seconds=15)


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path, data) -> None:
    out = tmp_path / "curated" / "dashboard.html"
    write_dashboard(render_dashboard(data), out)
    write_dashboard(render_dashboard(data), out)
    assert [p.name for p in out.parent.iterdir()] == ["dashboard.html"]
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
