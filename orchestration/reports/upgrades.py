"""The money beside `apiwh quota`: next plan, MRR delta and overage at the current pace.

Reads `marts.upgrade_opportunities` (CONTRACT.md section 2b), priced by the plan catalogue
(PLANS_FILE). Figures and totals come from SQL; this module lays them out in words. A snapshot
published before the mart existed reads as "no catalogue".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

NONE_TEXT = "-"
COLUMN_TITLES = ("NEXT PLAN", "MRR DELTA", "OVERAGE AT PACE")
COLUMN_ALIGN = "lrr"


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


_HAS_MART_SQL = """
select count(*) > 0
from information_schema.tables
where table_schema = 'marts' and table_name = 'upgrade_opportunities'
"""

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
    return bool(con.execute(_HAS_MART_SQL).fetchall()[0][0])


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


# --------------------------------------------------------------------- rendering


def format_money(value: float | None, *, signed: bool = False) -> str:
    """Dollars with cents ("$1,234.50", "+$450.00", "-$12.00"); "-" for none."""
    if value is None:
        return NONE_TEXT
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else ("-" if value < 0 else "")
    return f"{sign}${abs(value):,.2f}"


def opportunity_cells(opportunity: UpgradeOpportunity | None) -> list[str]:
    """The three cells added to a quota row: next plan (* when even it is too small at this
    pace), MRR delta, overage at the current pace."""
    if opportunity is None:
        return [NONE_TEXT] * len(COLUMN_TITLES)
    if not opportunity.is_plan_in_catalogue:
        return ["not in catalogue", NONE_TEXT, NONE_TEXT]
    next_plan = opportunity.next_plan_id or "top plan"
    if opportunity.fits_next_plan is False:
        next_plan += " *"
    return [
        next_plan,
        format_money(opportunity.upgrade_mrr_delta, signed=True),
        format_money(opportunity.overage_cost_at_pace),
    ]


def _accounts(count: int) -> str:
    return "1 account" if count == 1 else f"{count:,} accounts"


def render_opportunity_footer(totals: OpportunityTotals | None, *, hot_accounts_shown: bool) -> list[str]:
    """The revenue lines under the quota table: what upgrades would add, what overage costs."""
    if totals is None:
        if not hot_accounts_shown:
            return []
        return [
            "Prices: no plan catalogue was loaded (set PLANS_FILE to a plan CSV to price the next"
            " plan and the overage; `apiwh plans` checks it)."
        ]
    lines = ["REVENUE OPPORTUNITY (accounts at 80%+ of cap or projected over it):"]
    if totals.upgradable_accounts:
        lines.append(
            f"  If the {_accounts(totals.upgradable_accounts)} with a next plan upgrade:"
            f" {format_money(totals.upgrade_mrr_delta, signed=True)} MRR."
        )
    else:
        lines.append("  No account shown has a next plan to move to.")
    if totals.over_cap_accounts:
        lines.append(
            f"  Overage at the current pace this month: {format_money(totals.overage_cost_at_pace)}"
            f" from {_accounts(totals.over_cap_accounts)} projected over the cap."
        )
    else:
        lines.append("  No account shown is projected over its cap: no overage at the current pace.")
    if totals.unpriced_accounts:
        lines.append(
            f"  {_accounts(totals.unpriced_accounts)} on a plan the catalogue does not list: not priced."
        )
    lines.append("  MRR DELTA: the next plan's price minus the current one. OVERAGE AT PACE: calls")
    lines.append("  projected above the cap, at the plan's overage price. NEXT PLAN *: even it is too small.")
    return lines
