"""Charts as Vega-Lite specifications, drawn as SVG here (vl-convert, no network, in a worker
process: chart_batch.py) or in the reader's browser.

Each builder takes plain rows and returns a specification. `ChartBatch.svg` draws it here: the
overview pages and the customer report open from a folder or an email attachment, print to PDF
as they look and need no script. `embedded` leaves it to the browser: a customer page carries its three
specifications and the site's `vega-charts.js` (Vega, Vega-Lite and vega-embed, the bundle
vl-convert ships) draws them when the page opens. vl-convert draws about 0.1 CPU-s per chart,
one at a time, so drawing every customer's charts here would be most of a daily refresh with
thousands of customers; in the browser it costs nothing until someone opens the page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import vl_convert
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from orchestration.settings import user_cache_dir

Spec = dict[str, Any]
# Written beside the pages by the site builder; customer pages load it from the site's root.
BUNDLE_FILE = "vega-charts.js"
WIDTH = 620
HEIGHT = 160
PALETTE = {
    "2xx": "#4c78a8",
    "3xx": "#72b7b2",
    "successful": "#4c78a8",
    "4xx": "#f58518",
    "5xx": "#e45756",
    "p50": "#54a24b",
    "p95": "#f58518",
    "p99": "#e45756",
}
_DAY = {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": None}
_CONFIG = {
    "font": "Helvetica, Arial, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 11, "grid": True, "gridColor": "#eee"},
    "legend": {"orient": "top", "labelFontSize": 11, "title": None},
}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str) or value is None:
        return value
    return float(value)


def _values(rows: Sequence[dict[str, Any]], fields: dict[str, str]) -> list[dict[str, Any]]:
    """Only the named fields, renamed: nothing else of a row reaches the chart."""
    return [{name: _plain(row[source]) for name, source in fields.items()} for row in rows]


def _chart(spec: Spec) -> Spec:
    """The specification with the look every chart shares."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": _CONFIG,
        "background": "white",
        **spec,
    }


# A control character as json.dumps writes it (ensure_ascii): \\uNNNN or a short escape, after
# any run of backslashes (an even run is escaped backslashes, not the start of an escape).
_JSON_CONTROL = re.compile(r"(\\+)(u00[01][0-9a-f]|u007f|u00[89][0-9a-f]|u202[a-e]|u206[6-9]|[bfnrt])")
_SHORT_ESCAPES = {"b": 8, "t": 9, "n": 10, "f": 12, "r": 13}


def _visible_escape(match: re.Match[str]) -> str:
    backslashes, escape = match.groups()
    if len(backslashes) % 2 == 0:
        return match.group(0)
    code = _SHORT_ESCAPES.get(escape) or int(escape[1:], 16)
    shown = f"x{code:02x}" if code < 0x100 else f"u{code:04x}"
    return backslashes[:-1] + "\\\\" + shown


def _printable_dumps(value: Any, **kwargs: Any) -> str:
    """JSON in which every string shows its control characters as \\xNN (printable), so no
    chart label carries one to vl-convert or the browser. One regex over the JSON text: much
    cheaper than walking each of the 27,000 customer pages' specifications."""
    return _JSON_CONTROL.sub(_visible_escape, json.dumps(value, **kwargs))


def spec_json(spec: Spec) -> str:
    """The specification as JSON, control characters made visible."""
    return _printable_dumps(spec)


def embedded(spec: Spec) -> Markup:
    """The specification as a JSON script element, for the page's vega-charts.js to draw."""
    json_text = htmlsafe_json_dumps(spec, dumps=_printable_dumps)
    return Markup(f'<script type="application/json" class="chart-spec">{json_text}</script>')


def javascript_bundle(previous: Path | None = None) -> str:
    """Vega, Vega-Lite and vega-embed in one script, from the installed vl-convert (offline).

    Bundling takes vl-convert about 2 CPU-s, so a script written by the same vl-convert version
    (its first line says which) is reused: the one `previous` holds, else the user's cache
    (bundle_cache_file), which every new dashboard folder would otherwise pay for again.
    """
    first_line = f"// vega-charts from vl-convert {vl_convert.__version__}\n"
    cache = bundle_cache_file()
    for kept in [path for path in (previous, cache) if path is not None]:
        try:
            with kept.open(encoding="utf-8") as file:
                if file.readline() == first_line:
                    return first_line + file.read()
        except OSError:
            pass  # none kept, or unreadable: try the next, or bundle it afresh
    bundle = first_line + vl_convert.javascript_bundle()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        staged = cache.with_name(f".{cache.name}.{os.getpid()}")
        staged.write_text(bundle, encoding="utf-8")
        os.replace(staged, cache)  # whole or absent for a reader running meanwhile
    except OSError:
        pass  # a read-only home: the next new folder bundles again, nothing else changes
    return bundle


def bundle_cache_file() -> Path:
    """The user's copy of the bundle, one per vl-convert version."""
    return user_cache_dir() / f"vega-charts-{vl_convert.__version__}.js"


def _colors(names: Sequence[str]) -> dict[str, Any]:
    return {"domain": list(names), "range": [PALETTE[name] for name in names]}


def stacked_daily_calls(rows: Sequence[dict[str, Any]], classes: dict[str, str], *, title: str) -> Spec:
    """Calls per day as bars stacked by status class; classes maps a label to a column."""
    values = [
        {"day": _plain(row["usage_date"]), "class": label, "calls": int(row[column] or 0)}
        for row in rows
        for label, column in classes.items()
    ]
    return _chart(
        {
            "title": title,
            "width": WIDTH,
            "height": HEIGHT,
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "x": _DAY,
                "y": {"field": "calls", "type": "quantitative", "title": "calls", "stack": True},
                "color": {"field": "class", "type": "nominal", "scale": _colors(list(classes))},
                "order": {"field": "class"},
            },
        }
    )


def daily_line(
    rows: Sequence[dict[str, Any]], series: dict[str, str], *, title: str, y_title: str, percent: bool = False
) -> Spec:
    """One line per series over the days (null days leave a gap)."""
    values = [
        {"day": _plain(row["usage_date"]), "series": label, "value": _plain(row[column])}
        for row in rows
        for label, column in series.items()
    ]
    y: dict[str, Any] = {"field": "value", "type": "quantitative", "title": y_title}
    if percent:
        y["axis"] = {"format": ".0%"}
    encoding: dict[str, Any] = {"x": _DAY, "y": y}
    if len(series) > 1:
        encoding["color"] = {
            "field": "series",
            "type": "nominal",
            "scale": _colors(list(series)) if all(s in PALETTE for s in series) else {},
        }
    return _chart(
        {
            "title": title,
            "width": WIDTH,
            "height": HEIGHT,
            "data": {"values": values},
            "mark": {"type": "line", "point": {"size": 12}},
            "encoding": encoding,
        }
    )


def sparkline(rows: Sequence[dict[str, Any]]) -> Spec:
    """Daily calls as a small area, no axes (the customers table)."""
    return _chart(
        {
            "width": 120,
            "height": 22,
            "padding": 1,
            "data": {"values": _values(rows, {"day": "usage_date", "calls": "calls"})},
            "mark": {"type": "area", "line": {"color": "#4c78a8"}, "color": "#c6dbef"},
            "encoding": {
                "x": {**_DAY, "axis": None},
                "y": {"field": "calls", "type": "quantitative", "axis": None},
            },
        }
    )


def quota_projection(month_rows: Sequence[dict[str, Any]], *, month_end: dt.date, title: str) -> Spec:
    """Calls used this month by day, a dashed projection to the month's end, the cap as a rule."""
    used = [
        {"day": _plain(row["usage_date"]), "calls": int(row["used_mtd"]), "kind": "used"}
        for row in month_rows
    ]
    last = month_rows[-1]
    projection = [
        {"day": _plain(last["usage_date"]), "calls": int(last["used_mtd"]), "kind": "projected"},
        {"day": month_end.isoformat(), "calls": int(last["projected_eom"]), "kind": "projected"},
    ]
    cap = [{"cap": int(last["monthly_call_limit"])}]
    return _chart(
        {
            "title": title,
            "width": WIDTH,
            "height": HEIGHT,
            "layer": [
                {
                    "data": {"values": used + projection},
                    "mark": {"type": "line", "point": {"size": 12}},
                    "encoding": {
                        "x": {**_DAY, "scale": {"domain": [used[0]["day"], month_end.isoformat()]}},
                        "y": {"field": "calls", "type": "quantitative", "title": "calls this month"},
                        "strokeDash": {
                            "field": "kind",
                            "type": "nominal",
                            "scale": {"domain": ["used", "projected"], "range": [[1, 0], [6, 4]]},
                        },
                        "color": {
                            "field": "kind",
                            "type": "nominal",
                            "scale": {"domain": ["used", "projected"], "range": ["#4c78a8", "#f58518"]},
                        },
                    },
                },
                {
                    "data": {"values": cap},
                    "mark": {"type": "rule", "color": "#e45756", "strokeWidth": 2},
                    "encoding": {"y": {"field": "cap", "type": "quantitative"}},
                },
            ],
        }
    )


def cap_bars(accounts: Sequence[dict[str, Any]], *, label: str, title: str) -> Spec:
    """Per account, the month's calls used now and projected at its end (marts.quota_outlook's
    used_mtd and projected_eom), with the account's quota as a tick."""
    values = []
    for account in accounts:
        values.append({"account": account[label], "when": "used now", "calls": _plain(account["used_mtd"])})
        values.append(
            {"account": account[label], "when": "projected", "calls": _plain(account["projected_eom"])}
        )
    caps = [{"account": account[label], "cap": _plain(account["monthly_call_limit"])} for account in accounts]
    y = {"field": "account", "type": "nominal", "sort": None, "title": None}
    return _chart(
        {
            "title": title,
            "width": WIDTH,
            "layer": [
                {
                    "data": {"values": values},
                    "mark": {"type": "bar"},
                    "encoding": {
                        "y": y,
                        "yOffset": {"field": "when"},
                        "x": {"field": "calls", "type": "quantitative", "title": "calls this month"},
                        "color": {
                            "field": "when",
                            "type": "nominal",
                            "scale": {"domain": ["used now", "projected"], "range": ["#4c78a8", "#f58518"]},
                        },
                    },
                },
                {
                    "data": {"values": caps},
                    "mark": {"type": "tick", "color": "#e45756", "thickness": 3},
                    "encoding": {"y": y, "x": {"field": "cap", "type": "quantitative"}},
                },
            ],
        }
    )


def heatmap(
    values: Sequence[dict[str, Any]],
    *,
    x: dict[str, Any],
    y: dict[str, Any],
    color: dict[str, Any],
    title: str,
    width: int = WIDTH,
    label_format: str | None = None,
) -> Spec:
    """Cells coloured by a value; callers pass the encodings (fields already plain).

    `label_format` (a d3 format such as ".0%") writes each cell's value in it too, white on the
    darker half of a 0-to-1 scale, so the figures read without the legend.
    """
    x = {**x, "axis": {**(x.get("axis") or {}), "grid": False}}
    y = {**y, "axis": {**(y.get("axis") or {}), "grid": False}}
    cells = {"mark": {"type": "rect"}, "encoding": {"color": color}}
    layers = [cells]
    if label_format:
        dark = f"datum['{color['field']}'] > 0.6"
        text = {"field": color["field"], "type": "quantitative", "format": label_format}
        ink = {"condition": {"test": dark, "value": "white"}, "value": "#222"}
        layers.append({"mark": {"type": "text", "fontSize": 9}, "encoding": {"text": text, "color": ink}})
    return _chart(
        {
            "title": title,
            "width": width,
            "data": {"values": list(values)},
            "encoding": {"x": x, "y": y},
            "layer": layers,
        }
    )


def endpoint_heatmap(
    rows: Sequence[dict[str, Any]], *, field: str, title: str, percent: bool = False
) -> Spec:
    values = _values(rows, {"endpoint": "endpoint", "day": "usage_date", "value": field})
    legend = {"format": ".0%"} if percent else {}
    return heatmap(
        values,
        x={"field": "day", "type": "ordinal", "title": None, "axis": {"labelAngle": -60}},
        y={"field": "endpoint", "type": "nominal", "title": None},
        color={
            "field": "value",
            "type": "quantitative",
            "title": None,
            "scale": {"scheme": "orangered"},
            "legend": legend,
        },
        title=title,
    )


def retention_heatmap(rows: Sequence[dict[str, Any]], *, title: str) -> Spec:
    values = _values(
        rows,
        {"cohort": "cohort_week", "week": "weeks_since_signup", "rate": "retention_rate"},
    )
    return heatmap(
        values,
        x={"field": "week", "type": "ordinal", "title": "weeks since signup"},
        y={"field": "cohort", "type": "ordinal", "title": "cohort week"},
        color={
            "field": "rate",
            "type": "quantitative",
            "title": None,
            "scale": {"scheme": "blues", "domain": [0, 1]},
            "legend": {"format": ".0%"},
        },
        title=title,
        width=480,
        label_format=".0%",
    )


def funnel_bars(rows: Sequence[dict[str, Any]], steps: dict[str, str], *, title: str) -> Spec:
    """Per cohort week, how many keys reached each step (grouped bars)."""
    values = [
        {"cohort": _plain(row["cohort_week"]), "step": label, "keys": int(row[column] or 0)}
        for row in rows
        for label, column in steps.items()
    ]
    return _chart(
        {
            "title": title,
            "width": WIDTH,
            "height": HEIGHT,
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "x": {"field": "cohort", "type": "ordinal", "title": "cohort week"},
                "xOffset": {"field": "step", "sort": list(steps)},
                "y": {"field": "keys", "type": "quantitative", "title": "keys"},
                "color": {"field": "step", "type": "nominal", "sort": list(steps)},
            },
        }
    )
