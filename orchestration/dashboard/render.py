"""The Jinja2 environment and the header every page carries (as-of date, refresh, health)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from orchestration.dashboard import words
from orchestration.reports.table import printable

NAV = (
    ("index.html", "Overview"),
    ("customers.html", "Customers"),
    ("quota.html", "Quota"),
    ("endpoints.html", "Endpoints"),
    ("onboarding.html", "Onboarding"),
)


def _page_text(value: Any) -> Any:
    """Every `{{ value }}` of a template: text from the data shows its control characters as
    \\xNN (HTML escaping, done after this, leaves them raw). Markup (charts) is ours."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value, keep_whitespace=True)
    return value


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("orchestration.dashboard", "templates"),
        autoescape=True,
        finalize=_page_text,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def header(health: dict[str, Any], *, generated_at: dt.datetime | None) -> dict[str, Any]:
    """Template variables of the header: as-of date, data refresh time, data health."""
    # The mart decides (marts.data_health.needs_attention): a failed file or a share of rejects.
    bad = bool(health) and bool(health["needs_attention"])
    return {
        "as_of": words.format_day(health.get("as_of_date")),
        "refreshed": words.format_day(health.get("last_loaded_at")),
        "generated": words.format_day(generated_at) if generated_at else None,
        "health_text": words.health_line(health),
        "health_bad": bad,
    }


def render_page(template: str, **context: Any) -> str:
    context.setdefault("heading", None)
    context.setdefault("nav", NAV)
    context.setdefault("root", "")
    return environment().get_template(template).render(**context)
