"""`apiwh endpoints --org`, `apiwh incidents`, `apiwh versions` and `apiwh keys` as text: pure
functions of the rows in orchestration/reports/queries/reliability.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orchestration.reports.formatting import (
    NONE_TEXT,
    format_count,
    format_ms,
    format_rate,
    note,
    truncate,
)
from orchestration.reports.queries.reliability import (
    CustomerEndpoint,
    ErrorTypeCount,
    Incident,
    KeyActivity,
    VersionAdoption,
    VersionCustomer,
    window_start,
)
from orchestration.reports.table import render_table

SORT_TITLES = {"calls": "calls", "p95": "p95 latency", "p99": "p99 latency", "errors": "error rate"}


def _span(as_of: dt.date, days: int = 30) -> str:
    return f"{window_start(as_of, days).isoformat()} .. {as_of.isoformat()} (as-of date)"


def _times(value: float | None) -> str:
    """A ratio as "12.0x"; "-" for none."""
    return NONE_TEXT if value is None else f"{value:,.1f}x"


def _median(value: float | None) -> str:
    return NONE_TEXT if value is None else f"{value:,.1f}".removesuffix(".0")


def _when(at: dt.datetime | None) -> str:
    return NONE_TEXT if at is None else at.strftime("%Y-%m-%d %H:%M")


def render_customer_endpoints(
    endpoints: Sequence[CustomerEndpoint],
    *,
    org: str,
    as_of: dt.date,
    sort: str,
    error_types: Sequence[ErrorTypeCount] = (),
) -> str:
    title = f"Endpoints of {org} over 30 days, {_span(as_of)}, by {SORT_TITLES[sort]}"
    if not endpoints:
        return f"{title}\nNo call from {org} in that window."
    header = ["METHOD", "ROUTE", "CALLS", "SHARE", "P50 MS", "P95 MS", "P99 MS", "ERROR RATE", "5XX RATE"]
    header += ["AUTH ERR", "LAST CALL"]
    body = [
        [
            endpoint.method,
            truncate(endpoint.route, 48),
            format_count(endpoint.calls_30d),
            format_rate(endpoint.share_of_org_calls_30d),
            format_ms(endpoint.latency_p50_30d_ms),
            format_ms(endpoint.latency_p95_30d_ms),
            format_ms(endpoint.latency_p99_30d_ms),
            format_rate(endpoint.error_rate_30d),
            format_rate(endpoint.server_error_rate_30d),
            format_count(endpoint.auth_errors_30d),
            _when(endpoint.last_call_at),
        ]
        for endpoint in endpoints
    ]
    lines = [title, *render_table(header, body, align="llrrrrrrrrl")]
    lines.append(note("SHARE: this route's part of the customer's calls. Latency: exact over the window."))
    if error_types:
        failed = ", ".join(
            f"{kind.status_class} {kind.error_type} {format_count(kind.failed_calls)}" for kind in error_types
        )
        lines.append(note(f"Failed calls by error type, 30 days: {failed}."))
    return "\n".join(lines)


def render_incidents(incidents: Sequence[Incident], *, as_of: dt.date, days: int, scope: str | None) -> str:
    which = f"{scope.capitalize()} incidents" if scope else "Incidents"
    title = f"{which} (routes degraded against their 28-day baseline), {_span(as_of, days)}"
    if not incidents:
        return f"{title}\nNo route degraded in that window."
    header = ["DAY", "METHOD", "ROUTE", "KIND", "CALLS", "P95 MS", "BASELINE", "5XX RATE", "BASELINE"]
    header += ["CUSTOMERS HIT", "SCOPE"]
    body = [
        [
            incident.usage_date.isoformat(),
            incident.method,
            truncate(incident.route, 40),
            incident.kind,
            format_count(incident.calls),
            format_ms(incident.latency_p95_ms),
            format_ms(incident.baseline_latency_p95_ms),
            format_rate(incident.server_error_rate),
            format_rate(incident.baseline_server_error_rate),
            format_count(incident.affected_customers),
            incident.scope,
        ]
        for incident in incidents
    ]
    lines = [title, *render_table(header, body, align="llllrrrrrrl")]
    lines.append(
        note(
            "CUSTOMERS HIT: organizations that got a 5xx or waited over 3x the baseline p95 on that"
            " route that day; widespread (3 or more) raises an endpoint_degradation alert on the as-of date."
        )
    )
    return "\n".join(lines)


def render_version_adoption(versions: Sequence[VersionAdoption], *, as_of: dt.date) -> str:
    title = f"API versions over 30 days, {_span(as_of)}"
    if not versions:
        return f"{title}\nNo call in that window."
    first = window_start(as_of)
    first_week = f"{first:%m-%d}..{first + dt.timedelta(days=6):%m-%d}"
    last_week = f"{window_start(as_of, 7):%m-%d}..{as_of:%m-%d}"
    header = ["API VERSION", "CUSTOMERS", "CALLS", "SHARE", f"SHARE {first_week}", f"SHARE {last_week}"]
    body = [
        [
            version.api_version,
            format_count(version.customers_30d),
            format_count(version.calls_30d),
            format_rate(version.share_of_calls_30d),
            format_rate(version.share_first_week),
            format_rate(version.share_last_week),
        ]
        for version in versions
    ]
    lines = [title, *render_table(header, body, align="lrrrrr")]
    lines.append(note("Who still calls a version: apiwh versions --version VERSION."))
    return "\n".join(lines)


def render_version_customers(
    customers: Sequence[VersionCustomer], *, api_version: str, as_of: dt.date
) -> str:
    title = f"Customers calling API version {api_version} over 30 days, {_span(as_of)}, most calls first"
    if not customers:
        return f"{title}\nNo customer called {api_version} in that window."
    header = ["ORGANIZATION", "CALLS", "SHARE OF ITS CALLS", "FIRST CALL", "LAST CALL"]
    body = [
        [
            truncate(customer.organization_id),
            format_count(customer.calls_30d),
            format_rate(customer.share_of_org_calls_30d),
            _when(customer.first_call_at),
            _when(customer.last_call_at),
        ]
        for customer in customers
    ]
    lines = [title, *render_table(header, body, align="lrrll")]
    fully = sum(1 for customer in customers if customer.share_of_org_calls_30d >= 0.999)
    lines.append(
        note(
            f"{format_count(len(customers))} customer(s) shown; {format_count(fully)} call only"
            f" {api_version} (first and last call over all history)."
        )
    )
    return "\n".join(lines)


def _flags(key: KeyActivity) -> str:
    flags = []
    if key.usage_spike_days:
        flags.append(f"usage spike on {key.usage_spike_days} day(s), last {key.last_usage_spike}")
    if key.ip_spread_days:
        flags.append(f"IP spread on {key.ip_spread_days} day(s), last {key.last_ip_spread}")
    return "; ".join(flags) or NONE_TEXT


def render_keys(keys: Sequence[KeyActivity], *, org: str, as_of: dt.date) -> str:
    title = f"API keys of {org} over 30 days, {_span(as_of)}; figures of each key's last day with calls"
    if not keys:
        return f"{title}\nNo key of {org} made a call in that window."
    header = ["KEY", "CALLS", "DAYS", "LAST DAY", "CALLS THAT DAY", "USUAL/DAY", "SPIKE", "IPS THAT DAY"]
    header += ["USUAL IPS", "COUNTRIES", "AUTH ERR", "NEW ROUTES", "FLAGS"]
    body = [
        [
            truncate(key.api_key_id),
            format_count(key.calls_30d),
            str(key.active_days_30d),
            key.last_day.isoformat(),
            format_count(key.last_day_calls),
            _median(key.median_calls_prior_28d),
            _times(key.spike_ratio),
            format_count(key.last_day_ip_hashes),
            _median(key.median_ip_hashes_prior_28d),
            str(key.max_countries_30d),
            format_count(key.auth_errors_30d),
            format_count(key.new_routes_30d),
            _flags(key),
        ]
        for key in keys
    ]
    lines = [title, *render_table(header, body, align="lrrlrrrrrrrrl")]
    lines.append(
        note(
            "USUAL/DAY and USUAL IPS: the key's median over the 28 days before (- with fewer than 7)."
            " A usage spike is 1,000+ calls at 10x the usual; an IP spread is 25+ IP addresses at 5x"
            " the usual. Each raises an alert (usage_spike, key_sharing_suspect) on the as-of date."
        )
    )
    return "\n".join(lines)
