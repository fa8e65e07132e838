"""Reading and driving the dashboard page in Chromium (over tests/dashboard/cdp.py)."""

from __future__ import annotations

import json

from cdp import Page


def option(page: Page, chart: str) -> dict:
    """The ECharts option of a visual, as the page holds it now."""
    return page.js(
        f"(function () {{ var el = document.querySelector('[data-echart=\"{chart}\"]');"
        " var c = el && echarts.getInstanceByDom(el); if (!c) return null;"
        " return JSON.parse(JSON.stringify(c.getOption())); })()"
    )


def kpis(page: Page) -> dict[str, str]:
    return page.js(
        "(function () { var out = {}; document.querySelectorAll('[data-kpi]').forEach("
        "function (el) { out[el.dataset.kpi] = el.dataset.value; }); return out; })()"
    )


def choose(page: Page, meter: str = "", start: str | None = None, end: str | None = None) -> None:
    """Set the slicers as a user would and fire their change events."""
    js = [f"document.getElementById('meter-filter').value = {json.dumps(meter)};"]
    if start is not None:
        js.append(f"document.getElementById('date-from').value = {json.dumps(start)};")
    if end is not None:
        js.append(f"document.getElementById('date-to').value = {json.dumps(end)};")
    js.append(
        "['meter-filter', 'date-from', 'date-to'].forEach(function (id) {"
        " document.getElementById(id).dispatchEvent(new Event('change')); }); true"
    )
    assert page.js(" ".join(js)) is True
