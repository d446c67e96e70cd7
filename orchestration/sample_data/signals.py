"""Reliability signals planted on purpose, so every mart and alert type of docs/contract.md
section 2b shows up on the sample, each for one known customer (or route):

- usage_spike: one customer's batch job hammers `GET /v1/search` on the last day;
- key_sharing_suspect: one customer's key is used from 40 addresses in 6 countries on the last day;
- integration_failing: one customer's integration fails (validation, auth) over its last 10 days;
- endpoint_degradation: `GET /v1/orders/{id}` is slow and partly unavailable for most of the
  last day, for every customer calling it;
- api_version_exposure: a slow migration from API version 2025-11-15 to 2026-06-01 (some
  customers moved before the window, most during it, some never); raw HTTP clients send none.

Planting draws from its own random stream, so the rest of the sample stays as it was.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from orchestration.sample_data.catalogue import ENDPOINTS, REQUIRED_TRENDS, Endpoint
from orchestration.sample_data.primitives import route_template
from orchestration.sample_data.records import Org, PlantedSignals
from orchestration.sample_data.traffic import Traffic

OLD_API_VERSION = "2025-11-15"
NEW_API_VERSION = "2026-06-01"
MIGRATION_DAYS = 14  # from the first call on the new version to the last on the old one
SHARED_KEY_ADDRESSES = 40
SHARED_KEY_COUNTRIES = (
    ("US", "us-east-1"),
    ("BR", "sa-east-1"),
    ("IN", "ap-south-1"),
    ("DE", "eu-central-1"),
    ("VN", "ap-southeast-1"),
    ("NG", "eu-west-2"),
)
FAILING_DAYS = 10


def _endpoint(path: str, method: str) -> Endpoint:
    return next(e for e in ENDPOINTS if e.path == path and e.method == method)


SPIKE_ENDPOINT = _endpoint("/v1/search", "GET")
DEGRADED_ENDPOINT = _endpoint("/v1/orders/{n}", "GET")
SHARED_KEY_ENDPOINT = _endpoint("/v1/items", "GET")


class Signals(Traffic):
    def choose_signal_owners(self) -> PlantedSignals:
        """Three steady, paying customers with a long history (never one of the sole examples of
        a trend): the busiest fails, the quietest spikes, one in between shares its key."""
        candidates = sorted(
            (
                o
                for o in self.orgs
                if o.index >= len(REQUIRED_TRENDS)
                and o.trend == "steady"
                and o.plan != "free"
                and not o.legacy
                and o.upgrade_day is None
                and o.signup_day <= self.days - 45
                and o.keys[0].sdk_version is not None  # versioned calls: the migration stays readable
            ),
            key=lambda o: (o.base_calls, o.index),
        )
        failing = candidates[-1] if candidates else None
        spike = candidates[0] if len(candidates) >= 2 else None
        sharing = candidates[len(candidates) // 2] if len(candidates) >= 3 else None
        return PlantedSignals(
            degraded_route=route_template(DEGRADED_ENDPOINT.path),
            degraded_method=DEGRADED_ENDPOINT.method,
            spike_route=route_template(SPIKE_ENDPOINT.path),
            usage_spike_org=spike.org_id if spike else None,
            usage_spike_key=spike.keys[0].key_id if spike else None,
            key_sharing_org=sharing.org_id if sharing else None,
            key_sharing_key=sharing.keys[0].key_id if sharing else None,
            failing_org=failing.org_id if failing else None,
        )

    def plant_signals(self) -> PlantedSignals:
        planted = self.choose_signal_owners()
        main_rng, self.rng = self.rng, random.Random(f"{self.seed}-signals")
        try:
            by_id = {org.org_id: org for org in self.orgs}
            if planted.usage_spike_org:
                self._batch_job(by_id[planted.usage_spike_org])
            if planted.key_sharing_org:
                self._shared_key(by_id[planted.key_sharing_org])
            if planted.failing_org:
                self._failing_integration(planted.failing_org)
            self._degraded_route()
            self._version_migration()
        finally:
            self.rng = main_rng
        return planted

    def _last_day_at(self, hour: float) -> datetime:
        return self.day_start(self.days - 1) + timedelta(hours=hour)

    def _batch_job(self, org: Org) -> None:
        """A new nightly export run by day: 1,500+ searches in six hours, a few rate limited."""
        rng = self.rng
        key = org.keys[0]
        calls = 1500 + 15 * round(org.base_calls)
        for _ in range(calls):
            at = self._last_day_at(12 + 6 * rng.random())
            forced = (429, "rate_limit") if rng.random() < 0.04 else None
            self._call(org, key, at, SPIKE_ENDPOINT, forced)

    def _shared_key(self, org: Org) -> None:
        """The key pasted into a public client: calls from 40 addresses in 6 countries."""
        rng = self.rng
        key = org.keys[0]
        for index in range(2 * SHARED_KEY_ADDRESSES):
            at = self._last_day_at(24 * rng.random())
            self._call(org, key, at, SHARED_KEY_ENDPOINT, None)
            country, region = SHARED_KEY_COUNTRIES[index % len(SHARED_KEY_COUNTRIES)]
            address = index % SHARED_KEY_ADDRESSES
            network = self.records[-1].payload["network"]
            network.update(ip=f"198.18.{address // 200}.{address % 200 + 1}", country=country, region=region)

    def _failing_integration(self, org_id: str) -> None:
        """After a bad deploy most calls are refused: writes as invalid, reads as bad requests,
        some with an expired token."""
        rng = self.rng
        start = self.day_start(self.days - FAILING_DAYS)
        for rec in self.records:
            if rec.org_id != org_id or rec.event_type != "api_request" or rec.at < start:
                continue
            if rng.random() >= 0.75 or rec.endpoint is None:
                continue
            if rng.random() < 0.15:
                status, error_type = 401, "auth"
            elif rec.endpoint.method == "GET":
                status, error_type = 400, "validation"
            else:
                status, error_type = 422, "validation"
            rec.status = status
            rec.payload["result"] = {"status_code": status, "error_type": error_type}
            rec.payload["timings"] = {"request_duration_ms": round(rng.uniform(4.0, 25.0), 1)}

    def _degraded_route(self) -> None:
        """A database failover: from 07:00 to 19:00 UTC on the last day the route is slow for
        everyone and one call in eight fails."""
        rng = self.rng
        start, end = self._last_day_at(7), self._last_day_at(19)
        for rec in self.records:
            if rec.endpoint != DEGRADED_ENDPOINT or not start <= rec.at < end:
                continue
            if rec.status is not None and rec.status >= 400:
                continue
            if rng.random() < 0.125:
                rec.status = 503
                rec.payload["result"] = {"status_code": 503, "error_type": "unavailable"}
                rec.payload["timings"] = {"request_duration_ms": round(rng.uniform(1.0, 5.0), 1)}
                continue
            duration = round(rng.uniform(350.0, 2500.0), 1)
            rec.payload["result"].pop("cache_status", None)
            upstream = round(duration * 0.95, 1)
            rec.payload["timings"] = {"request_duration_ms": duration, "upstream_ms": upstream}

    def _version_migration(self) -> None:
        """Each customer's move to the new API version: before the window, during it (over two
        weeks of mixed calls), or not yet. Raw HTTP clients send no version."""
        rng = self.rng
        moves: dict[str, int | None] = {}
        for org in self.orgs:
            roll = rng.random()
            if roll < 0.2:
                moves[org.org_id] = -MIGRATION_DAYS  # done before the data starts
            elif roll < 0.8:
                moves[org.org_id] = rng.randint(self.days // 6, self.days - 10)
            else:
                moves[org.org_id] = None  # still on the old version
        for rec in self.records:
            if rec.event_type != "api_request":
                continue
            api = rec.payload["api"]
            if "sdk_version" not in rec.payload.get("client", {}):
                api.pop("version", None)
                continue
            move = moves[rec.org_id]
            progress = -1.0 if move is None else (self.day_of(rec.at) - move) / MIGRATION_DAYS
            on_new = progress >= 1 or (progress >= 0 and rng.random() < progress)
            api["version"] = NEW_API_VERSION if on_new else OLD_API_VERSION
