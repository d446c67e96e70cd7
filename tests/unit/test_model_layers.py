"""The models read one way: staging, then intermediate, then marts, then alerts (docs/design.md
"Layers"). A model reads its own layer or an earlier one, never a later one, so a change to a
mart cannot reach back into the intermediate tables the marts are built from. Checked on the
manifest of a real `dbt parse`; the layer is the model's folder under dbt_project/models."""

from __future__ import annotations

import json
from pathlib import Path

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
LAYERS = ("staging", "intermediate", "marts", "alerts")
MAX_MODEL_LINES = 250


def _layer(node: dict) -> str:
    """models/<layer>/... -> <layer>; a model outside the four layers fails loudly."""
    folder = Path(node["original_file_path"]).parts[1]
    assert folder in LAYERS, f"{node['original_file_path']}: not under models/{{{','.join(LAYERS)}}}"
    return folder


def backward_reads(manifest: dict) -> list[str]:
    """Every model that reads a model of a later layer, as 'child (layer) reads parent (layer)'."""
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    found = []
    for node in models.values():
        layer = _layer(node)
        for parent_id in node["depends_on"]["nodes"]:
            parent = models.get(parent_id)
            if parent is None:  # a source or a macro's node: before every layer
                continue
            parent_layer = _layer(parent)
            if LAYERS.index(parent_layer) > LAYERS.index(layer):
                found.append(f"{node['name']} ({layer}) reads {parent['name']} ({parent_layer})")
    return sorted(found)


def test_no_model_reads_a_later_layer(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text())
    assert backward_reads(manifest) == []
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    # Every layer holds models, and the alerts read the marts, so the check had edges to judge.
    assert {_layer(n) for n in models} == set(LAYERS)
    candidates = next(n for n in models if n["name"] == "alert_candidates")
    assert _layer(candidates) == "alerts"
    assert candidates["schema"] == "marts"  # where the alert ledger reads it (docs/contract.md)
    failing = next(n for n in models if n["name"] == "int_alerts_integration_failing_episodes")
    assert "model.api_usage_warehouse.customer_daily_usage" in failing["depends_on"]["nodes"]


def test_the_layer_check_names_each_backward_read() -> None:
    def model(name: str, path: str, *parents: str) -> tuple[str, dict]:
        return f"model.p.{name}", {
            "resource_type": "model",
            "name": name,
            "original_file_path": f"models/{path}",
            "depends_on": {"nodes": [f"model.p.{p}" for p in parents] + ["source.p.raw.events"]},
        }

    manifest = {
        "nodes": dict(
            [
                model("stg_a", "staging/stg_a.sql"),
                model("stg_b", "staging/stg_b.sql", "int_a"),
                model("int_a", "intermediate/int_a.sql", "stg_a"),
                model("int_b", "intermediate/x/int_b.sql", "mart_a", "alert_a"),
                model("mart_a", "marts/mart_a.sql", "int_a", "mart_b"),
                model("mart_b", "marts/mart_b.sql", "alert_a"),
                model("alert_a", "alerts/alert_a.sql", "mart_a", "int_a", "stg_a"),
            ]
        )
    }
    assert backward_reads(manifest) == [
        "int_b (intermediate) reads alert_a (alerts)",
        "int_b (intermediate) reads mart_a (marts)",
        "mart_b (marts) reads alert_a (alerts)",
        "stg_b (staging) reads int_a (intermediate)",
    ]


def test_every_model_is_at_most_250_lines() -> None:
    lengths = {
        str(path.relative_to(DBT_PROJECT)): len(path.read_text().splitlines())
        for path in sorted((DBT_PROJECT / "models").rglob("*.sql"))
    }
    assert len(lengths) > 40
    assert {path: n for path, n in lengths.items() if n > MAX_MODEL_LINES} == {}
