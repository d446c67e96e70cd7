"""The whole builder: its parts in the order `generate()` runs them."""

from __future__ import annotations

from orchestration.sample_data.accounts import Accounts
from orchestration.sample_data.population import Population
from orchestration.sample_data.traffic import Traffic


class Builder(Population, Traffic, Accounts):
    """Organizations and keys, then calls, then account events, then ids and arrival times."""

    def build(self) -> None:
        self.plan_organizations()
        self.plan_keys()
        self.plan_incidents()
        self.generate_calls()
        self.key_events()
        self.quota_events()
        self.other_events()
        self.finalize()
