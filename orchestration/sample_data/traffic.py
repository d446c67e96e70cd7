"""The API calls: daily volume per organization, bursts, incidents, scripted onboarding keys, and
each call's payload (latency, status, client retries)."""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta
from typing import Any

from orchestration.sample_data.catalogue import (
    CLIENT_ERRORS,
    CLIENT_ERRORS_WRITE,
    INCIDENT_PATHS,
    SERVER_ERRORS,
    TIMEOUT_MS,
    WEEKEND_FACTOR,
    Endpoint,
)
from orchestration.sample_data.primitives import poisson, random_hex, route_template, weighted_status
from orchestration.sample_data.records import Key, Org, Record
from orchestration.sample_data.state import BuilderState


class Traffic(BuilderState):
    # -- calls ---------------------------------------------------------------------------

    def plan_incidents(self) -> None:
        rng = self.rng
        for _ in range(max(1, self.days // 40)):
            day = rng.randint(0, self.days - 1)
            start = rng.randint(0, 22) * 3_600_000
            end = start + rng.randint(1, 3) * 3_600_000
            self.incidents.setdefault(day, []).append((start, end, rng.choice(INCIDENT_PATHS)))

    def volume(self, org: Org, day: int) -> float:
        days = self.days
        if day < org.signup_day or day >= org.active_until:
            return 0.0
        if day // 7 in org.skipped_weeks:
            return 0.0
        lam = org.base_calls
        if org.upgrade_day is not None and org.upgrade_kind == "window" and day >= org.upgrade_day:
            lam *= 2.0
        weekday = self.day_start(day).weekday()
        if weekday >= 5:
            lam *= WEEKEND_FACTOR[org.plan]
        age = day - org.signup_day
        if age < 7:  # ramping up while integrating
            lam *= 0.3 + 0.1 * age
        if org.trend == "growing" and day >= days - 21:
            lam *= 1.065 ** (day - (days - 21))
        elif org.trend == "declining" and day >= days - 7:
            lam *= 0.22
        elif org.trend == "dormant":
            to_end = org.active_until - day
            if to_end <= 10:
                lam *= 0.3 + 0.07 * to_end
        return lam * math.exp(self.rng.gauss(0, 0.2))

    def generate_calls(self) -> None:
        for org in self.orgs:
            traffic = [k for k in org.keys if k.role in ("primary", "secondary", "legacy")]
            for day in range(org.signup_day, min(org.active_until, self.days)):
                self._traffic_day(org, traffic, day)
            for key in org.keys:
                if key.role in ("buggy", "trial", "abandoned"):
                    self._scripted(org, key)
                if key.revoked_at is not None and key.role in ("secondary", "abandoned"):
                    self._after_revoke(org, key)

    def _traffic_day(self, org: Org, traffic: list[Key], day: int) -> None:
        rng = self.rng
        n = poisson(rng, self.volume(org, day))
        day_start = self.day_start(day)
        day_end = day_start + timedelta(days=1)
        keys = [
            k
            for k in traffic
            if k.first_call_at is not None
            and k.first_call_at < day_end
            and (k.revoked_at is None or k.revoked_at > day_start)
        ]
        if not keys or n == 0:
            return
        burst = None
        p_burst = 0.03 if org.plan != "free" else 0.015
        if rng.random() < p_burst:
            kind = rng.choice(("rate_limit", "client_errors", "server_errors"))
            start = rng.randint(6, 18) * 3_600_000 - org.local_offset * 3_600_000
            start = max(0, min(start, 20 * 3_600_000))
            burst = (kind, start, start + rng.randint(1, 4) * 3_600_000)
        hours = rng.choices(range(24), cum_weights=org.hour_cum_weights, k=n)
        times = sorted(h * 3_600_000 + int(rng.random() * 3_600_000) for h in hours)
        if burst is not None and burst[0] == "rate_limit":
            # A client loop hammering the API: a wall of 429s inside the window.
            extra = 20 + poisson(rng, max(10.0, n * 0.6))
            times = sorted(times + [rng.randint(burst[1], burst[2] - 1) for _ in range(extra)])
        incidents = self.incidents.get(day, [])
        for ms in times:
            at = day_start + timedelta(milliseconds=ms)
            eligible = [
                k for k in keys if k.first_call_at <= at and (k.revoked_at is None or at < k.revoked_at)
            ]
            if not eligible:
                continue
            key = (
                eligible[0]
                if len(eligible) == 1
                else rng.choices(eligible, weights=[k.weight for k in eligible])[0]
            )
            endpoint = self._endpoint(org)
            forced: tuple[int, str] | None = None
            if key.calls_made < key.initial_errors:
                forced = (401, "auth") if rng.random() < 0.6 else (400, "validation")
            elif burst is not None and burst[1] <= ms < burst[2]:
                if burst[0] == "rate_limit" and rng.random() < 0.85:
                    forced = (429, "rate_limit")
                elif burst[0] == "client_errors" and rng.random() < 0.6:
                    forced = weighted_status(rng, CLIENT_ERRORS + CLIENT_ERRORS_WRITE)
                elif burst[0] == "server_errors" and rng.random() < 0.5:
                    forced = weighted_status(rng, SERVER_ERRORS)
            if forced is None:
                for start, end, path in incidents:
                    if start <= ms < end and endpoint.path == path and rng.random() < 0.7:
                        forced = rng.choice(((503, "unavailable"), (502, "upstream"), (504, "timeout")))
            self._call(org, key, at, endpoint, forced)

    def _scripted(self, org: Org, key: Key) -> None:
        rng = self.rng
        assert key.issued_at is not None
        issued_day = self.day_of(key.issued_at)
        if key.role == "abandoned":
            at = key.issued_at + timedelta(minutes=rng.randint(2, 90))
            for _ in range(rng.randint(2, 8)):
                status = rng.choice(((401, "auth"), (401, "auth"), (403, "auth"), (400, "validation")))
                self._call(org, key, at, self._endpoint(org), status)
                at += timedelta(minutes=rng.expovariate(1 / 40.0))
        elif key.role == "trial":
            total = rng.randint(8, 70)
            span = rng.randint(1, 5)
            first = key.issued_at + timedelta(minutes=rng.randint(20, 300))
            times = sorted(first + timedelta(seconds=rng.random() * span * 86_400) for _ in range(total - 1))
            for i, at in enumerate([first, *times]):
                forced = (401, "auth") if i == 0 and rng.random() < 0.4 else None
                self._call(org, key, at, self._endpoint(org), forced)
        elif key.role == "buggy":
            # Every day at least one failing call: >= 100 calls, never an error-free day.
            for day in range(issued_day + 1, issued_day + 1 + rng.randint(12, 16)):
                times = sorted(self.business_time(org, day) for _ in range(rng.randint(9, 14)))
                for i, at in enumerate(times):
                    forced = None
                    if i == 0:
                        forced = (422, "validation")
                    elif rng.random() < 0.25:
                        forced = weighted_status(rng, CLIENT_ERRORS_WRITE + SERVER_ERRORS)
                    self._call(org, key, at, self._endpoint(org), forced)

    def _after_revoke(self, org: Org, key: Key) -> None:
        """A client that did not rotate in time: a few 401s with the revoked key."""
        rng = self.rng
        assert key.revoked_at is not None
        if self.day_of(key.revoked_at) >= min(org.active_until, self.days) - 1:
            return
        at = key.revoked_at
        for _ in range(rng.randint(1, 3)):
            at += timedelta(minutes=rng.randint(1, 50))
            self._call(org, key, at, self._endpoint(org), (401, "auth"))

    def _endpoint(self, org: Org) -> Endpoint:
        idx = bisect.bisect_right(org.endpoint_cum_weights, self.rng.random() * org.endpoint_cum_weights[-1])
        return org.endpoints[min(idx, len(org.endpoints) - 1)]

    def _path(self, org: Org, endpoint: Endpoint) -> str:
        rng = self.rng
        path = endpoint.path
        if "{n}" in path:
            path = path.replace("{n}", str(rng.choice(org.order_ids)))
        if "{uuid}" in path:
            path = path.replace("{uuid}", rng.choice(org.uuids))
        if "{hex24}" in path:
            path = path.replace("{hex24}", rng.choice(org.hex24))
        if "{hex16}" in path:
            path = path.replace("{hex16}", rng.choice(org.hex16))
        return path

    def _status(self, org: Org, endpoint: Endpoint) -> tuple[int, str | None]:
        rng = self.rng
        roll = rng.random()
        if roll < org.error_rate:
            options = CLIENT_ERRORS + (CLIENT_ERRORS_WRITE if endpoint.method != "GET" else ())
            return weighted_status(rng, options)
        if roll < org.error_rate + 0.0015:
            return weighted_status(rng, SERVER_ERRORS)
        if endpoint.method == "GET" and roll > 0.985:
            return 304, None
        if endpoint.creates:
            return 201, None
        if endpoint.method == "DELETE":
            return 204, None
        return 200, None

    def _call(
        self,
        org: Org,
        key: Key,
        at: datetime,
        endpoint: Endpoint,
        forced: tuple[int, str] | None,
        *,
        idempotency_key: str | None = None,
        attempt: int = 1,
    ) -> None:
        rng = self.rng
        if at >= self.window_end:
            return
        key.calls_made += 1
        status, error_type = forced if forced is not None else self._status(org, endpoint)
        method = endpoint.method
        writes = method != "GET"
        if writes and idempotency_key is None and rng.random() < 0.8:
            idempotency_key = f"idem_{random_hex(rng, 16)}"
        # Latency: the endpoint's own distribution; errors are fast, timeouts hit the limit.
        cache = None
        if status == 504:
            duration = TIMEOUT_MS + rng.random() * 50
        elif status in (401, 403, 429):
            duration = rng.uniform(0.8, 6.0)
        elif 400 <= status < 500:
            duration = rng.uniform(4.0, 25.0)
        elif status == 503:
            duration = rng.uniform(1.0, 5.0)
        else:
            duration = endpoint.median_ms * math.exp(rng.gauss(0, endpoint.sigma))
            if method == "GET" and status < 400 and rng.random() < 0.5:
                cache = "hit" if rng.random() < 0.35 else "miss"
                if cache == "hit":
                    duration *= 0.12
        duration = round(duration, 1)
        style = org.time_style
        roll = rng.random()
        if roll < 0.03:
            style = "naive"
        elif style != "utc" and roll < 0.25:
            style = "utc"
        api: dict[str, Any] = {"method": method.lower() if rng.random() < 0.02 else method}
        roll = rng.random()
        if roll < 0.003:
            api["route"] = route_template(endpoint.path)  # gateway knows the route, no raw path
        else:
            api["endpoint"] = self._path(org, endpoint)
            if roll < 0.15:
                api["route"] = route_template(endpoint.path)
            elif roll < 0.153:
                api["route"] = ""
        api["version"] = "2026-06-01" if endpoint.path.startswith("/v2") else "2025-11-15"
        result: dict[str, Any] = {"status_code": status}
        if error_type is not None:
            result["error_type"] = error_type
        if cache is not None:
            result["cache_status"] = cache
        timings: dict[str, Any] = {"request_duration_ms": duration}
        if cache != "hit" and status not in (401, 403, 429, 503) and rng.random() < 0.6:
            timings["upstream_ms"] = round(duration * rng.uniform(0.55, 0.92), 1)
        payload: dict[str, Any] = {
            "consumer": {
                "organization_id": org.org_id,
                "developer_id": key.developer_id,
                "application_id": key.application_id,
                "api_key_id": key.key_id,
            },
        }
        if rng.random() < 0.95:
            payload["consumer"]["plan_id"] = org.plan_at(at)
        if rng.random() < 0.5:
            payload["request_id"] = f"req_{random_hex(rng, 8)}"
        if idempotency_key is not None:
            payload["idempotency_key"] = idempotency_key
        payload["api"] = api
        payload["result"] = result
        payload["timings"] = timings
        if rng.random() < 0.92:
            if status >= 400:
                response = rng.randint(90, 320)
            elif status in (204, 304):
                response = 0
            else:
                response = int(endpoint.response_bytes * math.exp(rng.gauss(0, 0.4)))
            request = int(rng.uniform(150, 4000)) if writes else 0
            payload["bytes"] = {"request": request, "response": response}
        network: dict[str, Any] = {}
        if rng.random() < 0.93:
            network["ip"] = rng.choice(org.ips)
        network["country"] = org.country
        network["region"] = org.region
        payload["network"] = network
        if key.sdk_version is not None or key.user_agent is not None:
            client: dict[str, Any] = {}
            if key.sdk_version is not None:
                client["sdk_version"] = key.sdk_version
            client["user_agent"] = key.user_agent
            payload["client"] = client
        if rng.random() < 0.1:
            payload["gateway"] = {"node": f"edge-{org.city}-{rng.randint(1, 4)}", "build": "2026.08.3"}
        if style == "naive":
            payload["schema_version"] = 1
        record = Record(
            at=at,
            event_type="api_request",
            payload=payload,
            org_id=org.org_id,
            style=style,
            status=status,
            key_id=key.key_id,
            is_retry=attempt > 1,
            endpoint=endpoint,
        )
        self.records.append(record)
        # A failed write with an idempotency key is retried by the client: new event, same key.
        if (
            idempotency_key is not None
            and (status == 429 or status >= 500)
            and attempt < 4
            and rng.random() < 0.75
        ):
            self.retries += 1
            backoff = rng.uniform(1, 60) if status == 429 else rng.uniform(0.5, 8) * attempt
            retry_at = at + timedelta(milliseconds=int(duration) + int(backoff * 1000))
            retry_status = None if rng.random() < 0.85 else (status, error_type or "internal")
            if retry_at < self.window_end:
                self._call(
                    org,
                    key,
                    retry_at,
                    endpoint,
                    retry_status,
                    idempotency_key=idempotency_key,
                    attempt=attempt + 1,
                )
            else:
                self.retries -= 1
