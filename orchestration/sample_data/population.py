"""Who is in the sample: organizations with their plan, trend and lifecycle, upgrades, and keys."""

from __future__ import annotations

import math
from datetime import timedelta

from orchestration.sample_data.catalogue import (
    BASE_DAILY_CALLS,
    BASE_ERROR_RATE,
    ENDPOINTS,
    EXTRA_KEYS,
    GEOS,
    HOUR_PROFILE,
    IPV4_PREFIXES,
    KEY_ROLE_WEIGHTS,
    NEXT_PLAN,
    PLAN_SHARES,
    RAW_CLIENTS,
    REQUIRED_KEY_ROLES,
    REQUIRED_TRENDS,
    SDKS,
    TREND_WEIGHTS,
    WEEK_SKIP,
)
from orchestration.sample_data.primitives import cumulative, random_hex, random_uuid4
from orchestration.sample_data.records import Key, Org
from orchestration.sample_data.state import BuilderState


class Population(BuilderState):
    # -- organizations and keys ------------------------------------------------------------

    def plan_organizations(self) -> None:
        rng, days = self.rng, self.days
        plans: list[str] = []
        for plan, share in PLAN_SHARES:
            plans += [plan] * max(1 if self.n_orgs >= 3 else 0, round(share * self.n_orgs))
        while len(plans) < self.n_orgs:
            plans.append("pro")
        plans = plans[: self.n_orgs]
        rng.shuffle(plans)

        trends = []
        for i, plan in enumerate(plans):
            if i < len(REQUIRED_TRENDS):
                trends.append(REQUIRED_TRENDS[i])
            else:
                weights = TREND_WEIGHTS[plan]
                trends.append(rng.choices(list(weights), weights=list(weights.values()))[0])
        # Legacy organizations (keys issued before the data starts: in no cohort).
        legacy_left = self.n_orgs // 20
        used_ids: set[str] = set()
        for i, (plan, trend) in enumerate(zip(plans, trends, strict=True)):
            org_id = f"org_{random_hex(rng, 6)}"
            while org_id in used_ids:
                org_id = f"org_{random_hex(rng, 6)}"
            used_ids.add(org_id)
            country, region, offset, city, style = rng.choice(GEOS)
            legacy = legacy_left > 0 and i >= len(REQUIRED_TRENDS) and trend == "steady"
            if legacy:
                legacy_left -= 1
            signup, until = self._lifecycle(plan, trend, legacy)
            base = BASE_DAILY_CALLS[plan] * math.exp(rng.gauss(0, 0.55))
            if trend == "declining":
                base = max(base, 38.0)
            if rng.random() < 0.2:
                ips = [f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"]
                ips += [f"{rng.choice(IPV4_PREFIXES)}{rng.randint(1, 254)}"]
            else:
                n_ips = rng.randint(1, 3)
                ips = [f"{rng.choice(IPV4_PREFIXES)}{rng.randint(1, 254)}" for _ in range(n_ips)]
            hour_weights = [HOUR_PROFILE[(h + offset) % 24] for h in range(24)]
            endpoints = [e for e in ENDPOINTS if rng.random() < 0.75 or e.path == "/v1/items"]
            ep_weights = [e.weight * math.exp(rng.gauss(0, 0.6)) for e in endpoints]
            if rng.random() < 0.25:  # a monitoring probe hammering the health check
                ep_weights = [
                    w * 6 if e.path == "/v1/health" else w for e, w in zip(endpoints, ep_weights, strict=True)
                ]
            org = Org(
                index=i,
                org_id=org_id,
                plan=plan,
                trend=trend,
                signup_day=signup,
                active_until=until,
                base_calls=base,
                error_rate=BASE_ERROR_RATE[plan] * math.exp(rng.gauss(0, 0.5)),
                country=country,
                region=region,
                local_offset=offset,
                city=city,
                time_style=style,
                ips=ips,
                hour_cum_weights=cumulative(hour_weights),
                endpoints=endpoints,
                endpoint_cum_weights=cumulative(ep_weights),
                order_ids=[rng.randint(1000, 999_999) for _ in range(40)],
                uuids=[random_uuid4(rng) for _ in range(12)],
                hex24=[random_hex(rng, 24) for _ in range(10)],
                hex16=[random_hex(rng, 16) for _ in range(4)],
                developers=[f"dev_{random_hex(rng, 6)}" for _ in range(rng.randint(1, 3))],
                applications=[f"app_{random_hex(rng, 6)}" for _ in range(rng.randint(1, 2))],
                legacy=legacy,
            )
            skip = WEEK_SKIP[plan]
            for week in range(org.signup_day // 7 + 1, (days - 14) // 7):
                if rng.random() < skip:
                    org.skipped_weeks.add(week)
            self.orgs.append(org)
        self._plan_upgrades()

    def _lifecycle(self, plan: str, trend: str, legacy: bool) -> tuple[int, int]:
        rng, days = self.rng, self.days
        if legacy:
            return 0, days
        if trend == "new":
            return rng.randint(days - 13, days - 3), days
        if trend == "dormant":
            signup = rng.randint(0, max(0, days - 40))
            mean_weeks = {"free": 2.5, "pro": 5.0, "enterprise": 8.0}[plan]
            life = 8 + int(rng.expovariate(1 / (mean_weeks * 7)))
            return signup, max(signup + 2, min(signup + life, days - 8))
        return rng.randint(0, max(0, days - 35)), days

    def _plan_upgrades(self) -> None:
        rng, days = self.rng, self.days
        candidates = [
            o for o in self.orgs if o.plan in NEXT_PLAN and o.trend in ("steady", "growing") and not o.legacy
        ]
        # One upgrade in the last month (quota raised mid-month): the busiest eligible organization.
        month_start_day = (self.end_date.replace(day=1) - self.start_date).days
        month_days = self.end_date.day
        busiest = sorted(candidates, key=lambda o: (-o.base_calls, o.index))
        monthly = next((o for o in busiest if month_days >= 12 and o.signup_day < month_start_day - 20), None)
        picked = 0
        for org in ([monthly] if monthly else []) + [o for o in candidates if o is not monthly]:
            if picked >= max(1, self.n_orgs // 10):
                break
            if org is monthly:
                org.upgrade_day = month_start_day + int(month_days * 0.55)
                org.upgrade_kind = "month"
            elif org.signup_day + 14 <= days - 25:
                org.upgrade_day = rng.randint(org.signup_day + 14, days - 25)
                org.upgrade_kind = "window"
            else:
                continue
            org.upgrade_plan = NEXT_PLAN[org.plan]
            org.upgrade_at = self.business_time(org, org.upgrade_day)
            picked += 1

    def plan_keys(self) -> None:
        rng = self.rng
        role_queue = list(REQUIRED_KEY_ROLES)
        for org in self.orgs:
            org.signup_at = self.business_time(org, org.signup_day)
            sdk = self._client(org)
            first = Key(
                key_id=f"key_{random_hex(rng, 12)}",
                org=org,
                developer_id=org.developers[0],
                application_id=org.applications[0],
                role="legacy" if org.legacy else "primary",
                issued_at=None if org.legacy else org.signup_at,
                weight=1.0,
                sdk_version=sdk[0],
                user_agent=sdk[1],
            )
            if org.legacy:
                first.first_call_at = self.window_start
            else:
                first.initial_errors = rng.choice((0, 0, 1, 2, 3))
                delay_h = min(72.0, rng.expovariate(1 / 4.0))
                first.first_call_at = org.signup_at + timedelta(hours=delay_h)
            org.keys.append(first)
            lo, hi = EXTRA_KEYS[org.plan]
            for _ in range(rng.randint(lo, hi)):
                if role_queue and org.trend in ("steady", "growing") and not org.legacy:
                    role = role_queue.pop(0)
                else:
                    role = rng.choices(list(KEY_ROLE_WEIGHTS), weights=list(KEY_ROLE_WEIGHTS.values()))[0]
                self._add_key(org, role)
            if org.legacy:
                # A second legacy key, also never issued within the data.
                self._add_key(org, "legacy")

    def _client(self, org: Org) -> tuple[str | None, str | None]:
        rng = self.rng
        if rng.random() < 0.2:
            return None, rng.choice(RAW_CLIENTS)
        lang, versions, runtime = rng.choice(SDKS)
        version = rng.choice(versions)
        return version, f"apiwh-{lang}/{version} ({runtime}; {org.region})"

    def _add_key(self, org: Org, role: str) -> None:
        rng = self.rng
        sdk = self._client(org)
        key = Key(
            key_id=f"key_{random_hex(rng, 12)}",
            org=org,
            developer_id=rng.choice(org.developers),
            application_id=rng.choice(org.applications),
            role=role,
            issued_at=None,
            sdk_version=sdk[0],
            user_agent=sdk[1],
        )
        last_day = min(org.active_until, self.days) - 1
        # Scripted keys play out before the last two weeks so they do not bend the trends.
        script_end = min(last_day, self.days - 15) if org.trend != "new" else last_day
        script_len = {"buggy": 17, "trial": 6, "abandoned": 2}.get(role, 0)
        if role == "legacy":
            key.first_call_at = self.window_start + timedelta(days=rng.randint(0, 20))
            key.weight = rng.uniform(0.2, 0.5)
        elif role in ("buggy", "trial", "abandoned"):
            lo, hi = org.signup_day + 1, script_end - script_len
            if hi < lo:
                role = key.role = "dead"
            else:
                key.issued_at = self.business_time(org, rng.randint(lo, hi))
        if role in ("dead", "secondary"):
            lo = org.signup_day + (1 if role == "dead" else 3)
            hi = last_day if role == "dead" else min(last_day, org.signup_day + 45)
            if hi < lo:
                return
            key.issued_at = self.business_time(org, rng.randint(lo, hi))
        if role == "secondary":
            key.weight = rng.uniform(0.15, 0.6)
            key.initial_errors = rng.choice((0, 1, 2))
            key.first_call_at = key.issued_at + timedelta(hours=rng.expovariate(1 / 6.0))
            # Some secondary keys are rotated: revoked, and a new one takes over.
            revoke_day = rng.randint(self.day_of(key.issued_at) + 10, self.days + 40)
            if rng.random() < 0.35 and revoke_day < last_day - 1:
                key.revoked_at = self.business_time(org, revoke_day)
                if key.revoked_at <= key.first_call_at:
                    key.revoked_at = key.first_call_at + timedelta(days=1)
                successor = Key(
                    key_id=f"key_{random_hex(rng, 12)}",
                    org=org,
                    developer_id=key.developer_id,
                    application_id=key.application_id,
                    role="secondary",
                    issued_at=key.revoked_at - timedelta(minutes=rng.randint(5, 120)),
                    weight=key.weight,
                    sdk_version=key.sdk_version,
                    user_agent=key.user_agent,
                )
                successor.first_call_at = successor.issued_at + timedelta(minutes=3)
                org.keys.append(key)
                org.keys.append(successor)
                return
        if role in ("dead", "abandoned") and rng.random() < 0.5 and key.issued_at is not None:
            revoke = key.issued_at + timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 8))
            if revoke < self.window_end:
                key.revoked_at = revoke
        org.keys.append(key)
