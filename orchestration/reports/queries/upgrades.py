"""The money beside `apiwh quota`, as plain rows: next plan, MRR delta and overage at the
current pace, from `marts.upgrade_opportunities` (docs/contract.md section 2b), priced by the
plan catalogue (PLANS_FILE). Figures and totals come from SQL; render/upgrades.py lays them out.
A snapshot published before the mart existed reads as "no catalogue".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from orchestration.warehouse import table_exists


@dataclass(frozen=True)
class UpgradeOpportunity:
    organization_id: str
    next_plan_id: str | None
    next_plan_call_limit: int | None
    upgrade_mrr_delta: float | None
    overage_calls_at_pace: int
    overage_cost_at_pace: float | None
    fits_next_plan: bool | None
    is_plan_in_catalogue: bool
    upgrade_net_cost_at_pace: float | None


@dataclass(frozen=True)
class OpportunityTotals:
    """Sums over the accounts a quota table shows (same as-of date, --min-pct and --org)."""

    accounts: int
    upgradable_accounts: int
    upgrade_mrr_delta: float | None
    over_cap_accounts: int
    overage_cost_at_pace: float | None
    unpriced_accounts: int


_OPPORTUNITIES_SQL = """
select
    organization_id,
    next_plan_id,
    next_plan_call_limit,
    upgrade_mrr_delta,
    overage_calls_at_pace,
    overage_cost_at_pace,
    fits_next_plan,
    is_plan_in_catalogue,
    upgrade_net_cost_at_pace
from marts.upgrade_opportunities
where as_of_date = ? and list_contains(?::varchar[], organization_id)
"""

_TOTALS_SQL = """
select
    count(*),
    count(*) filter (where opportunities.next_plan_id is not null),
    sum(opportunities.upgrade_mrr_delta),
    count(*) filter (where opportunities.overage_calls_at_pace > 0),
    sum(opportunities.overage_cost_at_pace),
    count(*) filter (where not opportunities.is_plan_in_catalogue)
from marts.upgrade_opportunities as opportunities
inner join marts.quota_utilization as quota
    on
        opportunities.organization_id = quota.organization_id
        and opportunities.as_of_date = quota.usage_date
where
    opportunities.as_of_date = ?
    and quota.pct_of_cap >= ?
    and (cast(? as varchar) is null or opportunities.organization_id = ?)
"""


def has_opportunities_mart(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, "marts", "upgrade_opportunities")


def fetch_upgrade_opportunities(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date, organization_ids: Sequence[str]
) -> dict[str, UpgradeOpportunity]:
    if not organization_ids or not has_opportunities_mart(con):
        return {}
    rows = con.execute(_OPPORTUNITIES_SQL, [as_of, list(organization_ids)]).fetchall()
    return {row[0]: UpgradeOpportunity(*row) for row in rows}


def fetch_opportunity_totals(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date, min_pct: float, org: str | None = None
) -> OpportunityTotals | None:
    """None when no account the table shows has an opportunity row (no catalogue, or none hot)."""
    if not has_opportunities_mart(con):
        return None
    totals = OpportunityTotals(*con.execute(_TOTALS_SQL, [as_of, min_pct, org, org]).fetchall()[0])
    return totals if totals.accounts else None
