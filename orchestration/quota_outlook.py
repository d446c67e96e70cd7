"""How an account stands against its monthly quota, in words: one rule for the CLI and the alerts.

The figures (used_mtd, projected_eom, days_to_cap) come from marts.quota_utilization. The
contract's days_to_cap is 0 both at the cap and when the cap is less than a day away at this
month's pace, and it ignores the month's end, so it is never shown as is:
- "at cap" only when used_mtd >= monthly_call_limit;
- "resets before cap" when the projection for the month stays within the limit (the quota
  resets first, however few days_to_cap says);
- otherwise the days to the cap ("< 1 day" for 0), and the action follows the projection.
"""

from __future__ import annotations

from dataclasses import dataclass

AT_CAP = "at_cap"
WILL_EXCEED = "will_exceed"
RESETS_BEFORE_CAP = "resets_before_cap"


@dataclass(frozen=True)
class QuotaOutlook:
    kind: str  # AT_CAP, WILL_EXCEED or RESETS_BEFORE_CAP
    days_to_cap_text: str  # the table cell: "at cap", "< 1 day", "4 days", "resets before cap"
    cap_in_words: str | None  # "less than a day", "1 day", "4 days"; None unless WILL_EXCEED
    action: str  # what sales should do, tied to the projection


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days:,} days"


def quota_outlook(
    *, used_mtd: int, monthly_call_limit: int, projected_eom: int, days_to_cap: int | None
) -> QuotaOutlook:
    if used_mtd >= monthly_call_limit:
        return QuotaOutlook(AT_CAP, "at cap", None, "upgrade or bill overage")
    if projected_eom <= monthly_call_limit or days_to_cap is None:
        return QuotaOutlook(RESETS_BEFORE_CAP, "resets before cap", None, "none: resets first")
    if days_to_cap == 0:
        return QuotaOutlook(WILL_EXCEED, "< 1 day", "less than a day", "upgrade now")
    return QuotaOutlook(WILL_EXCEED, _days(days_to_cap), _days(days_to_cap), "offer upgrade")
