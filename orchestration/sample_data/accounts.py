"""Account events around the calls (keys issued and revoked, quotas tuned so every band occurs,
events of unknown types), then event ids and arrival times."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

from orchestration.sample_data.catalogue import DEFAULT_LIMIT, QUOTA_TARGETS
from orchestration.sample_data.primitives import render_time
from orchestration.sample_data.records import Org, Record
from orchestration.sample_data.state import BuilderState


class Accounts(BuilderState):
    # -- key, quota and other events ----------------------------------------------------

    def key_events(self) -> None:
        for org in self.orgs:
            for key in org.keys:
                for kind, at in (("key_issued", key.issued_at), ("key_revoked", key.revoked_at)):
                    if at is None or at >= self.window_end:
                        continue
                    consumer = {
                        "organization_id": org.org_id,
                        "developer_id": key.developer_id,
                        "application_id": key.application_id,
                        "api_key_id": key.key_id,
                        "plan_id": org.plan_at(at),
                    }
                    payload: dict[str, Any] = {"consumer": consumer}
                    if kind == "key_issued":
                        scopes = ["read"] if self.rng.random() < 0.3 else ["read", "write"]
                        payload["key"] = {"label": f"{key.role}-{key.key_id[-4:]}", "scopes": scopes}
                    self.records.append(Record(at=at, event_type=kind, payload=payload, org_id=org.org_id))

    def _quota(self, org: Org, at: datetime, limit: int, plan: str, reason: str) -> None:
        payload = {
            "consumer": {"organization_id": org.org_id, "plan_id": plan},
            "quota": {"monthly_call_limit": limit, "plan_id": plan, "reason": reason},
        }
        self.records.append(Record(at=at, event_type="quota_set", payload=payload, org_id=org.org_id))

    def quota_events(self) -> None:
        """Quotas at signup and upgrade, then the last month tuned so every band occurs."""
        rng = self.rng
        month_start = datetime.combine(self.end_date.replace(day=1), time(0), UTC)
        used: Counter[str] = Counter()
        used_before: Counter[str] = Counter()
        by_org = {o.org_id: o for o in self.orgs}
        for rec in self.records:
            if rec.event_type == "api_request" and rec.at >= month_start:
                used[rec.org_id] += 1
                org = by_org[rec.org_id]
                if org.upgrade_kind == "month" and org.upgrade_at and rec.at < org.upgrade_at:
                    used_before[rec.org_id] += 1
        # Which organizations have a quota at all: legacy ones and a few others have none.
        for i, org in enumerate(self.orgs):
            org.has_quota = not org.legacy and not (i >= 5 and rng.random() < 0.06)
            org.unlimited = org.plan == "enterprise" and rng.random() < 0.4
        candidates = [
            o
            for o in self.orgs
            if o.has_quota and o.upgrade_day is None and o.trend != "new" and used[o.org_id] >= 150
        ]
        rng.shuffle(candidates)
        targets = dict(zip((o.org_id for o in candidates), QUOTA_TARGETS, strict=False))
        # Quota 0 means none: some enterprise contracts are unlimited (at least one organization).
        untuned = [o for o in self.orgs if o.has_quota and o.org_id not in targets and o.upgrade_day is None]
        if untuned and not any(o.unlimited for o in untuned):
            max(untuned, key=lambda o: (o.plan == "enterprise", -o.index)).unlimited = True
        for org in self.orgs:
            if not org.has_quota:
                continue
            assert org.signup_at is not None
            at = org.signup_at + timedelta(seconds=rng.randint(5, 120))
            # Organizations the last month is tuned for get a negotiated quota at signup.
            if org.upgrade_kind == "month" and org.upgrade_at is not None and org.upgrade_plan:
                # Near the cap in mid-month, then upgraded and raised: the upsell moment.
                first_limit = _limit_for(max(1, used_before[org.org_id]), 97.0)
                self._quota(org, at, first_limit, org.plan, "signup")
                final_limit = max(_limit_for(max(1, used[org.org_id]), 58.0), first_limit + 1)
                self._quota(org, org.upgrade_at, final_limit, org.upgrade_plan, "upgrade")
            elif org.org_id in targets:
                limit = _limit_for(used[org.org_id], targets[org.org_id])
                self._quota(org, at, limit, org.plan, "signup")
                if targets[org.org_id] > 100:
                    self._throttle_over_cap(org.org_id, month_start, limit)
            else:
                limit = 0 if org.unlimited else DEFAULT_LIMIT[org.plan]
                self._quota(org, at, limit, org.plan, "signup")
                if org.upgrade_at is not None and org.upgrade_plan is not None:
                    limit = DEFAULT_LIMIT[org.upgrade_plan]
                    self._quota(org, org.upgrade_at, limit, org.upgrade_plan, "upgrade")

    def _throttle_over_cap(self, org_id: str, month_start: datetime, limit: int) -> None:
        """Past its cap an organization's calls start failing with 429 quota_exceeded."""
        calls = sorted(
            (r for r in self.records if r.org_id == org_id and r.event_type == "api_request"
             and r.at >= month_start),
            key=lambda r: r.at,
        )  # fmt: skip
        for rec in calls[limit:]:
            if self.rng.random() < 0.5:
                rec.status = 429
                result = rec.payload["result"]
                result.clear()
                result.update({"status_code": 429, "error_type": "quota_exceeded"})

    def other_events(self) -> None:
        """A few events of types the marts ignore (kept, never counted)."""
        rng = self.rng
        for i in range(3):
            org = self.orgs[rng.randrange(len(self.orgs))]
            day = rng.randint(org.signup_day, self.days - 1)
            at = self.business_time(org, day)
            if i < 2:
                payload: dict[str, Any] = {
                    "consumer": {"organization_id": org.org_id},
                    "note": {"text": "invoice adjusted", "amount_cents": rng.randint(100, 90_000)},
                }
                kind = "billing_note"
            else:
                payload = {
                    "consumer": {"organization_id": org.org_id},
                    "webhook": {"url_host": "hooks.example.com", "status_code": 200},
                }
                kind = "webhook_delivery"
            self.records.append(Record(at=at, event_type=kind, payload=payload, org_id=org.org_id))

    # -- ids, arrival, files -----------------------------------------------------------------

    def finalize(self) -> None:
        rng = self.rng
        for i, rec in enumerate(self.records):
            rec.seq = i
        self.records.sort(key=lambda r: (r.at, r.seq))
        for n, rec in enumerate(self.records, start=1):
            rec.event_id = f"evt_{self.seed}_{n:08d}"
            roll = rng.random()
            if roll < 0.03:
                rec.received = None
            elif roll < 0.033 and rec.at + timedelta(hours=70) < self.window_end:
                rec.received = rec.at + timedelta(hours=rng.uniform(20, 70))  # a late batch
            else:
                # The collector stamps a whole batch when it flushes (every 10 s).
                lag = rec.at + timedelta(milliseconds=int(rng.expovariate(1 / 400.0)) + 5)
                rec.received = (
                    lag + timedelta(microseconds=-lag.microsecond) + timedelta(seconds=10 - lag.second % 10)
                )

    def body(self, rec: Record) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": rec.event_id,
            "event_type": rec.event_type,
            "event_time": render_time(rec.at, rec.style),
        }
        if rec.received is not None:
            body["received_at"] = render_time(rec.received, "utc")
        body.update(rec.payload)
        return body


def _band(pct: float) -> int:
    for band in (100, 95, 80, 50):
        if pct >= band:
            return band
    return 0


def _limit_for(used: int, target_pct: float) -> int:
    """A monthly limit putting `used` at about `target_pct` (same band once rounded to 0.1)."""
    exact = max(1, math.ceil(used * 100 / target_pct))
    want = _band(round(target_pct, 1))
    if want > _band(target_pct):
        # Just under a band that rounding reaches (79.96% shows as 80.0): find such a limit.
        low = want - 0.05
        for limit in range(math.floor(used * 100 / low), math.ceil(used * 100 / want) - 1, -1):
            pct = 100 * used / limit
            if low <= pct < want and round(pct, 1) == want:
                return limit
        return max(1, math.ceil(used * 100 / (want + 3)))
    for step in (1000, 500, 100, 50, 10):
        nice = max(step, round(exact / step) * step)
        pct = round(100 * used / nice, 1)
        if _band(pct) == want and abs(pct - target_pct) <= 1.5:
            return nice
    return exact
