"""The whole builder: its parts in the order `generate()` runs them."""

from __future__ import annotations

from orchestration.sample_data.accounts import Accounts
from orchestration.sample_data.population import Population
from orchestration.sample_data.records import PlantedSignals
from orchestration.sample_data.signals import Signals


class Builder(Population, Signals, Accounts):
    """Organizations and keys, then calls and the planted signals, then account events, then ids
    and arrival times."""

    def build(self) -> PlantedSignals:
        self.plan_organizations()
        self.plan_keys()
        self.plan_incidents()
        self.generate_calls()
        planted = self.plant_signals()
        self.key_events()
        self.quota_events()
        self.other_events()
        self.finalize()
        return planted
