"""The committed sample plants each reliability signal on one known customer or route
(orchestration/sample_data/signals.py). Built as a newcomer builds it (`apiwh run` on seeds/ in a
real subprocess), each new alert type fires for the planted one and for no other, and
`apiwh endpoints --org / incidents / versions / keys` show it with the marts' own figures."""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

from orchestration.sample_data import planted_signals
from orchestration.sample_data.signals import (
    NEW_API_VERSION,
    OLD_API_VERSION,
    SHARED_KEY_ADDRESSES,
    SHARED_KEY_COUNTRIES,
)
from tests.shared_builds import sample_run
from tests.support import BuiltWarehouse, query

AS_OF = date(2026, 10, 31)
PLANTED = planted_signals(orgs=40, days=120, seed=7, end_date=AS_OF)  # the seeds/README.md command


@pytest.fixture(scope="module")
def sample(shared) -> BuiltWarehouse:
    """The bundled sample through a real `apiwh run` (over a minute), once for the session: the
    signals it plants are what a user sees after `make run`."""
    return sample_run(shared)


def _alerts(sample: BuiltWarehouse, alert_type: str) -> list[tuple[str | None, dict]]:
    rows = query(
        sample.warehouse,
        "select organization_id, detail from marts.alerts where alert_type = ? order by alert_key",
        [alert_type],
    )
    return [(org, json.loads(detail)) for org, detail in rows]


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_planted_owners_are_three_different_customers() -> None:
    owners = {PLANTED.usage_spike_org, PLANTED.key_sharing_org, PLANTED.failing_org}
    assert None not in owners and len(owners) == 3
    assert (PLANTED.degraded_method, PLANTED.degraded_route) == ("GET", "/v1/orders/{id}")


# ----------------------------------------------------------------------------------- alerts


def test_usage_spike_fires_for_the_batch_job_key_only(sample: BuiltWarehouse) -> None:
    alerts = _alerts(sample, "usage_spike")
    assert [org for org, _ in alerts] == [PLANTED.usage_spike_org]
    (spike,) = query(
        sample.warehouse,
        "select api_key_id, calls, spike_ratio from marts.key_daily_activity"
        " where is_usage_spike and usage_date = ?",
        [AS_OF],
    )
    assert spike[0] == PLANTED.usage_spike_key
    assert spike[1] >= 1500 and spike[2] >= 10
    # The batch job is one route: it is most of the customer's calls that day.
    (route,) = query(
        sample.warehouse,
        "select route, method from marts.customer_endpoint_daily where organization_id = ?"
        " and usage_date = ? order by calls desc limit 1",
        [PLANTED.usage_spike_org, AS_OF],
    )
    assert route == (PLANTED.spike_route, "GET")


def test_key_sharing_suspect_fires_for_the_shared_key_only(sample: BuiltWarehouse) -> None:
    alerts = _alerts(sample, "key_sharing_suspect")
    assert [org for org, _ in alerts] == [PLANTED.key_sharing_org]
    # The 40 planted addresses in 6 countries, plus the customer's own one to three.
    ((key, addresses, countries, usual),) = query(
        sample.warehouse,
        "select api_key_id, distinct_ip_hashes, distinct_countries, median_ip_hashes_prior_28d"
        " from marts.key_daily_activity where is_ip_spread and usage_date = ?",
        [AS_OF],
    )
    assert key == PLANTED.key_sharing_key
    assert SHARED_KEY_ADDRESSES <= addresses <= SHARED_KEY_ADDRESSES + 3 and usual <= 3
    assert len(SHARED_KEY_COUNTRIES) <= countries <= len(SHARED_KEY_COUNTRIES) + 1


def test_integration_failing_fires_for_the_broken_integration_only(sample: BuiltWarehouse) -> None:
    alerts = _alerts(sample, "integration_failing")
    assert [org for org, _ in alerts] == [PLANTED.failing_org]
    # What customer success reads: validation errors on its routes, a few auth failures.
    error_types = dict(
        query(
            sample.warehouse,
            "select error_type, sum(failed_calls) from marts.error_breakdown_daily"
            " where organization_id = ? and usage_date > ? group by 1",
            [PLANTED.failing_org, date(2026, 10, 24)],
        )
    )
    assert max(error_types, key=error_types.get) == "validation" and error_types["auth"] > 0


def test_endpoint_degradation_fires_for_the_degraded_route_only(sample: BuiltWarehouse) -> None:
    alerts = _alerts(sample, "endpoint_degradation")
    assert len(alerts) == 1
    organization_id, detail = alerts[0]
    assert organization_id is None
    assert (detail["method"], detail["route"]) == (PLANTED.degraded_method, PLANTED.degraded_route)
    (incident,) = query(
        sample.warehouse,
        "select kind, scope, affected_customers from marts.endpoint_incidents where usage_date = ?"
        " and route = ? and method = ?",
        [AS_OF, PLANTED.degraded_route, PLANTED.degraded_method],
    )
    assert incident[0] in ("latency", "both") and incident[1] == "widespread"
    assert detail["affected_customers"] == incident[2] == len(detail["affected_organizations"]) >= 3


def _new_version_share(sample: BuiltWarehouse, first_day: date, last_day: date) -> float:
    """The new version's share of the versioned calls over these days."""
    ((share,),) = query(
        sample.warehouse,
        "select sum(calls) filter (where api_version = ?) / sum(calls) from marts.client_adoption_daily"
        " where api_version != 'unversioned' and usage_date between ? and ?",
        [NEW_API_VERSION, first_day, last_day],
    )
    return share


def test_the_migration_is_slow_and_some_customers_never_moved(sample: BuiltWarehouse) -> None:
    first_month = _new_version_share(sample, date(2026, 7, 4), date(2026, 8, 2))
    last_week = _new_version_share(sample, date(2026, 10, 25), AS_OF)
    assert 0.2 < first_month < 0.6 and first_month + 0.2 < last_week < 0.95
    ((still_on_old,),) = query(
        sample.warehouse,
        "select count(*) from marts.api_version_exposure where api_version = ? and last_call_at >= ?",
        [OLD_API_VERSION, date(2026, 10, 31)],
    )
    assert still_on_old >= 3
    versions = {
        (source, version)
        for source, version in query(
            sample.warehouse,
            "select version_source, api_version from marts.api_version_exposure"
            " union all select version_source, api_version from marts.api_path_version_exposure",
        )
    }
    # Read from the header, the migration; read from the path, every route's major version.
    assert {v for source, v in versions if source == "header"} == {
        OLD_API_VERSION,
        NEW_API_VERSION,
        "unversioned",
    }
    assert {v for source, v in versions if source == "path"} == {"v1", "v2"}


# ------------------------------------------------------------------------------ the commands


def test_endpoints_for_one_customer_reads_the_30_day_mart(sample: BuiltWarehouse) -> None:
    result = sample.apiwh("endpoints", "--org", PLANTED.usage_spike_org)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Endpoints of {PLANTED.usage_spike_org} over 30 days,"
        " 2026-10-02 .. 2026-10-31 (as-of date) (marts.customer_endpoint_30d), by calls"
    )
    ((calls, share, p95),) = query(
        sample.warehouse,
        "select calls_30d, share_of_org_calls_30d, latency_p95_30d_ms from marts.customer_endpoint_30d"
        " where organization_id = ? order by calls_30d desc limit 1",
        [PLANTED.usage_spike_org],
    )
    top = lines[3].split()  # title, header, rule, then the busiest route
    assert top[:4] == ["GET", PLANTED.spike_route, f"{calls:,}", f"{100 * share:.1f}%"]
    assert top[6] == f"{p95:,.1f}"

    failing = sample.apiwh("endpoints", "--org", PLANTED.failing_org)
    ((failed,),) = query(
        sample.warehouse,
        "select failed_calls_30d from marts.customer_endpoint_30d"
        " where organization_id = ? order by calls_30d desc, route, method limit 1",
        [PLANTED.failing_org],
    )
    assert (
        failing.stdout.splitlines()[3].split()[-5] == f"{failed:,}"
    )  # FAILED, then 5XX, AUTH ERR, LAST CALL
    # Its failed calls by error type: the validation errors first, as marts.error_breakdown_30d has them.
    ((validation,),) = query(
        sample.warehouse,
        "select failed_calls_30d from marts.error_breakdown_30d"
        " where organization_id = ? and status_class = '4xx' and error_type = 'validation'",
        [PLANTED.failing_org],
    )
    assert f"(marts.error_breakdown_30d): 4xx validation {validation:,}," in " ".join(failing.stdout.split())


def test_incidents_shows_the_widespread_one_on_the_as_of_date(sample: BuiltWarehouse) -> None:
    result = sample.apiwh("incidents", "--scope", "widespread", "--days", "1")
    assert result.returncode == 0, result.stderr
    ((affected,),) = query(
        sample.warehouse,
        "select affected_customers from marts.endpoint_incidents"
        " where usage_date = ? and scope = 'widespread'",
        [AS_OF],
    )
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("2026-")]
    assert len(rows) == 1
    assert rows[0][:3] == ["2026-10-31", "GET", "/v1/orders/{id}"]
    assert rows[0][-2:] == [str(affected), "widespread"]
    # The customers it hit, under it: marts.endpoint_incident_customers' rows, most calls first.
    hit = query(
        sample.warehouse,
        "select organization_id, calls from marts.endpoint_incident_customers"
        " where usage_date = ? and route = '/v1/orders/{id}' order by calls desc, organization_id",
        [AS_OF],
    )
    listed = [line.split()[:2] for line in result.stdout.splitlines() if line.strip().startswith("org_")]
    assert listed == [[org, f"{calls:,}"] for org, calls in hit] and len(hit) == affected


def test_versions_shows_adoption_and_who_still_calls_the_old_one(sample: BuiltWarehouse) -> None:
    overview = sample.apiwh("versions")
    assert overview.returncode == 0, overview.stderr
    assert "read from the api.version header" in overview.stdout.splitlines()[0]
    listed = {line.split()[0] for line in overview.stdout.splitlines()[3:] if " org_" in line}
    assert listed == {OLD_API_VERSION, NEW_API_VERSION, "unversioned"}

    old = sample.apiwh("versions", "--version", OLD_API_VERSION)
    assert old.returncode == 0, old.stderr
    expected = query(
        sample.warehouse,
        "select organization_id, calls_30d from marts.api_version_exposure"
        " where version_source = 'header' and api_version = ? order by calls_30d desc, organization_id",
        [OLD_API_VERSION],
    )
    rows = [line.split()[1:3] for line in old.stdout.splitlines() if line.startswith(f"{OLD_API_VERSION} ")]
    assert rows == [[org, f"{calls:,}"] for org, calls in expected]

    unknown = sample.apiwh("versions", "--version", "v9")
    assert unknown.returncode == 2
    assert _one_line_error(unknown).startswith("apiwh versions: error: unknown API version 'v9'; known: ")


def test_keys_flags_the_shared_key(sample: BuiltWarehouse) -> None:
    result = sample.apiwh("keys", "--org", PLANTED.key_sharing_org)
    assert result.returncode == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith(f"{PLANTED.key_sharing_key} ")]
    ((last_day, addresses, spread_days),) = query(
        sample.warehouse,
        "select last_call_date, last_day_distinct_ip_hashes, ip_spread_days_30d from marts.key_activity_30d"
        " where api_key_id = ?",
        [PLANTED.key_sharing_key],
    )
    # KEY, CALLS, DAYS, LAST DAY, CALLS THAT DAY, USUAL/DAY, SPIKE, IPS THAT DAY
    cells = row.split()
    assert last_day == AS_OF and cells[3] == AS_OF.isoformat() and cells[7] == str(addresses)
    assert row.endswith(f"IP spread on {spread_days} day(s), last {AS_OF}") and spread_days >= 1

    daily = sample.apiwh("keys", "--org", PLANTED.key_sharing_org, "--daily")
    (day,) = [
        line for line in daily.stdout.splitlines() if line.startswith(f"{AS_OF}  {PLANTED.key_sharing_key}")
    ]
    assert day.split()[5] == str(addresses) and day.endswith("IP spread")

    unknown = sample.apiwh("keys", "--org", "x' or '1'='1")
    assert unknown.returncode == 2
    assert "unknown organization" in _one_line_error(unknown)
