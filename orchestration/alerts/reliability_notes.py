"""The words of the reliability alerts (docs/contract.md 2b): title, figures and drafted note of
usage_spike, key_sharing_suspect, integration_failing and endpoint_degradation, laid out from the
figures the SQL put in `detail`. Used by render.py; no Dagster, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestration.alerts.formatting import iso, number, pct
from orchestration.alerts.ledger import Alert


def endpoint(item: dict[str, Any]) -> str:
    return f"{item.get('method')} {item.get('route')}"


def reliability_title(alert: Alert) -> str | None:
    d, org = alert.detail, alert.organization_id
    if alert.alert_type == "usage_spike":
        return (
            f"{org}: key {d.get('api_key_id')} made {number(d.get('calls'))} calls on "
            f"{iso(alert.as_of_date)}, {number(d.get('spike_ratio'))}x its usual day"
        )
    if alert.alert_type == "key_sharing_suspect":
        return (
            f"{org}: key {d.get('api_key_id')} was used from {number(d.get('distinct_ip_hashes'))} "
            f"IP addresses in {number(d.get('distinct_countries'))} countries on {iso(alert.as_of_date)}"
        )
    if alert.alert_type == "integration_failing":
        return (
            f"{org}: {pct(d.get('error_rate_7d'))} of calls failed in the last 7 days "
            f"({number(d.get('failed_calls_7d'))} of {number(d.get('calls_7d'))})"
        )
    if alert.alert_type == "endpoint_degradation":
        return (
            f"{endpoint(d)} degraded ({d.get('kind')}) on {iso(alert.as_of_date)}: "
            f"{number(d.get('affected_customers'))} customers hit"
        )
    return None


def _spike_figures(d: dict[str, Any]) -> list[tuple[str, str]]:
    routes = ", ".join(
        f"{endpoint(r)} {number(r.get('calls'))} (usual day {number(r.get('avg_daily_calls_prior_28d'))})"
        for r in d.get("top_routes") or []
    )
    return [
        ("Key", str(d.get("api_key_id"))),
        ("Calls on the day", number(d.get("calls"))),
        ("Median day, 28 days before", number(d.get("median_calls_prior_28d"))),
        ("Spike ratio", f"{number(d.get('spike_ratio'))}x"),
        ("Failed calls", f"{number(d.get('failed_calls'))} ({pct(d.get('error_rate'))})"),
        ("Rate-limited calls", number(d.get("rate_limited_calls"))),
        ("Server errors", number(d.get("server_errors"))),
        ("Routes called / new", f"{number(d.get('distinct_routes'))} / {number(d.get('new_routes'))}"),
        ("Busiest routes", routes or "n/a"),
        ("Spiking since", f"{d.get('episode_start_date')} ({number(d.get('spike_days'))} day(s))"),
    ]


def _sharing_figures(d: dict[str, Any]) -> list[tuple[str, str]]:
    countries = ", ".join(
        f"{c.get('country')} {number(c.get('calls'))} calls / {number(c.get('distinct_ip_hashes'))} IPs"
        for c in d.get("top_countries") or []
    )
    return [
        ("Key", str(d.get("api_key_id"))),
        ("Distinct IP addresses", number(d.get("distinct_ip_hashes"))),
        ("Median a day, 28 days before", number(d.get("median_ip_hashes_prior_28d"))),
        ("Countries", f"{number(d.get('distinct_countries'))}: {countries or 'n/a'}"),
        ("Calls on the day", number(d.get("calls"))),
        ("Auth errors (401/403)", number(d.get("auth_errors"))),
        ("Routes never called before", number(d.get("new_routes"))),
        ("Spread since", f"{d.get('episode_start_date')} ({number(d.get('spread_days'))} day(s))"),
    ]


def _others_are_fine(route: dict[str, Any]) -> bool:
    """The route works for the other customers: fewer than one in ten of their calls fail."""
    others = route.get("other_customers_error_rate")
    return isinstance(others, int | float) and others < 0.1


def _failing_figures(d: dict[str, Any]) -> list[tuple[str, str]]:
    lines = [
        ("Plan", d.get("plan_id") or "unknown"),
        ("Calls, last 7 days", number(d.get("calls_7d"))),
        (
            "Failed, last 7 days",
            f"{number(d.get('failed_calls_7d'))} ({pct(d.get('error_rate_7d'))}; "
            f"4xx {number(d.get('client_errors_7d'))}, 5xx {number(d.get('server_errors_7d'))})",
        ),
        ("Error rate, 7 days before", pct(d.get("error_rate_prior_7d"))),
        ("Failing since", str(d.get("episode_start_date"))),
    ]
    for route in d.get("failing_routes") or []:
        others = route.get("other_customers_error_rate")
        lines.append(
            (
                f"Route {endpoint(route)}",
                f"{number(route.get('failed_calls'))} of {number(route.get('calls'))} failed "
                f"({pct(route.get('error_rate'))}), mostly {route.get('top_error_type')} "
                f"(HTTP {route.get('top_status_code')}); other customers: "
                + (f"{pct(others)} failed" if others is not None else "none call it"),
            )
        )
    types = ", ".join(
        f"{t.get('error_type')} ({t.get('status_class')}) {number(t.get('failed_calls'))}"
        for t in d.get("error_types") or []
    )
    lines.append(("Error types", types or "n/a"))
    routes = d.get("failing_routes") or []
    if routes:
        verdict = (
            "the integration: these routes work for the other customers"
            if all(_others_are_fine(r) for r in routes)
            else "possibly the API: other customers fail on these routes too"
        )
        lines.append(("Most likely cause", verdict))
    return lines


def affected_organization_label(entry: dict[str, Any]) -> str:
    """`Acme Corp (org_42)` when the organizations file names it (names.py adds the name), else
    the id."""
    organization_id = str(entry.get("organization_id"))
    name = entry.get("organization_name")
    return f"{name} ({organization_id})" if name and name != organization_id else organization_id


def _degradation_figures(d: dict[str, Any]) -> list[tuple[str, str]]:
    affected = ", ".join(
        f"{affected_organization_label(o)} (5xx {number(o.get('server_errors'))}, "
        f"slow {number(o.get('slow_calls'))})"
        for o in d.get("affected_organizations") or []
    )
    return [
        ("Endpoint", endpoint(d)),
        ("Kind", str(d.get("kind"))),
        ("Calls on the day", number(d.get("calls"))),
        (
            "p95 latency",
            f"{number(d.get('latency_p95_ms'))} ms (baseline {number(d.get('baseline_latency_p95_ms'))} ms)",
        ),
        (
            "Server-error rate",
            f"{pct(d.get('server_error_rate'))} (baseline {pct(d.get('baseline_server_error_rate'))})",
        ),
        ("Customers hit", number(d.get("affected_customers"))),
        ("Affected organizations", affected or "n/a"),
        ("Degraded since", f"{d.get('episode_start_date')} ({number(d.get('incident_days'))} day(s))"),
    ]


RELIABILITY_FIGURES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    "usage_spike": _spike_figures,
    "key_sharing_suspect": _sharing_figures,
    "integration_failing": _failing_figures,
    "endpoint_degradation": _degradation_figures,
}


def _spike_note(alert: Alert) -> tuple[str, str]:
    d = alert.detail
    routes = d.get("top_routes") or [{}]
    top = routes[0]
    limited = d.get("rate_limited_calls") or 0
    return (
        f"Unusual API traffic from your key {d.get('api_key_id')}",
        f"Hi {alert.organization_id} team, your API key {d.get('api_key_id')} made "
        f"{number(d.get('calls'))} calls on {iso(alert.as_of_date)}, about "
        f"{number(d.get('spike_ratio'))} times its usual day ({number(d.get('median_calls_prior_28d'))} "
        f"calls). Most of them went to {endpoint(top)} ({number(top.get('calls'))} calls, against "
        f"about {number(top.get('avg_daily_calls_prior_28d'))} a day before)"
        + (f", and {number(limited)} were rate-limited" if limited else "")
        + ". If this is a new batch job, we can help you spread it out or find a plan with room for"
        " it; if you do not recognise this traffic, please rotate the key.",
    )


def _sharing_note(alert: Alert) -> tuple[str, str]:
    d = alert.detail
    countries = ", ".join(str(c.get("country")) for c in d.get("top_countries") or [])
    return (
        f"Your API key {d.get('api_key_id')} is being used from many places",
        f"Hi {alert.organization_id} team, on {iso(alert.as_of_date)} your API key "
        f"{d.get('api_key_id')} was used from {number(d.get('distinct_ip_hashes'))} different IP "
        f"addresses in {number(d.get('distinct_countries'))} countries ({countries or 'unknown'}), "
        f"where it usually sees about {number(d.get('median_ip_hashes_prior_28d'))} a day. If the "
        "key has been shared or built into an app that runs on your users' devices, please rotate "
        "it and issue one key per application; if this is expected, just let us know.",
    )


def _failing_note(alert: Alert) -> tuple[str, str]:
    d = alert.detail
    routes = d.get("failing_routes") or []
    if routes:
        top = routes[0]
        where = (
            f" Most of the failures are on {endpoint(top)} ({number(top.get('failed_calls'))} of "
            f"{number(top.get('calls'))} calls, mostly {top.get('top_error_type')} errors, HTTP "
            f"{top.get('top_status_code')})."
        )
        cause = (
            " This endpoint is working for other customers, so the requests your integration sends"
            " are the likely cause; the error responses carry the details."
            if all(_others_are_fine(r) for r in routes)
            else " Other customers see errors on it too: we are looking into it on our side."
        )
    else:
        where, cause = "", ""
    return (
        "Most of your API calls are failing",
        f"Hi {alert.organization_id} team, {pct(d.get('error_rate_7d'))} of your API calls in "
        f"the last 7 days failed ({number(d.get('failed_calls_7d'))} of "
        f"{number(d.get('calls_7d'))}), since {d.get('episode_start_date')}.{where}{cause} We would"
        " be glad to help you debug it.",
    )


def _degradation_note(alert: Alert) -> tuple[str, str]:
    d = alert.detail
    symptoms = []
    if d.get("kind") in ("latency", "both"):
        symptoms.append(
            f"slower than usual (95% of calls under {number(d.get('latency_p95_ms'))} ms, against "
            f"{number(d.get('baseline_latency_p95_ms'))} ms normally)"
        )
    if d.get("kind") in ("errors", "both"):
        symptoms.append(
            f"returning server errors on {pct(d.get('server_error_rate'))} of calls (normally "
            f"{pct(d.get('baseline_server_error_rate'))})"
        )
    return (
        f"Degraded performance on {endpoint(d)}",
        f"Hi, since {d.get('episode_start_date')} {endpoint(d)} has been "
        + " and ".join(symptoms)
        + ", and some of your calls were affected. We are investigating and will follow up when"
        " it is resolved. Retrying failed calls with backoff is safe for idempotent requests.",
    )


RELIABILITY_NOTES: dict[str, Callable[[Alert], tuple[str, str]]] = {
    "usage_spike": _spike_note,
    "key_sharing_suspect": _sharing_note,
    "integration_failing": _failing_note,
    "endpoint_degradation": _degradation_note,
}
