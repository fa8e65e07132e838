"""The local dashboard: curated Delta tables -> one self-contained HTML page.

``load`` is the only module that touches Spark; ``render`` and ``charts`` turn plain data
(``model``) into HTML and SVG; ``columns`` names every table and column read, for the
dashboard and the Power BI kit alike.
"""
