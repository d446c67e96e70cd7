"""The dbt project's own conventions (docs/design.md "The dbt project's conventions"), checked on
the files, on the manifest of a real `dbt run` and on the relations it built."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.support import api_request, key_issued, load_events, query, quota_set, run_dbt, write_ndjson

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = DBT_PROJECT / "models"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """Every model built from a few events; the run's manifest and warehouse."""
    root = tmp_path_factory.mktemp("conventions")
    write_ndjson(
        root / "landing" / "events.ndjson",
        [
            key_issued("org_a", "2026-10-01T08:00:00Z", "key_a", plan="pro"),
            quota_set("org_a", "2026-10-01T08:00:00Z", 1000, plan="pro"),
            api_request("org_a", "2026-10-02T09:00:00Z", key="key_a"),
        ],
    )
    warehouse = root / "wh" / "warehouse.duckdb"
    load_events(root / "landing", warehouse)
    # All of them: the tables dbt alone reads (schema intermediate) sit in every layer after
    # staging (marts/shared, alerts), so their columns are checked on what was built.
    run_dbt(warehouse, "run")
    manifest = json.loads((root / "wh" / "dbt_target" / "manifest.json").read_text())
    return manifest, warehouse


def _models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_yaml_and_docs_file_is_named_after_its_folder() -> None:
    misnamed = []
    for path in sorted(MODELS.rglob("*")):
        if path.suffix not in (".yml", ".yaml", ".md"):
            continue
        folder = path.parent.name
        allowed = {f"_{folder}__models.yml", f"_{folder}__sources.yml", f"_{folder}__docs.md"}
        if path.name not in allowed:
            misnamed.append(str(path.relative_to(DBT_PROJECT)))
    assert misnamed == []
    assert (MODELS / "staging" / "raw" / "_raw__sources.yml").is_file()


def test_marts_contracts_are_enforced_once_for_the_folder(built: tuple[dict, Path]) -> None:
    manifest, _ = built
    project = (DBT_PROJECT / "dbt_project.yml").read_text()
    assert re.search(r"marts:\n(?:\s+.*\n)*?\s+\+contract:\n\s+enforced: true", project)
    repeated = [
        str(path.relative_to(DBT_PROJECT))
        for path in sorted(MODELS.rglob("*"))
        if path.suffix in (".sql", ".yml")
        and re.search(r"contract\s*[=:]\s*\{?\s*'?enforced", path.read_text())
    ]
    assert repeated == []
    # The schema marts is the outside interface: its tables, and only those, have a contract.
    # It holds the marts and, from the alerts layer, alert_candidates (what the ledger reads);
    # the marts' shared helpers (models/marts/shared) are dbt's own, in intermediate.
    marts = [n for n in _models(manifest) if n["schema"] == "marts"]
    assert len(marts) >= 20
    assert [n["name"] for n in marts if not n["config"]["contract"]["enforced"]] == []
    others = [
        n["name"] for n in _models(manifest) if n["schema"] != "marts" and n["config"]["contract"]["enforced"]
    ]
    assert others == []
    assert {n["fqn"][1] for n in marts} == {"marts", "alerts"}
    assert [n["name"] for n in marts if n["fqn"][1] == "alerts"] == ["alert_candidates"]
    assert [n["name"] for n in marts if n["name"].startswith("int_")] == []


def test_a_marts_value_rules_are_enforced_by_duckdb_as_rows_are_written(built: tuple[dict, Path]) -> None:
    """A list of values or a range on a mart is a check constraint (docs/design.md): the table
    refuses a row outside it, as a build writing one would fail on that model."""
    manifest, warehouse = built
    checked = {
        (node["name"], column["name"])
        for node in _models(manifest)
        for column in node["columns"].values()
        if any(c["type"] == "check" for c in column.get("constraints", []))
    }
    assert {("quota_outlook", "action"), ("customer_daily_usage", "error_rate")} <= checked
    # No value rule is left as a data test on a mart: each would be a dbt node on every build.
    value_tests = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in ("accepted_values", "accepted_range_between")
        and manifest["nodes"][node["attached_node"]]["config"]["contract"]["enforced"]
    ]
    assert value_tests == []
    with duckdb.connect(str(warehouse)) as con:
        for table, outside in (
            ("quota_outlook", "action = 'maybe'"),
            ("customer_daily_usage", "error_rate = 1.5"),
        ):
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0
            with pytest.raises(duckdb.ConstraintException, match="CHECK constraint failed"):
                con.execute(f"update marts.{table} set {outside}")


def _primary_key_tests(manifest: dict) -> dict[str, set[str]]:
    """model unique_id -> how it is keyed: 'unique_combination', or its key columns (a
    primary_key test's, or those both unique and not_null)."""
    unique: dict[str, set[str]] = {}
    not_null: dict[str, set[str]] = {}
    keyed: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = node.get("attached_node")
        kind = node["test_metadata"]["name"]
        column = node.get("column_name")
        if kind == "unique_combination":
            keyed.setdefault(model, set()).add("unique_combination")
        elif kind == "primary_key":
            keyed.setdefault(model, set()).update(node["test_metadata"]["kwargs"]["columns"])
        elif kind == "unique":
            unique.setdefault(model, set()).add(column)
        elif kind == "not_null":
            not_null.setdefault(model, set()).add(column)
    for model, columns in unique.items():
        both = columns & not_null.get(model, set())
        if both:
            keyed.setdefault(model, set()).update(both)
    return keyed


def test_every_model_has_a_primary_key_test(built: tuple[dict, Path]) -> None:
    manifest, _ = built
    keyed = _primary_key_tests(manifest)
    unkeyed = sorted(n["name"] for n in _models(manifest) if n["unique_id"] not in keyed)
    assert unkeyed == []
    assert keyed["model.api_usage_warehouse.int_plan_changes"] == {"event_id"}
    assert keyed["model.api_usage_warehouse.int_as_of_date"] == {"as_of_date"}


def test_every_staging_and_intermediate_column_is_described_through_a_doc_block(
    built: tuple[dict, Path],
) -> None:
    """Every table dbt alone reads, whatever its layer (the schema, not the folder, says so)."""
    manifest, warehouse = built
    undescribed, not_a_doc_block = [], []
    checked = 0
    for node in _models(manifest):
        if node["schema"] not in ("staging", "intermediate"):
            continue
        columns = query(
            warehouse,
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [node["schema"], node["name"]],
        )
        assert columns, f"{node['name']} was not built"
        for (column,) in columns:
            checked += 1
            declared = node["columns"].get(column)
            if not declared or not declared["description"].strip():
                undescribed.append(f"{node['name']}.{column}")
        # Shared definitions come from {% docs %} blocks, so the YAML references them.
        source = (DBT_PROJECT / node["patch_path"].split("://", 1)[1]).read_text()
        block = source.split(f"  - name: {node['name']}\n", 1)[1].split("\n  - name: ", 1)[0]
        for column in re.findall(r"      - name: (\w+)\n        description: (?!'\{\{ doc\()", block):
            not_a_doc_block.append(f"{node['name']}.{column}")
    assert undescribed == []
    assert not_a_doc_block == []
    assert checked > 100
    stg_events = next(n for n in _models(manifest) if n["name"] == "stg_events")
    assert stg_events["columns"]["organization_id"]["description"].startswith("The customer")


def test_every_macro_and_generic_test_is_described_with_its_arguments(built: tuple[dict, Path]) -> None:
    manifest, _ = built
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "api_usage_warehouse"]
    assert {m["name"] for m in macros} >= {"days_through", "route_template", "test_unique_combination"}
    problems = []
    for macro in macros:
        if not macro["description"].strip():
            problems.append(f"{macro['name']}: no description")
        signature = re.search(r"\{%-?\s*(?:macro|test)\s+\w+\((.*?)\)\s*-?%\}", macro["macro_sql"], re.S)
        parameters = [p.split("=")[0].strip() for p in signature.group(1).split(",") if p.strip()]
        described = {a["name"]: a.get("description", "").strip() for a in macro["arguments"]}
        for parameter in parameters:
            if not described.get(parameter):
                problems.append(f"{macro['name']}: argument {parameter} not described")
        for name in described.keys() - set(parameters):
            problems.append(f"{macro['name']}: describes {name}, which it does not take")
    assert problems == []
