"""The local dashboard: curated Delta tables -> one self-contained HTML page.

``load`` is the only module that touches Spark; ``render`` turns plain data (``model``) into the
page: HTML, the data as JSON, Apache ECharts (fetched once by ``vendor``) and ``app.js`` inline,
which draws the charts and applies the meter and date filters in the browser. ``columns`` names
every table and column read, for the dashboard and the Power BI kit alike.
"""
