"""ALERT_ROUTES_FILE: destinations and routes, against real receivers on 127.0.0.1.

A small ledger in a real DuckDB file (rows inserted with the ledger's own functions), a routes
file read through orchestration.settings.with_alert_routes as delivery reads it, real http.server
receivers for the Slack, webhook and PagerDuty destinations, and `apiwh` in a subprocess for the
listing and for a bad file. No pipeline run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import textwrap
import threading
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.delivery import deliver_pending
from orchestration.alerts.ledger import Alert, destination_states, get_alert, record_alert
from orchestration.alerts.routes import ALERT_TYPES, QUOTA_ACTIONS, RoutesFileError
from orchestration.alerts.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from orchestration.alerts.sinks import build_sinks, send_everywhere
from orchestration.defs.alerts import deliver_alerts_job
from orchestration.defs.resources import build_resources
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, with_alert_routes
from orchestration.warehouse import connect
from tests.support import apiwh, warehouse_env, warehouse_path
from tests.unit.test_alerts_http import Receiver, sample_alert

T0 = dt.datetime(2026, 3, 21, 6, 0, 0)
QUOTA_80 = "quota_threshold:org_a:2026-03:80"
INCIDENT = "endpoint_degradation:GET:/v1/search:2026-03-19"


def quota_alert(key: str = QUOTA_80, threshold: int = 80, action: str = "warm") -> Alert:
    alert = sample_alert(key)
    return dataclasses.replace(alert, threshold=threshold, detail={**alert.detail, "action": action})


def incident_alert(key: str = INCIDENT) -> Alert:
    return Alert(
        alert_key=key,
        alert_type="endpoint_degradation",
        organization_id=None,
        threshold=None,
        detail={"route": "/v1/search", "method": "GET", "kind": "errors", "affected_customers": 2},
        as_of_date=dt.date(2026, 3, 20),
        created_at=T0,
    )


def other_alert(alert_type: str, key: str) -> Alert:
    return Alert(key, alert_type, "org_b", None, {}, dt.date(2026, 3, 20), T0)


@pytest.fixture
def receivers():
    servers = {name: Receiver().start() for name in ("sales", "oncall", "hook")}
    yield servers
    # Side by side: each stop waits up to half a second for its serving loop to notice.
    stopping = [threading.Thread(target=server.stop) for server in servers.values()]
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join()


def write_routes(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alert_routes.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def routes_for(tmp_path: Path, receivers: dict[str, Receiver]) -> str:
    """Quota alerts to a Slack channel, incidents to PagerDuty (the issue's "Done when")."""
    return f"""
        destinations:
          sales:
            type: slack
            url_env: TEST_SALES_SLACK_URL
          oncall:
            type: pagerduty
            routing_key_env: TEST_PD_ROUTING_KEY
            url: {receivers["oncall"].url}
        routes:
          - alert_types: [quota_threshold]
            to: sales
          - alert_types: [endpoint_degradation]
            to: [oncall]
        """


def routed_settings(monkeypatch, tmp_path: Path, text: str, receivers, **settings) -> AlertSettings:
    monkeypatch.setenv("ALERT_ROUTES_FILE", str(write_routes(tmp_path, text)))
    monkeypatch.setenv("TEST_SALES_SLACK_URL", receivers["sales"].url)
    monkeypatch.setenv("TEST_PD_ROUTING_KEY", "pd-routing-key-secret")
    monkeypatch.setenv("TEST_HOOK_URL", receivers["hook"].url)
    base = AlertSettings(jsonl_path=tmp_path / "alerts.jsonl", timeout_seconds=2, **settings)
    return with_alert_routes(base)


def deliver(con, alert_settings: AlertSettings, now: dt.datetime = T0):
    return deliver_pending(
        con,
        build_sinks(alert_settings),
        now=now,
        max_attempts=8,
        backoff_seconds=60,
        backoff_max_seconds=3600,
    )


def file_keys(alert_settings: AlertSettings) -> list[str]:
    lines = alert_settings.jsonl_path.read_text().splitlines()
    return [json.loads(line)["alert_key"] for line in lines]


def attempts(con) -> dict[tuple[str, str], tuple[int, str | None, bool]]:
    return {
        (key, state.destination): (state.attempts, state.last_error, state.delivered_at is not None)
        for key, states in destination_states(con).items()
        for state in states
    }


def test_quota_alerts_go_to_sales_and_incidents_to_oncall_once(con, tmp_path, receivers, monkeypatch):
    alert_settings = routed_settings(monkeypatch, tmp_path, routes_for(tmp_path, receivers), receivers)
    for alert in (
        quota_alert(),
        incident_alert(),
        other_alert("usage_spike", "usage_spike:key_1:2026-03-20"),
    ):
        record_alert(con, alert, now=T0)

    report = deliver(con, alert_settings)

    assert len(report.delivered) == 3
    assert receivers["sales"].accepted_keys() == [QUOTA_80]
    slack = receivers["sales"].accepted_bodies()[0]
    assert slack["blocks"][0]["text"]["text"].startswith(":chart_with_upwards_trend: *org_a")
    assert receivers["oncall"].accepted_keys() == [INCIDENT]
    event = receivers["oncall"].accepted_bodies()[0]
    assert {k: event[k] for k in ("routing_key", "event_action", "dedup_key")} == {
        "routing_key": "pd-routing-key-secret",
        "event_action": "trigger",
        "dedup_key": INCIDENT,
    }
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["source"] == "api-usage-warehouse"
    assert event["payload"]["custom_details"]["detail"]["route"] == "/v1/search"
    # The file gets every alert, the one no route matches included.
    assert sorted(file_keys(alert_settings)) == sorted([QUOTA_80, INCIDENT, "usage_spike:key_1:2026-03-20"])
    assert get_alert(con, QUOTA_80).delivered_sinks == ("file", "sales")
    assert get_alert(con, INCIDENT).delivered_sinks == ("file", "oncall")
    assert get_alert(con, "usage_spike:key_1:2026-03-20").delivered_sinks == ("file",)
    assert attempts(con)[(INCIDENT, "oncall")] == (1, None, True)

    # A second delivery run sends nothing anywhere.
    assert deliver(con, alert_settings, now=T0 + dt.timedelta(hours=1)).due == 0
    assert len(receivers["sales"].attempts) == len(receivers["oncall"].attempts) == 1
    assert len(file_keys(alert_settings)) == 3


def test_a_failing_destination_is_retried_alone(con, tmp_path, receivers, monkeypatch):
    alert_settings = routed_settings(monkeypatch, tmp_path, routes_for(tmp_path, receivers), receivers)
    record_alert(con, quota_alert(), now=T0)
    record_alert(con, incident_alert(), now=T0)
    receivers["oncall"].mode = "error"

    first = deliver(con, alert_settings)

    assert first.delivered == [QUOTA_80]
    assert first.retrying == {INCIDENT: "oncall: HTTP 500 Internal Server Error"}
    incident = get_alert(con, INCIDENT)
    assert (incident.status, incident.delivery_attempts, incident.delivered_sinks) == (
        "pending",
        1,
        ("file",),
    )
    assert attempts(con)[(INCIDENT, "oncall")] == (1, "HTTP 500 Internal Server Error", False)
    assert attempts(con)[(INCIDENT, "file")] == (1, None, True)

    receivers["oncall"].mode = "ok"
    second = deliver(con, alert_settings, now=T0 + dt.timedelta(minutes=2))

    assert second.delivered == [INCIDENT]
    assert receivers["oncall"].accepted_keys() == [INCIDENT]
    assert len(receivers["oncall"].attempts) == 2
    assert len(receivers["sales"].attempts) == 1  # never re-sent
    assert file_keys(alert_settings).count(INCIDENT) == 1
    assert get_alert(con, INCIDENT).delivered_sinks == ("file", "oncall")
    # Its own attempts and last error: two sends, the failure kept after the success.
    assert attempts(con)[(INCIDENT, "oncall")] == (2, "HTTP 500 Internal Server Error", True)


def test_apiwh_alerts_shows_where_each_alert_went(tmp_path, receivers, monkeypatch):
    alert_settings = routed_settings(monkeypatch, tmp_path, routes_for(tmp_path, receivers), receivers)
    receivers["oncall"].mode = "error"
    with connect(warehouse_path(tmp_path)) as con:
        record_alert(con, quota_alert(), now=T0)
        record_alert(con, incident_alert(), now=T0)
        deliver(con, alert_settings)

    env = warehouse_env(tmp_path)
    table = apiwh(env, "alerts")
    assert table.returncode == 0, table.stderr
    assert "SENT TO" in table.stdout
    lines = table.stdout.splitlines()
    assert any("file ✓; oncall ✗" in line and INCIDENT in line for line in lines), table.stdout
    assert any("file, sales ✓" in line and QUOTA_80 in line for line in lines), table.stdout
    listed = {
        row["alert_key"]: row for row in map(json.loads, apiwh(env, "alerts", "--json").stdout.splitlines())
    }
    assert (listed[INCIDENT]["delivered_sinks"], listed[INCIDENT]["owed_sinks"]) == (["file"], ["oncall"])
    assert (listed[QUOTA_80]["delivered_sinks"], listed[QUOTA_80]["owed_sinks"]) == (["file", "sales"], [])
    csv_lines = apiwh(env, "alerts", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].endswith(",delivered_sinks,owed_sinks")


def test_with_a_routes_file_the_webhook_gets_only_what_routes_send_it(con, tmp_path, receivers, monkeypatch):
    text = """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
        routes:
          - alert_types: [quota_threshold]
            thresholds: [95, 100]
            to: sales
          - alert_types: [quota_threshold]
            actions: [UPSELL NOW, CRITICAL]
            to: [sales, webhook]
        """
    alert_settings = routed_settings(
        monkeypatch, tmp_path, text, receivers, webhook_url=receivers["hook"].url, webhook_secret="s3cret"
    )
    keys = {
        "quota_threshold:org_a:2026-03:80": ("warm", 80),  # no route: the file only
        "quota_threshold:org_b:2026-03:80": ("UPSELL NOW", 80),  # sales and the webhook
        "quota_threshold:org_c:2026-03:95": ("warm", 95),  # sales
    }
    for key, (action, threshold) in keys.items():
        record_alert(con, quota_alert(key, threshold, action), now=T0)
    record_alert(con, other_alert("churn_risk", "churn_risk:org_d:2026-03-01"), now=T0)  # no route

    assert len(deliver(con, alert_settings).delivered) == 4

    assert sorted(receivers["sales"].accepted_keys()) == [
        "quota_threshold:org_b:2026-03:80",
        "quota_threshold:org_c:2026-03:95",
    ]
    assert receivers["hook"].accepted_keys() == ["quota_threshold:org_b:2026-03:80"]
    request = receivers["hook"].accepted[0]
    headers = request["headers"]
    assert verify("s3cret", headers[TIMESTAMP_HEADER], request["body"], headers[SIGNATURE_HEADER])
    assert headers[KEY_HEADER] == "quota_threshold:org_b:2026-03:80"
    assert len(file_keys(alert_settings)) == 4


def test_without_a_routes_file_every_alert_goes_to_the_file_and_the_webhook(tmp_path, monkeypatch):
    monkeypatch.delenv("ALERT_ROUTES_FILE", raising=False)
    base = AlertSettings(jsonl_path=tmp_path / "alerts.jsonl", webhook_url="http://127.0.0.1:9/x")
    assert with_alert_routes(base) is base
    assert [sink.name for sink in build_sinks(base)] == ["file", "webhook"]


def test_the_example_file_routes_as_its_comments_say(monkeypatch):
    for name in ("SALES_SLACK_URL", "PD_ROUTING_KEY"):
        monkeypatch.setenv(name, f"https://example.invalid/{name}")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("ALERT_EMAIL_FROM", "alerts@example.com")
    monkeypatch.setenv("ALERT_ROUTES_FILE", "seeds/alert_routes.yaml")
    monkeypatch.chdir(PROJECT_ROOT)
    routes = with_alert_routes(AlertSettings(jsonl_path=Path("alerts.jsonl"))).routes

    def to(alert: Alert) -> tuple[str, ...]:
        return routes.destinations_for(alert)

    assert to(quota_alert(threshold=80)) == ("sales",)
    assert to(quota_alert(threshold=95)) == ("sales",)
    assert to(quota_alert(threshold=100)) == ("sales-email",)
    assert to(quota_alert(threshold=80, action="UPSELL NOW")) == ("sales", "sales-email")
    assert to(quota_alert(threshold=100, action="CRITICAL")) == ("sales-email",)
    assert to(incident_alert()) == ("oncall",)
    assert to(other_alert("churn_risk", "c")) == ("cs",)
    assert to(other_alert("integration_failing", "i")) == ("cs",)
    assert to(other_alert("digest_weekly", "digest:weekly:2026-W49")) == ("sales",)
    assert to(other_alert("usage_spike", "u")) == ()


def test_the_routes_know_every_alert_type_and_quota_action_of_the_marts():
    """The lists the file is checked against are those the dbt models allow: a mart's check
    constraint `column in ('a', 'b')` (docs/design.md)."""

    def accepted_values(models_file: Path, column: str) -> set[str]:
        models = yaml.safe_load(models_file.read_text())["models"]
        rules = [
            constraint["expression"]
            for model in models
            for col in model.get("columns", [])
            if col["name"] == column
            for constraint in col.get("constraints", [])
            if constraint["type"] == "check"
        ]
        return {value for rule in rules for value in re.findall(r"'([^']*)'", rule)}

    alert_types = accepted_values(DBT_PROJECT_DIR / "models/alerts/_alerts__models.yml", "alert_type")
    assert "quota_threshold" in alert_types and alert_types <= set(ALERT_TYPES)
    actions = accepted_values(DBT_PROJECT_DIR / "models/marts/revenue/_revenue__models.yml", "action")
    assert actions == set(QUOTA_ACTIONS)


BAD_FILES = {
    "unknown destination": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
          oncall: {type: pagerduty, routing_key_env: TEST_PD_ROUTING_KEY}
        routes:
          - alert_types: [endpoint_degradation]
            to: oncall
          - alert_types: [quota_threshold]
            to: [salse]
        """,
        "line 8: route 2 sends to 'salse', which is not a destination (known: sales, oncall)",
    ),
    "unknown alert type": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
        routes:
          - alert_types: [quota_treshold]
            to: sales
        """,
        "line 4: route 1: unknown alert type 'quota_treshold' (did you mean 'quota_threshold'?",
    ),
    "bad YAML": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL
        routes:
          - alert_types: [quota_threshold]
        """,
        "line 3: not valid YAML (while parsing a flow mapping from line 2: expected ',' or '}', but got ':')",
    ),
    "missing variable": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
          oncall:
            type: pagerduty
            routing_key_env: TEST_NOT_SET_ROUTING_KEY
        routes:
          - alert_types: [endpoint_degradation]
            to: oncall
        """,
        "line 5: destination 'oncall' needs the environment variable TEST_NOT_SET_ROUTING_KEY "
        "(routing_key_env), which is not set",
    ),
    "a secret in the file": (
        """
        destinations:
          sales:
            type: slack
            url: https://hooks.slack.com/services/T0/B0/token
        routes:
          - {alert_types: [quota_threshold], to: sales}
        """,
        "line 4: destination 'sales': secrets never go in the file: name the variable with `url_env`",
    ),
    "an unknown quota action": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
        routes:
          - alert_types: [quota_threshold]
            actions: [UPSELL]
            to: sales
        """,
        "line 5: route 1: unknown quota action 'UPSELL' (did you mean 'UPSELL NOW'?",
    ),
    "webhook without ALERT_WEBHOOK_URL": (
        """
        destinations:
          sales: {type: slack, url_env: TEST_SALES_SLACK_URL}
        routes:
          - alert_types: [refresh_failed]
            to: [sales, webhook]
        """,
        "line 5: route 1 sends to 'webhook', but ALERT_WEBHOOK_URL is not set",
    ),
    "email without SMTP settings": (
        """
        destinations:
          cs:
            type: email
            to: cs@example.com
        routes:
          - {alert_types: [churn_risk], to: cs}
        """,
        "line 2: destination 'cs' sends email, but SMTP_HOST and ALERT_EMAIL_FROM are not set",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_one_line_naming_the_line(case, tmp_path, receivers, monkeypatch):
    text, expected = BAD_FILES[case]
    for name in ("SMTP_HOST", "ALERT_EMAIL_FROM", "TEST_NOT_SET_ROUTING_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RoutesFileError) as raised:
        routed_settings(monkeypatch, tmp_path, text, receivers)
    message = str(raised.value)
    assert message.startswith(f"ALERT_ROUTES_FILE {tmp_path / 'alert_routes.yaml'} ")
    assert expected in message and "\n" not in message
    assert "hooks.slack.com" not in message and receivers["sales"].url not in message


def test_apiwh_deliver_with_a_bad_file_exits_2_and_sends_nothing(tmp_path, receivers):
    routes = write_routes(tmp_path, BAD_FILES["unknown destination"][0])
    with connect(warehouse_path(tmp_path)) as con:
        record_alert(con, quota_alert(), now=T0)
    env = warehouse_env(
        tmp_path,
        ALERT_ROUTES_FILE=str(routes),
        TEST_SALES_SLACK_URL=receivers["sales"].url,
        TEST_PD_ROUTING_KEY="k",
    )

    result = apiwh(env, "deliver")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"apiwh deliver: error: ALERT_ROUTES_FILE {routes} line 8: route 2 sends to 'salse', which is not a "
        "destination (known: sales, oncall)"
    ]
    assert receivers["sales"].attempts == []
    assert not (tmp_path / "data" / "alerts.jsonl").exists()
    with connect(warehouse_path(tmp_path)) as con:
        assert get_alert(con, QUOTA_80).status == "pending"


def test_the_dagster_step_fails_with_the_one_line_and_sends_nothing(tmp_path, receivers, monkeypatch):
    routes = write_routes(tmp_path, BAD_FILES["unknown alert type"][0])
    monkeypatch.setenv("ALERT_ROUTES_FILE", str(routes))
    monkeypatch.setenv("TEST_SALES_SLACK_URL", receivers["sales"].url)
    settings = Settings(raw_data_dir=tmp_path / "landing", warehouse_path=warehouse_path(tmp_path))
    with connect(settings.warehouse_path) as con:
        record_alert(con, quota_alert(), now=T0)
    alerts = AlertSettings(jsonl_path=tmp_path / "alerts.jsonl")

    result = deliver_alerts_job.execute_in_process(
        resources=build_resources(settings, alerts),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.error.message.strip().endswith(
        f"ALERT_ROUTES_FILE {routes} line 4: route 1: unknown alert type 'quota_treshold' (did you mean "
        "'quota_threshold'? known: " + ", ".join(ALERT_TYPES) + ")"
    )
    assert receivers["sales"].attempts == [] and not alerts.jsonl_path.exists()


def test_a_failed_refresh_sent_directly_follows_the_routes_too(tmp_path, receivers, monkeypatch):
    """`apiwh run` sends its refresh_failed alert itself (send_everywhere): the routes apply."""
    route = "  - {alert_types: [refresh_failed], to: oncall}\n"
    text = textwrap.dedent(routes_for(tmp_path, receivers)) + route
    alert_settings = routed_settings(monkeypatch, tmp_path, text, receivers)
    failed = other_alert("refresh_failed", "refresh_failed:daily_refresh:run-1")

    results = send_everywhere(build_sinks(alert_settings), failed)

    assert results == {"file": None, "oncall": None}
    assert receivers["oncall"].accepted_keys() == ["refresh_failed:daily_refresh:run-1"]
    assert receivers["sales"].attempts == []
