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
    ErrorType,
    Incident,
    IncidentCustomer,
    KeyActivity,
    KeyDay,
    VersionCustomer,
    window_start,
)
from orchestration.reports.table import fit, render_table

SORT_TITLES = {"calls": "calls", "p95": "p95 latency", "p99": "p99 latency", "errors": "error rate"}

# Where the version was read (version_source: header or path), as a title says it.
VERSION_SOURCE_WORDS = {
    "header": "read from the api.version header",
    "path": "read from the path (/v1/... is v1)",
}


# What the keys' columns and flags mean (marts.key_daily_activity, docs/contract.md 2b).
KEY_FLAGS_NOTE = (
    "USUAL/DAY and USUAL IPS: the key's median over the 28 days before (- with fewer than 7)."
    " A usage spike is 1,000+ calls at 10x the usual; an IP spread is 25+ IP addresses at 5x"
    " the usual. Each raises an alert (usage_spike, key_sharing_suspect) on the as-of date."
)


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
    error_types: Sequence[ErrorType] = (),
) -> str:
    title = (
        f"Endpoints of {org} over 30 days, {_span(as_of)} (marts.customer_endpoint_30d),"
        f" by {SORT_TITLES[sort]}"
    )
    if not endpoints:
        return f"{title}\nNo call from {org} in that window."
    header = ["METHOD", "ROUTE", "CALLS", "SHARE", "DAYS", "P50 MS", "P95 MS", "P99 MS", "ERROR RATE"]
    header += ["5XX RATE", "FAILED", "5XX", "AUTH ERR", "LAST CALL"]
    body = [
        [
            endpoint.method,
            truncate(endpoint.route, 48),
            format_count(endpoint.calls_30d),
            format_rate(endpoint.share_of_org_calls_30d),
            str(endpoint.active_days_30d),
            format_ms(endpoint.latency_p50_30d_ms),
            format_ms(endpoint.latency_p95_30d_ms),
            format_ms(endpoint.latency_p99_30d_ms),
            format_rate(endpoint.error_rate_30d),
            format_rate(endpoint.server_error_rate_30d),
            format_count(endpoint.failed_calls_30d),
            format_count(endpoint.server_errors_30d),
            format_count(endpoint.auth_errors_30d),
            _when(endpoint.last_call_at),
        ]
        for endpoint in endpoints
    ]
    lines = [fit(title), *render_table(header, body, align="llrrrrrrrrrrrl")]
    lines.append(
        note(
            "SHARE: this route's part of the customer's calls. P95 MS: p95 over the 30 days' calls"
            " (P50, P99 likewise), exact."
        )
    )
    if error_types:
        failed = ", ".join(
            f"{kind.status_class} {kind.error_type} {format_count(kind.failed_calls_30d)}"
            for kind in error_types
        )
        lines.append(note(f"Failed calls by error type, 30 days (marts.error_breakdown_30d): {failed}."))
    return "\n".join(lines)


def render_incidents(
    incidents: Sequence[Incident],
    customers: Sequence[IncidentCustomer],
    *,
    as_of: dt.date,
    days: int,
    scope: str | None,
    org: str | None = None,
) -> str:
    """Each incident, with the customers it hit indented under it."""
    which = f"{scope.capitalize()} incidents" if scope else "Incidents"
    hitting = f" that hit {org}" if org else ""
    title = f"{which}{hitting} (routes degraded against their 28-day baseline), {_span(as_of, days)}"
    if not incidents:
        return f"{title}\nNo route degraded in that window."
    hit: dict[tuple[str, str, dt.date], list[IncidentCustomer]] = {}
    for customer in customers:
        hit.setdefault((customer.route, customer.method, customer.usage_date), []).append(customer)
    header = ["DAY", "METHOD", "ROUTE", "KIND", "CALLS", "P95 MS", "BASELINE", "5XX RATE", "BASELINE"]
    header += ["CUSTOMERS HIT", "SCOPE"]
    sub_header = ["", "", "  ORGANIZATION", "", "CALLS", "P95 MS", "", "5XX", "SLOW CALLS", "", ""]
    body: list[list[str]] = []
    for incident in incidents:
        body.append(
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
        )
        its_customers = hit.get((incident.route, incident.method, incident.usage_date), [])
        if its_customers:
            body.append(sub_header)
        for customer in its_customers:
            mark = " *" if customer.organization_id == org else ""
            body.append(
                [
                    "",
                    "",
                    "  " + truncate(customer.organization_id) + mark,
                    "",
                    format_count(customer.calls),
                    format_ms(customer.latency_p95_ms),
                    "",
                    format_count(customer.server_errors),
                    format_count(customer.slow_calls),
                    "",
                    "",
                ]
            )
    lines = [fit(title), *render_table(header, body, align="llllrrrrrrl")]
    lines.append(
        note(
            "CUSTOMERS HIT: organizations that got a 5xx or waited over 3x the baseline p95 on that"
            " route that day (listed under it, from marts.endpoint_incident_customers: their calls, p95,"
            " 5xx and slow calls); widespread (3 or more) raises an endpoint_degradation alert on the"
            " as-of date." + (f" *: {org}." if org else "")
        )
    )
    return "\n".join(lines)


def render_version_customers(
    customers: Sequence[VersionCustomer], *, version_source: str, api_version: str | None, as_of: dt.date
) -> str:
    """Who called each API version of a source (or one), from marts.api_version_exposure
    (header) or api_path_version_exposure (path)."""
    which = f"API version {api_version}" if api_version else "each API version"
    title = (
        f"Customers calling {which}, {VERSION_SOURCE_WORDS[version_source]}, over 30 days,"
        f" {_span(as_of)}, most calls first"
    )
    if not customers:
        return f"{title}\nNo customer called {api_version or 'the API'} in that window."
    header = ["API VERSION", "ORGANIZATION", "CALLS", "SHARE OF ITS CALLS", "FIRST CALL", "LAST CALL"]
    body = [
        [
            customer.api_version,
            truncate(customer.organization_id),
            format_count(customer.calls_30d),
            format_rate(customer.share_of_org_calls_30d),
            _when(customer.first_call_at),
            _when(customer.last_call_at),
        ]
        for customer in customers
    ]
    lines = [fit(title), *render_table(header, body, align="llrrll")]
    other = (
        "A path's version: apiwh versions --source path (or --version v1)."
        if version_source == "header"
        else "The api.version header: apiwh versions --source header."
    )
    lines.append(
        note(
            "SHARE OF ITS CALLS: the version's part of the customer's calls in the 30 days (100.0%: it"
            f" calls only this version). First and last call over all history. {other}"
        )
    )
    return "\n".join(lines)


def _day_flags(day: KeyDay) -> str:
    flags = []
    if day.is_usage_spike:
        flags.append("usage spike")
    if day.is_ip_spread:
        flags.append("IP spread")
    return ", ".join(flags) or NONE_TEXT


def _key_flags(key: KeyActivity) -> str:
    """The days key_daily_activity flagged, as marts.key_activity_30d counts them."""
    flags = []
    if key.spike_days_30d:
        flags.append(f"usage spike on {key.spike_days_30d} day(s), last {key.last_spike_date}")
    if key.ip_spread_days_30d:
        flags.append(f"IP spread on {key.ip_spread_days_30d} day(s), last {key.last_ip_spread_date}")
    return "; ".join(flags) or NONE_TEXT


def render_keys(keys: Sequence[KeyActivity], *, org: str, as_of: dt.date) -> str:
    """One line per key, from marts.key_activity_30d."""
    title = f"API keys of {org} over 30 days, {_span(as_of)}; figures of each key's last day with calls"
    if not keys:
        return f"{title}\nNo key of {org} made a call in that window."
    header = ["KEY", "CALLS", "DAYS", "LAST DAY", "CALLS THAT DAY", "USUAL/DAY", "SPIKE", "IPS THAT DAY"]
    header += ["USUAL IPS", "COUNTRIES", "AUTH ERR", "FAILED", "NEW ROUTES", "FLAGS"]
    body = [
        [
            truncate(key.api_key_id),
            format_count(key.calls_30d),
            str(key.active_days_30d),
            key.last_call_date.isoformat(),
            format_count(key.last_day_calls),
            _median(key.last_day_median_calls_prior_28d),
            _times(key.last_day_spike_ratio),
            format_count(key.last_day_distinct_ip_hashes),
            _median(key.last_day_median_ip_hashes_prior_28d),
            str(key.max_distinct_countries_30d),
            format_count(key.auth_errors_30d),
            format_count(key.failed_calls_30d),
            format_count(key.new_routes_30d),
            _key_flags(key),
        ]
        for key in keys
    ]
    lines = [fit(title), *render_table(header, body, align="lrrlrrrrrrrrrl")]
    lines.append(
        note(f"{KEY_FLAGS_NOTE} COUNTRIES: the most on one day. Day by day: apiwh keys --org {org} --daily.")
    )
    return "\n".join(lines)


def render_key_days(days: Sequence[KeyDay], *, org: str, as_of: dt.date) -> str:
    title = f"API keys of {org}, day by day over 30 days, {_span(as_of)}, the newest day first"
    if not days:
        return f"{title}\nNo key of {org} made a call in that window."
    header = ["DAY", "KEY", "CALLS", "USUAL/DAY", "SPIKE", "IPS", "USUAL IPS", "COUNTRIES", "AUTH ERR"]
    header += ["FAILED", "NEW ROUTES", "FLAGS"]
    body = [
        [
            day.usage_date.isoformat(),
            truncate(day.api_key_id),
            format_count(day.calls),
            _median(day.median_calls_prior_28d),
            _times(day.spike_ratio),
            format_count(day.distinct_ip_hashes),
            _median(day.median_ip_hashes_prior_28d),
            str(day.distinct_countries),
            format_count(day.auth_errors),
            format_count(day.failed_calls),
            format_count(day.new_routes),
            _day_flags(day),
        ]
        for day in days
    ]
    lines = [fit(title), *render_table(header, body, align="llrrrrrrrrrl")]
    lines.append(note(f"{KEY_FLAGS_NOTE} --limit shows more days (all with --format csv or json)."))
    return "\n".join(lines)
