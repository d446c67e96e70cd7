"""The state every part of the builder shares: the one seeded random stream, the window, the
records built so far."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from orchestration.sample_data.records import Org, Record


class BuilderState:
    def __init__(self, *, orgs: int, days: int, seed: int, end_date: date) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_orgs = orgs
        self.days = days
        self.end_date = end_date
        self.start_date = end_date - timedelta(days=days - 1)
        self.window_start = datetime.combine(self.start_date, time(0), UTC)
        self.window_end = datetime.combine(end_date, time(0), UTC) + timedelta(days=1)
        self.records: list[Record] = []
        self.orgs: list[Org] = []
        self.incidents: dict[int, list[tuple[int, int, str]]] = {}
        self.retries = 0

    # -- time helpers ---------------------------------------------------------------------

    def day_start(self, day: int) -> datetime:
        return self.window_start + timedelta(days=day)

    def day_of(self, at: datetime) -> int:
        return (at.date() - self.start_date).days

    def business_time(self, org: Org, day: int) -> datetime:
        hour = self.rng.choices(range(24), cum_weights=org.hour_cum_weights)[0]
        ms = hour * 3_600_000 + int(self.rng.random() * 3_600_000)
        return self.day_start(day) + timedelta(milliseconds=ms)
