"""A new quota limit within the month re-arms the quota alert (docs/contract.md "Alerts"), across
real runs with a moving as-of date: 80% of the old limit, an upgrade, then 80% of the new limit
record two alerts; a rerun records none, and the first limit's key is the one it always was.

org_up: 1,000 calls a month from March 1, 170 calls a day on March 1 to 5 (850 = 85% on the
5th); on March 6 its limit becomes 5,000 and it makes 630 calls a day (4,000 = 80% on the 10th).
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.alerts import alerts_ledger_asset
from tests import support as kit

DBT_SELECT = "+alert_candidates +endpoint_incident_customers"
FIRST_KEY = "quota_threshold:org_up:2026-03:80"
AFTER_UPGRADE_KEY = "quota_threshold:org_up:2026-03:80:limit-5000"


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


def test_an_upgrade_rearms_the_thresholds_against_the_new_limit(tmp_path, monkeypatch) -> None:
    kit.write_ndjson(tmp_path / "landing" / "events.ndjson", _events())
    warehouse = kit.warehouse_path(tmp_path)
    kit.load_events(tmp_path / "landing", warehouse)
    with dg.DagsterInstance.ephemeral() as instance:
        recorded: list[list[str]] = []
        previous = None
        for as_of in ("2026-03-05", "2026-03-08", "2026-03-10", "2026-03-10"):
            if not recorded or as_of != previous:  # a rerun on the same day: the ledger step again
                kit.run_dbt(warehouse, "run", "--select", DBT_SELECT, as_of=as_of)
            previous = as_of
            kit.set_environment(monkeypatch, kit.warehouse_env(tmp_path, AS_OF=as_of))
            result = dg.materialize(
                [alerts_ledger_asset], instance=instance, resources=kit.resources_from_env()
            )
            assert result.success
            recorded.append(_ledger_keys(warehouse))
    assert recorded == [
        [FIRST_KEY],  # 85% of 1,000
        [FIRST_KEY],  # 54.8% of 5,000 after the upgrade: nothing new
        [FIRST_KEY, AFTER_UPGRADE_KEY],  # 80% of 5,000
        [FIRST_KEY, AFTER_UPGRADE_KEY],  # the same day again: nothing new
    ]
    detail = kit.query(warehouse, "select detail from marts.alerts where alert_key = ?", [AFTER_UPGRADE_KEY])
    assert '"monthly_call_limit":5000' in str(detail[0][0]).replace(" ", "")
