"""The digests on the bundled sample (tests/shared_builds.sample_run, as-of 2026-10-31): the
preview lists the sample's real accounts and figures, a delivery records the period's row once,
retried on a failing webhook (a real server on 127.0.0.1) and never sent twice, and the Dagster
jobs and schedules are in the code location, one job executed in process on a copy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts.digest_render import digest_markdown
from orchestration.alerts.ledger import get_alert
from orchestration.definitions import defs
from orchestration.warehouse import connect
from tests.shared_builds import sample_run
from tests.support import BuiltWarehouse, apiwh, copy_warehouse, query, resources_from_env, set_environment
from tests.support import warehouse_env as make_env
from tests.unit.test_alerts_http import Receiver

WEEK_KEY = "digest:weekly:2026-W44"  # the week before Monday 2026-11-02: Oct 26 to Nov 1


@pytest.fixture(scope="module")
def sample(shared: Path) -> BuiltWarehouse:
    return sample_run(shared)


def _copy(sample: BuiltWarehouse, root: Path, **extra: str) -> dict[str, str]:
    """A copy of the sample's warehouse under root (no snapshot: readers use the live file), and
    its environment; every alert already delivered, as after a normal day."""
    warehouse = copy_warehouse(sample.warehouse, root)
    with connect(warehouse) as con:
        con.execute("update marts.alerts set status = 'delivered', delivered_at = now()")
    return make_env(root, RAW_DATA_DIR=sample.env["RAW_DATA_DIR"], WAREHOUSE_PATH=str(warehouse), **extra)


def test_the_weekly_preview_lists_the_samples_accounts_and_records_nothing(sample: BuiltWarehouse) -> None:
    done = sample.apiwh("digest", "weekly", "--preview", "--as-of", "2026-11-02")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("# Weekly CS digest, 2026-W44 (2026-10-26 to 2026-11-01)\n")
    wh = sample.warehouse
    churned = query(
        wh,
        "select organization_id from marts.alerts where alert_type = 'churn_risk'"
        " and as_of_date between '2026-10-26' and '2026-11-01'",
    )
    lines = text.splitlines()
    for (org,) in churned:  # one line each, the alert's own title
        assert [line for line in lines if line.startswith(f"- {org}") and line.endswith("(as of 2026-10-31)")]
    assert churned
    ((failing,),) = query(
        wh, "select organization_id from marts.alerts where alert_type = 'integration_failing'"
    )
    assert failing == "org_634c30" and f"- {failing}" in text
    ((top_up, calls_7d),) = query(
        wh,
        "select organization_id, calls_7d from marts.customer_usage_summary"
        " where mover_direction_7d = 'up' and mover_rank_7d = 1",
    )
    assert f"- {top_up}: {calls_7d:,} calls" in text
    incidents = query(
        wh,
        "select method, route from marts.endpoint_incidents"
        " where usage_date between '2026-10-26' and '2026-11-01'",
    )
    assert incidents and all(f"{method} {route}:" in text for method, route in incidents)
    ((accounts,),) = query(
        wh, "select distinct accounts_in_month from marts.quota_outcomes where billing_month = '2026-09-01'"
    )
    assert f"September 2026: {accounts} accounts reached 80%: " in text
    assert query(wh, "select count(*) from marts.alerts where alert_type like 'digest%'") == [(0,)]

    bad = sample.apiwh("digest", "weekly", "--preview", "--as-of", "2026-13-01")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "not a date" in bad.stderr


def test_the_daily_preview_names_each_account_with_its_action_and_plan(sample: BuiltWarehouse) -> None:
    # The sample's quota alerts were recorded by this session's build: within the last day.
    done = sample.apiwh("digest", "daily", "--preview")
    assert done.returncode == 0, done.stderr
    rows = query(
        sample.warehouse,
        "select a.organization_id, o.action, o.plan_id from marts.alerts a"
        " join marts.quota_outlook o using (organization_id) where a.alert_type = 'quota_threshold'",
    )
    assert rows
    for org, action, plan in rows:
        line = next(line for line in done.stdout.splitlines() if line.startswith(f"- {org} crossed "))
        assert f"(plan {plan})" in line and f"; {action}: " in line


def test_the_next_daily_digest_starts_where_the_last_one_ended(
    sample: BuiltWarehouse, tmp_path: Path
) -> None:
    """Yesterday's digest, recorded today, covered up to yesterday's end: today's still lists the
    accounts whose alerts this session's build recorded today."""
    env = _copy(sample, tmp_path)
    today = dt.datetime.now(dt.UTC).date()
    yesterday = apiwh(env, "digest", "daily", "--as-of", (today - dt.timedelta(days=1)).isoformat())
    assert yesterday.returncode == 0, yesterday.stderr
    warehouse = Path(env["WAREHOUSE_PATH"])
    [(detail,)] = query(warehouse, "select detail from marts.alerts where alert_type = 'digest_daily'")
    assert json.loads(detail)["accounts"] == []
    preview = apiwh(env, "digest", "daily", "--preview")
    assert f"(since the last digest, {today.isoformat()} 00:00 UTC)" in preview.stdout, preview.stderr
    crossed = query(
        warehouse, "select distinct organization_id from marts.alerts where alert_type = 'quota_threshold'"
    )
    assert crossed and all(f"- {org} crossed " in preview.stdout for (org,) in crossed)


def test_a_digest_is_recorded_once_retried_on_a_failing_webhook_and_never_sent_twice(
    sample: BuiltWarehouse, tmp_path: Path
) -> None:
    receiver = Receiver().start()
    try:
        receiver.mode = "error"
        env = _copy(sample, tmp_path, ALERT_WEBHOOK_URL=receiver.url, ALERT_BACKOFF_SECONDS="0")
        first = apiwh(env, "digest", "weekly", "--as-of", "2026-11-02")
        assert first.returncode == 0, first.stderr
        assert f"{WEEK_KEY}: recorded" in first.stdout and "1 will be retried" in first.stdout
        warehouse = Path(env["WAREHOUSE_PATH"])
        with connect(warehouse, read_only=True) as con:
            failed = get_alert(con, WEEK_KEY)
        assert (failed.status, failed.delivery_attempts) == ("pending", 1)
        assert failed.last_error == "webhook: HTTP 500 Internal Server Error"
        assert receiver.url not in first.stdout + first.stderr  # the URL is a secret
        markdown = tmp_path / "data" / "digests" / "weekly-2026-W44.md"
        assert markdown.read_text() == digest_markdown(failed)

        receiver.mode = "ok"
        second = apiwh(env, "digest", "weekly", "--as-of", "2026-11-03")  # the same week
        assert f"{WEEK_KEY}: already recorded (kept)" in second.stdout, second.stdout + second.stderr
        [body] = receiver.accepted_bodies()
        assert body["alert_key"] == WEEK_KEY and body["detail"]["period"] == "2026-W44"
        assert body["markdown"] == markdown.read_text()
        with connect(warehouse, read_only=True) as con:
            sent = get_alert(con, WEEK_KEY)
        assert (sent.status, sent.delivery_attempts) == ("delivered", 2)

        receiver.clear()
        third = apiwh(env, "digest", "weekly", "--as-of", "2026-11-02")
        assert third.returncode == 0 and "0 due" in third.stdout
        assert receiver.attempts == []
        assert query(warehouse, "select count(*) from marts.alerts where alert_type = 'digest_weekly'") == [
            (1,)
        ]
    finally:
        receiver.stop()


def test_the_digest_jobs_and_schedules_are_in_the_location(dbt_manifest: Path) -> None:
    location = defs()
    jobs = {job.name for job in location.resolve_all_job_defs()}
    assert {"daily_sales_digest", "weekly_cs_digest"} <= jobs
    expected = {"daily_sales_digest_schedule": "0 8 * * *", "weekly_cs_digest_schedule": "0 8 * * 1"}
    for name, cron in expected.items():
        schedule = location.resolve_schedule_def(name)
        assert (schedule.cron_schedule, schedule.execution_timezone) == (cron, "UTC")
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    # The tick's day goes to the run, so a late run records the period it was meant for.
    tick = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC))
    request = location.resolve_schedule_def("weekly_cs_digest_schedule").evaluate_tick(tick).run_requests[0]
    assert request.run_config == {"ops": {"record_weekly_cs_digest": {"config": {"day": "2026-11-02"}}}}


def test_the_daily_job_records_and_delivers_in_process(
    sample: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_manifest: Path
) -> None:
    env = _copy(sample, tmp_path)
    set_environment(monkeypatch, env)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    result = (
        defs()
        .resolve_job_def("daily_sales_digest")
        .execute_in_process(
            run_config={"ops": {"record_daily_sales_digest": {"config": {"day": today}}}},
            resources=resources_from_env(),
        )
    )
    assert result.success
    key = f"digest:daily:{today}"
    with connect(Path(env["WAREHOUSE_PATH"]), read_only=True) as con:
        digest = get_alert(con, key)
    assert digest.status == "delivered"
    crossed = {
        org
        for (org,) in query(
            Path(env["WAREHOUSE_PATH"]),
            "select organization_id from marts.alerts where alert_type = 'quota_threshold'",
        )
    }
    assert {a["organization_id"] for a in digest.detail["accounts"]} == crossed
    [line] = [json.loads(x) for x in (tmp_path / "data" / "alerts.jsonl").read_text().splitlines()]
    assert line["alert_key"] == key and line["title"].startswith(f"Daily sales digest, {today}: ")
