"""The charts' script is bundled once per vl-convert version and user, not once per folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import vl_convert

from orchestration.dashboard import charts


def test_a_new_folder_reuses_the_users_bundle_of_the_same_version(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bundled = []
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda: bundled.append(1) or "vega();\n")

    first = charts.javascript_bundle(previous=tmp_path / "site_a" / charts.BUNDLE_FILE)
    again = charts.javascript_bundle(previous=tmp_path / "site_b" / charts.BUNDLE_FILE)

    assert first == again == f"// vega-charts from vl-convert {vl_convert.__version__}\nvega();\n"
    assert bundled == [1]
    assert charts.bundle_cache_file().read_text() == first
    assert charts.bundle_cache_file().parent == tmp_path / "cache" / "api-usage-warehouse"


def test_another_versions_bundle_is_not_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda: "new();\n")
    stale = charts.bundle_cache_file()
    stale.parent.mkdir(parents=True)
    stale.write_text("// vega-charts from vl-convert 0.0.1\nold();\n")
    previous = tmp_path / charts.BUNDLE_FILE
    previous.write_text("// vega-charts from vl-convert 0.0.1\nold();\n")

    assert charts.javascript_bundle(previous=previous).endswith("\nnew();\n")


def test_an_unwritable_cache_still_gives_the_bundle(tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda: "vega();\n")

    assert charts.javascript_bundle().endswith("\nvega();\n")
    with pytest.raises(NotADirectoryError):
        charts.bundle_cache_file().parent.mkdir(parents=True, exist_ok=True)
