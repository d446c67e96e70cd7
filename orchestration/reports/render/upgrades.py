"""The money beside `apiwh quota` in words: the rows of queries/upgrades.py as table cells and a
footer. No SQL here."""

from __future__ import annotations

from collections.abc import Sequence

from orchestration.reports.formatting import NONE_TEXT, format_count, format_money, truncate
from orchestration.reports.queries.upgrades import OpportunityTotals, UpgradeOpportunity

COLUMN_TITLES = ("NEXT PLAN", "MRR DELTA", "OVERAGE AT PACE")
COLUMN_ALIGN = "lrr"

SECTION_TITLE = (
    "REVENUE OPPORTUNITY: accounts at 80%+ of cap or projected over it, priced by the plan catalogue"
)
TABLE_HEADER = (
    "ACCOUNT",
    "PLAN",
    "NEXT PLAN",
    "NEXT QUOTA",
    "MRR DELTA",
    "OVERAGE CALLS",
    "OVERAGE AT PACE",
    "UPGRADE NET",
)
TABLE_ALIGN = "lllrrrrr"


def _short(text: str | None) -> str:
    return NONE_TEXT if text is None else truncate(text)


def opportunity_row(organization_id: str, plan_id: str | None, opportunity: UpgradeOpportunity) -> list[str]:
    """One row: next plan (* when even it is too small at this pace) and the money."""
    overage_calls = format_count(opportunity.overage_calls_at_pace)
    if not opportunity.is_plan_in_catalogue:
        return [_short(organization_id), _short(plan_id), "not in catalogue", NONE_TEXT, NONE_TEXT] + [
            overage_calls,
            NONE_TEXT,
            NONE_TEXT,
        ]
    next_plan = _short(opportunity.next_plan_id) if opportunity.next_plan_id else "top plan"
    if opportunity.fits_next_plan is False:
        next_plan += " *"
    return [
        _short(organization_id),
        _short(plan_id),
        next_plan,
        format_count(opportunity.next_plan_call_limit),
        format_money(opportunity.upgrade_mrr_delta, signed=True),
        overage_calls,
        format_money(opportunity.overage_cost_at_pace),
        format_money(opportunity.upgrade_net_cost_at_pace, signed=True),
    ]


def opportunity_table(
    accounts: Sequence, opportunities: dict[str, UpgradeOpportunity]
) -> tuple[tuple[str, ...], list[list[str]], str]:
    """Header, rows (in the quota table's order, accounts with an opportunity only) and alignment."""
    rows = [
        opportunity_row(account.organization_id, account.plan_id, opportunities[account.organization_id])
        for account in accounts
        if account.organization_id in opportunities
    ]
    return TABLE_HEADER, rows, TABLE_ALIGN


def _accounts(count: int) -> str:
    return "1 account" if count == 1 else f"{count:,} accounts"


def render_opportunity_footer(totals: OpportunityTotals | None, *, hot_accounts_shown: bool) -> list[str]:
    """Sentences under the prices: the total opportunity, as the quota recipe ends with it."""
    if totals is None:
        if not hot_accounts_shown:
            return []
        return [
            "Prices: no plan catalogue was loaded. Set PLANS_FILE to a plan CSV to price the next"
            " plan and the overage at the current pace (`apiwh plans` checks it)."
        ]
    lines = []
    if totals.upgradable_accounts:
        lines.append(
            f"If the {_accounts(totals.upgradable_accounts)} with a next plan upgrade:"
            f" {format_money(totals.upgrade_mrr_delta, signed=True)} MRR."
        )
    else:
        lines.append("No account here has a next plan to move to.")
    if totals.over_cap_accounts:
        lines.append(
            f"Overage at the current pace this month: {format_money(totals.overage_cost_at_pace)}"
            f" from {_accounts(totals.over_cap_accounts)} projected over the cap."
        )
    else:
        lines.append("No account here is projected over its cap: no overage at the current pace.")
    if totals.unpriced_accounts:
        lines.append(
            f"{_accounts(totals.unpriced_accounts)} on a plan the catalogue does not list: not priced."
        )
    lines.append(
        "MRR DELTA: the next plan's price minus the current one. OVERAGE: calls projected above the"
        " quota at this month's pace, at the plan's overage price. UPGRADE NET: what moving to the"
        " next plan adds to this month's bill at this pace, overage included (negative: it saves)."
        " *: the projection exceeds even the next plan's quota."
    )
    return lines
