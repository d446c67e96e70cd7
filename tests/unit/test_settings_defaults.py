"""`apiwh run` and `make run` build the same warehouse from the same inputs: the Makefile sets no
setting that apiwh does not default to the same way (issue 24). On the bundled sample a bare
apiwh prices plans with seeds/plans.csv and waits for no settle window; on other data neither,
and the run summary says why prices are off."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.settings import (
    DEFAULT_LANDING_SETTLE_SECONDS,
    SAMPLE_PLANS_FILE,
    load_settings,
    prices_off_reason,
)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAW_DATA_DIR", "PLANS_FILE", "LANDING_SETTLE_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_the_sample_is_priced_and_read_at_once_by_default() -> None:
    settings = load_settings()
    assert settings.plans_file == SAMPLE_PLANS_FILE
    assert settings.landing_settle_seconds == 0
    assert prices_off_reason(settings) is None


def test_other_data_has_no_catalogue_and_the_settle_window_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.plans_file is None
    assert settings.landing_settle_seconds == DEFAULT_LANDING_SETTLE_SECONDS == 60
    assert prices_off_reason(settings) == (
        "PLANS_FILE is not set for this data: upgrade_opportunities is empty and quota_outlook has "
        "no next plan or prices (seeds/plans.csv shows the format)"
    )
    plans = tmp_path / "plans.csv"
    plans.write_text("plan_id,monthly_price\npro,49\n")
    monkeypatch.setenv("PLANS_FILE", str(plans))
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "5")
    settings = load_settings()
    assert (settings.plans_file, settings.landing_settle_seconds) == (plans, 5)


def test_an_empty_plans_file_turns_prices_off_even_on_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANS_FILE", "")
    settings = load_settings()
    assert settings.plans_file is None
    assert prices_off_reason(settings).startswith("PLANS_FILE is set empty: ")
