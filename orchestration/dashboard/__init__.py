"""The static dashboard and the customer usage report (docs/design.md "Reports are data products").

Figures come from the published snapshot's marts (SQL in queries.py), sentences from words.py,
charts from charts.py (Vega-Lite: drawn to SVG offline, or by the browser on customer pages),
pages from Jinja2 templates.
"""
