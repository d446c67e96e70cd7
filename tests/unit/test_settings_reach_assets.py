"""Every Settings field reaches the assets: a setting added to orchestration/settings.py arrives in
`warehouse.settings` inside a Dagster run with no other edit, and the UI shows the salt's variable
name, never its value."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts.config import AlertSettings
from orchestration.defs.resources import WarehouseResource, build_resources
from orchestration.settings import Settings

SALT = "pepper-only-in-the-environment"


def _not_the_default(name: str, hint: typing.Any, default: typing.Any, folder: Path) -> typing.Any:
    """A value of the field's type that differs from its default, so a dropped field shows."""
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kind = next(k for k in kinds if k is not type(None))
    if kind is Path:
        return folder / name
    if kind is dt.date:
        return dt.date(2026, 10, 31)
    if kind is bool:
        return not default
    if kind in (int, float):
        return kind((default if isinstance(default, int | float) else 0) * 3 + 7)
    if kind is str:
        return f"{name}-not-the-default"
    raise AssertionError(f"Settings.{name}: give this test a non-default value of type {hint}")


def settings_unlike_the_defaults(folder: Path) -> Settings:
    hints = typing.get_type_hints(Settings)
    values = {
        field.name: _not_the_default(field.name, hints[field.name], field.default, folder)
        for field in dataclasses.fields(Settings)
    }
    settings = Settings(**{**values, "ip_hash_salt": SALT})
    for field in dataclasses.fields(Settings):
        assert getattr(settings, field.name) != field.default, field.name
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_unlike_the_defaults(tmp_path)


def test_the_resource_carries_every_settings_field(settings: Settings) -> None:
    resource = WarehouseResource.from_settings(settings)
    assert resource.settings == settings
    # The UI shows each field: the settings' own names, one config field each.
    assert set(WarehouseResource.model_fields) == {field.name for field in dataclasses.fields(Settings)}
    assert resource.landing_settle_seconds == settings.landing_settle_seconds


def test_an_asset_sees_every_setting_and_the_ui_never_the_salt(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IP_HASH_SALT", SALT)
    seen: list[Settings] = []

    @dg.asset
    def probe(warehouse: WarehouseResource) -> None:
        seen.append(warehouse.settings)

    alerts = AlertSettings(jsonl_path=settings.data_dir / "alerts.jsonl")
    # As the code location builds them: the salt from the environment, by name.
    resources = build_resources(settings, alerts, secrets_from_env=True)
    assert resources["warehouse"].ip_hash_salt == "IP_HASH_SALT"
    assert SALT not in repr(resources)
    result = dg.materialize([probe], resources={"warehouse": resources["warehouse"]})
    assert result.success
    assert seen == [settings]
