"""The dashboard in a real browser: headless Chromium (Debian's package) driven over the DevTools
protocol (tests/dashboard/cdp.py), the page opened from disk with the network emulated offline.

Every expected figure is computed here from the sample's per meter-day and per meter-hour rows
(``sample_data``), independently of app.js; the page's figures are read back from the ECharts
instances' options and the cards. A screenshot is kept in tests/artifacts/ for people.
``make test`` installs Chromium first (scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import struct
import zlib
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from cdp import Browser, Page
from dashpage import choose, kpis, option
from sample_data import make_data

from dashboard.columns import DAYPARTS
from dashboard.model import DashboardData, MeterDay
from dashboard.render import (
    CHART_DAILY,
    CHART_DAYPART,
    CHART_TARGET,
    CHART_TREND,
    VISUALS,
    render_dashboard,
    write_dashboard,
)

WIDTH = 1400
DATA = make_data()
METER = "MTR-0004"  # not the largest: selecting it must change every per-meter chart
REL = 1e-9


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    return write_dashboard(render_dashboard(DATA), out)


@pytest.fixture
def page(browser: Browser, dashboard: Path):
    p = browser.page(WIDTH, 1800)
    p.goto(dashboard.as_uri())
    yield p
    assert not p.errors, p.errors
    p.close()


def rows(meter: str | None = None, start: date | None = None, end: date | None = None):
    return [
        r
        for r in DATA.meter_days
        if (meter is None or r.meter_id == meter)
        and (start is None or r.day >= start)
        and (end is None or r.day <= end)
    ]


def top(totals: dict[str, float], n: int) -> list[str]:
    return sorted(totals, key=lambda m: (-totals[m], m))[:n]


def approx(values):
    return pytest.approx(values, rel=REL)


# --------------------------------------------------------------------------------------------


def test_page_opens_offline_from_disk_and_requests_nothing_external(page: Page) -> None:
    assert page.js("document.documentElement.getAttribute('data-dashboard-ready')") == "true"
    assert page.js("typeof echarts") == "object", "ECharts is not inlined"
    for name in VISUALS:
        assert option(page, name) is not None, f"{name}: no ECharts instance"
        # The browser laid the canvas out with a real size.
        size = page.js(
            f"(function () {{ var c = document.querySelector('[data-echart=\"{name}\"] canvas');"
            " return c ? [c.width, c.height] : null; })()"
        )
        assert size and size[0] > 100 and size[1] > 100, (name, size)
    schemes = {url.split(":", 1)[0] for url in page.requests}
    # The page itself, and the date inputs' built-in icon (a data: URL of Chromium's own style).
    assert schemes <= {"file", "data"}, page.requests
    assert [u for u in page.requests if u.startswith("file:")] == [page.js("location.href")]


def test_unfiltered_figures_equal_the_marts(page: Page) -> None:
    daypart = option(page, CHART_DAYPART)
    assert daypart["xAxis"][0]["data"] == [m.meter_id for m in DATA.daypart]
    for part in DAYPARTS:
        [series] = [s for s in daypart["series"] if s["name"] == part]
        assert series["data"] == approx([dict(m.kwh)[part] for m in DATA.daypart]), part
    daily = option(page, CHART_DAILY)
    assert daily["yAxis"][0]["data"] == [m.meter_id for m in DATA.daily]
    assert daily["series"][0]["data"] == approx([m.avg_daily_kwh for m in DATA.daily])
    assert daily["series"][0]["markLine"]["data"][0]["xAxis"] == approx(DATA.daily_mean_kwh)
    gauge = option(page, CHART_TARGET)["series"]
    t = DATA.target
    assert (gauge[0]["min"], gauge[0]["max"]) == approx((t.min_daily_kwh, t.max_daily_kwh))
    assert gauge[0]["data"][0]["value"] == approx(t.avg_daily_kwh)
    assert gauge[1]["data"][0]["value"] == approx(t.rolling_target_kwh)
    trend = option(page, CHART_TREND)["series"][0]["data"]
    assert [p[1] for p in trend] == approx([p.avg_watts for p in DATA.trend])
    cards = kpis(page)
    k = DATA.kpis
    assert float(cards["total-kwh"]) == approx(k.total_kwh)
    assert float(cards["avg-daily-kwh"]) == approx(k.avg_daily_kwh)
    assert float(cards["avg-watts"]) == approx(k.avg_watts)
    assert float(cards["avg-voltage"]) == approx(k.avg_voltage_v)
    assert float(cards["high-demand-pct"]) == approx(k.high_demand_share * 100)
    assert float(cards["anomaly-pct"]) == approx(k.anomaly_share * 100)


def test_meter_filter_redraws_every_visual_with_that_meters_values(page: Page) -> None:
    before = option(page, CHART_DAILY)["series"][0]["data"]
    choose(page, METER)
    mine = rows(METER)
    assert mine, "the sample has no rows for the meter"

    daily = option(page, CHART_DAILY)
    assert daily["yAxis"][0]["data"] == [METER]
    assert daily["series"][0]["data"] == approx([sum(r.kwh for r in mine) / len(mine)])
    assert daily["series"][0]["data"] != before

    daypart = option(page, CHART_DAYPART)
    assert daypart["xAxis"][0]["data"] == [METER]
    for k, part in enumerate(DAYPARTS):
        [series] = [s for s in daypart["series"] if s["name"] == part]
        assert series["data"] == approx([sum(r.daypart_kwh[k] for r in mine)]), part

    per_day = sorted((r.day, r.kwh) for r in mine)
    values = [v for _, v in per_day]
    last_week = [v for d, v in per_day if (per_day[-1][0] - d).days < DATA.target.rolling_days]
    gauge = option(page, CHART_TARGET)["series"]
    assert gauge[0]["data"][0]["value"] == approx(sum(values) / len(values))
    assert (gauge[0]["min"], gauge[0]["max"]) == approx((min(values), max(values)))
    assert gauge[1]["data"][0]["value"] == approx(sum(last_week) / len(last_week))

    hours = sorted(
        (h.hour, h.watts_sum / h.readings) for h in DATA.meter_hours if h.meter_id == METER
    )
    trend = option(page, CHART_TREND)["series"][0]["data"]
    assert [p[0] for p in trend] == [
        round(at.replace(tzinfo=timezone.utc).timestamp() * 1000) for at, _ in hours
    ]
    assert [p[1] for p in trend] == approx([w for _, w in hours])

    cards = kpis(page)
    assert float(cards["total-kwh"]) == approx(sum(values))
    assert float(cards["avg-watts"]) == approx(
        sum(r.watts_sum for r in mine) / sum(r.watts_readings for r in mine)
    )
    # And back to every meter: the marts' figures again.
    choose(page, "")
    assert float(kpis(page)["total-kwh"]) == approx(DATA.kpis.total_kwh)


def _card_figures(selected: list[MeterDay]) -> dict[str, float]:
    readings = sum(r.readings for r in selected)
    total = sum(r.kwh for r in selected)
    return {
        "total-kwh": total,
        "avg-daily-kwh": total / len({r.day for r in selected}),
        "avg-watts": sum(r.watts_sum for r in selected) / sum(r.watts_readings for r in selected),
        "avg-voltage": sum(r.voltage_sum for r in selected)
        / sum(r.voltage_readings for r in selected),
        "high-demand-pct": sum(r.high_demand for r in selected) / readings * 100,
        "anomaly-pct": sum(r.anomalies for r in selected) / readings * 100,
    }


def test_date_range_filter_changes_the_cards_and_the_charts(page: Page) -> None:
    start, end = date(2026, 1, 7), date(2026, 1, 9)
    before = kpis(page)
    choose(page, "", start.isoformat(), end.isoformat())
    after = kpis(page)
    expected = _card_figures(rows(None, start, end))
    for key, value in expected.items():
        assert float(after[key]) == approx(value), key
    assert float(after["total-kwh"]) < float(before["total-kwh"])
    sub = page.js("document.querySelector('[data-kpi=\"total-kwh\"] .sub').textContent")
    assert "3 days" in sub

    history = option(page, "target-daily-history")
    assert history["xAxis"][0]["data"] == ["2026-01-07", "2026-01-08", "2026-01-09"]
    trend = option(page, CHART_TREND)["series"][0]["data"]
    inside = [p for p in DATA.trend if start <= p.at.date() <= end]
    assert [p[1] for p in trend] == approx([p.avg_watts for p in inside])

    # Both slicers at once: one meter over the range.
    choose(page, METER, start.isoformat(), end.isoformat())
    both = kpis(page)
    for key, value in _card_figures(rows(METER, start, end)).items():
        assert float(both[key]) == approx(value), key


def test_filters_survive_a_reload(page: Page) -> None:
    """A live page (--refresh) reloads itself: the slicers come back from the URL's fragment."""
    choose(page, METER, "2026-01-07", "2026-01-09")
    assert page.js("location.hash") == f"#meter={METER}&from=2026-01-07&to=2026-01-09"
    page.reload()
    assert page.js("document.getElementById('meter-filter').value") == METER
    assert page.js("document.getElementById('date-from').value") == "2026-01-07"
    assert option(page, CHART_DAILY)["yAxis"][0]["data"] == [METER]
    cards = kpis(page)
    for key, value in _card_figures(rows(METER, date(2026, 1, 7), date(2026, 1, 9))).items():
        assert float(cards[key]) == approx(value), key
    page.js("window.smartgridDashboard.reset(); true")
    assert page.js("location.hash") == ""


def test_a_live_pages_own_refresh_keeps_the_filters(browser: Browser, tmp_path: Path) -> None:
    """`smartgrid report --refresh N` (live mode): the page's meta refresh keeps the slicers."""
    path = write_dashboard(render_dashboard(DATA, refresh_seconds=1), tmp_path / "live.html")
    p = browser.page(WIDTH, 1800)
    try:
        p.goto(path.as_uri())
        p.js("window.smartgridLoaded = true; true")
        choose(p, METER)
        p.wait_load()  # the refresh itself, a second after the first load
        assert p.js("window.smartgridLoaded === undefined"), "the page did not reload"
        assert p.js("document.getElementById('meter-filter').value") == METER
        assert option(p, CHART_DAILY)["yAxis"][0]["data"] == [METER]
        assert not p.errors, p.errors
    finally:
        p.close()


def _tooltip(page: Page, chart: str, series: int, index: int) -> str:
    """Show the tooltip of one data point (ECharts' showTip action) and read its text."""
    return page.js(
        "(async function () {"
        f" var el = document.querySelector('[data-echart=\"{chart}\"]');"
        f" echarts.getInstanceByDom(el).dispatchAction({{type: 'showTip', seriesIndex: {series},"
        f" dataIndex: {index}}});"
        # Wait for the tooltip's content (a condition, not a sleep); fail after 5 s.
        " var until = Date.now() + 5000;"
        " while (true) { var tip = el.querySelector('.sg-tooltip');"
        "   if (tip && tip.innerText.trim() && tip.style.display !== 'none') return tip.innerText;"
        "   if (Date.now() > until) throw new Error('no tooltip');"
        "   await new Promise(requestAnimationFrame); }"
        "})()"
    )


def kwh(value: float) -> str:
    return f"{value:,.3f}\u202fkWh"


def test_tooltips_show_exact_values(page: Page) -> None:
    third = DATA.daily[2]
    text = _tooltip(page, CHART_DAILY, 0, 2)
    assert third.meter_id in text and kwh(third.avg_daily_kwh) in text

    meter = DATA.daypart[1]
    text = _tooltip(page, CHART_DAYPART, 0, 1)
    assert meter.meter_id in text
    for part, value in meter.kwh:
        assert f"{part}: {kwh(value)}" in text
    assert f"Total: {kwh(meter.total_kwh)}" in text

    point = DATA.trend[5]
    text = _tooltip(page, CHART_TREND, 0, 5)
    assert f"{point.avg_watts:,.1f}\u202fW" in text
    assert f"{point.at:%Y-%m-%d %H:%M} UTC" in text

    text = _tooltip(page, CHART_TARGET, 1, 0)
    assert f"Rolling target: {kwh(DATA.target.rolling_target_kwh)}" in text

    # Filtered, the tooltip reads the meter's own figure.
    choose(page, METER)
    mine = rows(METER)
    text = _tooltip(page, CHART_DAILY, 0, 0)
    assert kwh(sum(r.kwh for r in mine) / len(mine)) in text


def test_empty_dashboard_loads_with_its_no_data_state(browser: Browser, tmp_path: Path) -> None:
    empty = DashboardData(
        generated_at=datetime(2026, 1, 12, tzinfo=timezone.utc), lake="lake", top_n=10
    )
    path = write_dashboard(render_dashboard(empty), tmp_path / "empty.html")
    p = browser.page(WIDTH, 1200)
    try:
        p.goto(path.as_uri())
        assert p.js("document.documentElement.getAttribute('data-dashboard-ready')") == "true"
        for name in VISUALS:
            assert option(p, name) is None, name
            text = p.js(f"document.querySelector('[data-chart=\"{name}\"]').innerText")
            assert "No data yet" in text, name
        assert not p.errors, p.errors
    finally:
        p.close()


def png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the (filtered) pixel data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_screenshot_is_saved(page: Page, artifacts_dir: Path) -> None:
    height = int(page.js("document.documentElement.getAttribute('data-page-height')"))
    assert 600 < height < 6000
    shot = artifacts_dir / "dashboard.png"
    shot.unlink(missing_ok=True)
    page.screenshot(shot, WIDTH, height)
    width, got_height, colours = png_size_and_colours(shot)
    assert (width, got_height) == (WIDTH, height)
    # A blank or single-colour page compresses to a handful of byte values.
    assert colours > 100


def test_per_meter_top_n_follows_the_selection(browser: Browser, tmp_path: Path) -> None:
    """With more meters than --top, the per-meter charts show the selection's own top N."""
    data = make_data(meters=12, days=4, top_n=5)
    path = write_dashboard(render_dashboard(data), tmp_path / "top.html")
    p = browser.page(WIDTH, 1800)
    try:
        p.goto(path.as_uri())
        totals: dict[str, float] = defaultdict(float)
        for r in data.meter_days:
            totals[r.meter_id] += r.kwh
        assert option(p, CHART_DAYPART)["xAxis"][0]["data"] == top(totals, 5)
        assert option(p, CHART_DAYPART)["xAxis"][0]["data"] == [m.meter_id for m in data.daypart]
        assert not p.errors, p.errors
    finally:
        p.close()
