"""A new quota limit within the month re-arms the quota alert (docs/contract.md "Alerts"), across
real runs with a moving as-of date: 80% of the old limit, an upgrade, then 80% of the new limit
record two alerts; a rerun records none, and the first limit's key is the one it always was.

org_up: 1,000 calls a month from March 1, 170 calls a day on March 1 to 5 (850 = 85% on the
5th); on March 6 its limit becomes 5,000 and it makes 630 calls a day (4,000 = 80% on the 10th).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.alerts import alerts_ledger_asset
from tests import support as kit

DBT_SELECT = "+alert_candidates +endpoint_incident_customers"
FIRST_KEY = "quota_threshold:org_up:2026-03:80"
AFTER_UPGRADE_KEY = "quota_threshold:org_up:2026-03:80:limit-5000"
RUN_DATES = ("2026-03-05", "2026-03-08", "2026-03-10", "2026-03-10")


def _events() -> list[dict]:
    events = [kit.quota_set("org_up", "2026-03-01T00:00:00Z", 1000, plan="pro")]
    events.append(kit.quota_set("org_up", "2026-03-06T00:00:00Z", 5000, plan="scale"))
    for day in range(1, 11):
        calls = 170 if day <= 5 else 630
        events += [
            kit.api_request(
                "org_up", f"2026-03-{day:02d}T{8 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
            )
            for i in range(calls)
        ]
    return events


def _ledger_keys(warehouse) -> list[str]:
    return [
        key for (key,) in kit.query(warehouse, "select alert_key from marts.alerts order by created_at, 1")
    ]


@dataclass(frozen=True)
class RearmRuns:
    """The warehouse after the sequence of runs, and the ledger's keys after each run."""

    root: Path
    warehouse: Path
    recorded: list[list[str]]


@pytest.fixture(scope="module")
def rearm_runs(tmp_path_factory: pytest.TempPathFactory) -> RearmRuns:
    """The real runs, once for the module: dbt for each new as-of date, then the ledger step
    (Dagster's marts/alerts asset), as daily_refresh does. Read only for the tests."""
    root = tmp_path_factory.mktemp("rearm")
    kit.write_ndjson(root / "landing" / "events.ndjson", _events())
    warehouse = kit.warehouse_path(root)
    kit.load_events(root / "landing", warehouse)
    recorded: list[list[str]] = []
    with pytest.MonkeyPatch.context() as monkeypatch, dg.DagsterInstance.ephemeral() as instance:
        previous = None
        for as_of in RUN_DATES:
            if not recorded or as_of != previous:  # a rerun on the same day: the ledger step again
                kit.run_dbt(warehouse, "run", "--select", DBT_SELECT, as_of=as_of)
            previous = as_of
            kit.set_environment(monkeypatch, kit.warehouse_env(root, AS_OF=as_of))
            result = dg.materialize(
                [alerts_ledger_asset], instance=instance, resources=kit.resources_from_env()
            )
            assert result.success
            recorded.append(_ledger_keys(warehouse))
    return RearmRuns(root, warehouse, recorded)


def test_an_upgrade_rearms_the_thresholds_against_the_new_limit(rearm_runs: RearmRuns) -> None:
    assert rearm_runs.recorded == [
        [FIRST_KEY],  # 85% of 1,000
        [FIRST_KEY],  # 54.8% of 5,000 after the upgrade: nothing new
        [FIRST_KEY, AFTER_UPGRADE_KEY],  # 80% of 5,000
        [FIRST_KEY, AFTER_UPGRADE_KEY],  # the same day again: nothing new
    ]
    detail = kit.query(
        rearm_runs.warehouse, "select detail from marts.alerts where alert_key = ?", [AFTER_UPGRADE_KEY]
    )
    assert '"monthly_call_limit":5000' in str(detail[0][0]).replace(" ", "")


def test_replaying_the_runs_dates_gives_exactly_the_ledgers_alerts(rearm_runs: RearmRuns) -> None:
    """`apiwh alerts replay` over the dates of the runs (every day from the first to the last)
    raises the keys the ledger recorded, each on the as-of date that recorded it, and writes
    nothing: not the ledger, not the warehouse file."""
    warehouse = rearm_runs.warehouse
    ledger_sql = "select alert_key, cast(as_of_date as varchar) from marts.alerts order by 1"
    ledger_before = kit.query(warehouse, ledger_sql)
    mtime_before = warehouse.stat().st_mtime_ns
    env = kit.warehouse_env(rearm_runs.root)

    replayed = kit.apiwh(
        env, "alerts", "replay", "--from", RUN_DATES[0], "--to", RUN_DATES[-1], "--format", "json"
    )

    assert replayed.returncode == 0, replayed.stderr
    rows = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert sorted((row["alert_key"], row["as_of_date"]) for row in rows) == ledger_before
    assert {key for key, _ in ledger_before} == {FIRST_KEY, AFTER_UPGRADE_KEY}
    # On stderr beside the json rows: one progress line per date, then the count per rule, and the
    # quota alert before the upgrade followed by it.
    progress, summary = replayed.stderr.split("\n\n", 1)
    assert [line.split(":")[0].strip() for line in progress.splitlines()[1:]] == [
        f"2026-03-{day:02d}" for day in range(5, 11)
    ]
    per_rule = {line.split()[0]: line.split()[1:] for line in summary.splitlines()[3:9]}
    assert per_rule["quota_threshold"] == ["2", "2026-03-05", "2026-03-10"]
    assert per_rule["churn_risk"] == ["0", "-", "-"]
    assert "within 30 days: 1 of 2 (50%)" in summary
    assert kit.query(warehouse, ledger_sql) == ledger_before
    assert warehouse.stat().st_mtime_ns == mtime_before
