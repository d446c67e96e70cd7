"""scripts/spark_check.py's choices: which dbt unit tests also run on Spark (those of models whose
SQL differs by engine), and which raw files wait for the incremental round."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import load_script


def _spark_check():
    return load_script("spark_check")


def _macro(name: str, calls: tuple[str, ...] = ()) -> tuple[str, dict]:
    return f"macro.p.{name}", {"name": name, "depends_on": {"macros": [f"macro.p.{c}" for c in calls]}}


def _manifest(tmp_path: Path, unit_test_names: dict[str, str]) -> Path:
    """Models m_dispatch (through a helper calling a dispatched macro), m_config (only the
    incremental config macro, dispatched but write-only), m_plain (no macro); one unit test each."""
    macros = dict(
        [
            _macro("route_template"),
            _macro("default__route_template"),
            _macro("helper", calls=("route_template",)),
            _macro("incremental_by_day"),
            _macro("default__incremental_by_day"),
            _macro("rebuild_days", calls=("days_to_rebuild",)),
            _macro("days_to_rebuild"),
            _macro("default__days_to_rebuild"),
        ]
    )
    models = {
        "m_dispatch": ["helper"],
        "m_config": ["incremental_by_day", "rebuild_days"],
        "m_plain": [],
    }
    nodes = {
        f"model.p.{name}": {"name": name, "depends_on": {"macros": [f"macro.p.{c}" for c in calls]}}
        for name, calls in models.items()
    }
    unit_tests = {
        f"unit_test.p.{model}.{test}": {"name": test, "depends_on": {"nodes": [f"model.p.{model}"]}}
        for test, model in unit_test_names.items()
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"macros": macros, "nodes": nodes, "unit_tests": unit_tests}))
    return path


def test_only_unit_tests_of_models_calling_a_dispatched_macro_run_on_spark(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path, {"test_routes": "m_dispatch", "test_days": "m_config", "test_plain": "m_plain"}
    )
    selected, skipped = _spark_check().engine_specific_unit_tests(manifest)
    assert selected == ["test_routes"]
    assert skipped == ["test_days", "test_plain"]


def test_a_unit_test_named_like_a_model_stops_the_check(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, {"m_plain": "m_plain"})
    with pytest.raises(SystemExit, match="unit tests named like a model"):
        _spark_check().engine_specific_unit_tests(manifest)


def test_the_newest_files_wait_for_the_incremental_round(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for day in ("2026-10-29", "2026-10-30", "2026-10-31"):
        (raw / "2026" / "10").mkdir(parents=True, exist_ok=True)
        (raw / "2026" / "10" / f"events-{day}.ndjson").write_text("{}\n")
    (raw / "README.md").write_text("not data")
    first = _spark_check().first_round_files(raw, tmp_path / "scratch")
    assert sorted(p.name for p in first.rglob("*") if p.is_file()) == ["events-2026-10-29.ndjson"]


def test_too_few_files_make_one_round(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "events-2026-10-31.ndjson").write_text("{}\n")
    assert _spark_check().first_round_files(raw, tmp_path / "scratch") is None
