"""The quota page's section "after the cap": marts.quota_outcomes as shown, each complete month
an account reached 80% of its quota and what followed the next month. The outcome is the mart's,
worded by orchestration/verdict_words.py; nothing is judged here."""

from __future__ import annotations

from typing import Any

import duckdb

from orchestration.dashboard import words
from orchestration.dashboard.customer_pages import CUSTOMER_DIR
from orchestration.dashboard.customer_view import page_name
from orchestration.dashboard.organizations import Directory
from orchestration.reports.queries import site as queries
from orchestration.verdict_words import QUOTA_OUTCOME_MEANING, QUOTA_OUTCOME_WORDS, outcome_cell


def after_the_cap(con: duckdb.DuckDBPyConnection, directory: Directory) -> dict[str, Any]:
    """The section's template variables: `outcomes` (None without the mart) and the meanings."""
    found = queries.quota_outcomes(con)
    outcomes = None
    if found is not None:
        outcomes = [
            {
                "organization_id": row["organization_id"],
                "name": directory.name(row["organization_id"]),
                "href": f"{CUSTOMER_DIR}/{page_name(row['organization_id'])}",
                "month": f"{row['billing_month']:%Y-%m}",
                "peak": f"{row['peak_band']}%",
                "limit": words.format_count(row["limit_at_month_end"]),
                "rate_limited": words.format_count(row["rate_limited_calls"]),
                "next_limit": words.format_count(row["next_month_limit"]),
                "next_calls": words.format_count(row["next_month_calls"]),
                "outcome": row["outcome"],
                "outcome_text": outcome_cell(row["outcome"], row["is_next_month_complete"]),
            }
            for row in found
        ]
    meanings = {QUOTA_OUTCOME_WORDS[word]: meaning for word, meaning in QUOTA_OUTCOME_MEANING.items()}
    return {"outcomes": outcomes, "outcome_meanings": meanings}
