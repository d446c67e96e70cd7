"""A warehouse built the way a newcomer builds one (`apiwh run` in a real subprocess, the kit's
apiwh_run), on data whose as-of date is the last day of a month."""

from __future__ import annotations

from pathlib import Path

from tests.shared_builds import apiwh_run_once
from tests.support import BuiltWarehouse, api_request, key_issued, quota_set

AS_OF = "2026-10-31"  # the last day of October: the projection equals what was used
SECRET_SALT = "a-secret-salt-0f1e2d3c4b5a"


def _october_calls(org: str, count: int, key: str) -> list[dict]:
    """`count` calls spread over every day of October, each day at least once."""
    return [
        api_request(org, f"2026-10-{i % 31 + 1:02d}T{(i // 31) % 24:02d}:{i % 60:02d}:00Z", key=key)
        for i in range(count)
    ]


def last_day_of_month_events() -> list[dict]:
    return [
        key_issued("org_near", "2026-10-01T08:00:00Z", "key_near", plan="pro"),
        quota_set("org_near", "2026-10-01T08:00:00Z", 1000, plan="pro"),
        quota_set("org_far", "2026-10-01T08:00:00Z", 1000, plan="pro"),
        quota_set("org_over", "2026-10-01T08:00:00Z", 100, plan="free"),
        # 989 of 1,000: 98.9%, days_to_cap = floor(11 * 31 / 989) = 0, projected 989: not at cap.
        *_october_calls("org_near", 989, "key_near"),
        # 86 of 1,000: days_to_cap = floor(914 * 31 / 86) = 329 on the month's last day.
        *_october_calls("org_far", 86, "key_far"),
        # 120 of 100: at cap.
        *_october_calls("org_over", 120, "key_over"),
    ]


def month_end_run(shared: Path) -> BuiltWarehouse:
    """`apiwh run` on last_day_of_month_events, once per test session (tests/shared_builds.py),
    with a secret IP hash salt: the run says nothing about the salt (tests/integration/test_ip_salt.py
    reads the same run)."""
    return apiwh_run_once(
        shared, "month_end", {"october.ndjson": last_day_of_month_events()}, IP_HASH_SALT=SECRET_SALT
    )
