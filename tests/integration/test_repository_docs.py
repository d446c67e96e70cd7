"""What a newcomer with only the repository meets: citations that resolve, a README whose
commands and flags exist, and a Dagster UI whose metadata and checks explain themselves."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from dagster._core.definitions.metadata import normalize_metadata

from orchestration.cli import build_parser
from orchestration.definitions import defs
from orchestration.settings import PROJECT_ROOT

TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".toml", ".sh", ".cfg", ""}


def _repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [PROJECT_ROOT / name for name in listed if Path(name).suffix in TEXT_SUFFIXES]


def test_every_cited_document_is_in_the_repository() -> None:
    assert (PROJECT_ROOT / "docs" / "contract.md").read_text().startswith("# Data contract")
    assert "## The flow" in (PROJECT_ROOT / "docs" / "design.md").read_text()
    dangling = []
    for path in _repository_files():
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES - {""}:
            continue
        text = path.read_text(errors="replace")
        for match in re.finditer(r"(?<![\w/.-])(CONTRACT|DESIGN|RELIABILITY)\.md", text):
            dangling.append(f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}")
        if "../shared/" in text and path.name != "test_repository_docs.py":
            dangling.append(f"{path.relative_to(PROJECT_ROOT)}: ../shared/")
    assert dangling == []


def _readme() -> str:
    return (PROJECT_ROOT / "README.md").read_text()


def _subcommands() -> dict[str, object]:
    return build_parser()._subparsers._group_actions[0].choices


def test_the_readme_documents_every_command_and_flag() -> None:
    readme = _readme()
    for name, parser in _subcommands().items():
        assert f"`apiwh {name}" in readme, f"apiwh {name} is not in the README"
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in readme, f"apiwh {name} {flag} is not in the README"


def test_every_readme_apiwh_example_parses() -> None:
    """Each `apiwh ...` line of the README's examples is a valid command line."""
    parser = build_parser()
    examples = re.findall(r"^\s*(?:\$ )?apiwh (.+?)(?:\s+#.*)?$", _readme(), re.MULTILINE)
    assert len(examples) >= 10
    for example in examples:
        parser.parse_args(shlex.split(example))


@pytest.mark.usefixtures("dbt_manifest")
def test_the_readme_lists_every_mart() -> None:
    readme = _readme()
    marts = {
        key.path[1]
        for key in defs().resolve_asset_graph().get_all_asset_keys()
        if key.path[0] == "marts" and key.path[1] not in ("published_snapshot",)
    }
    assert marts, "no marts in the definitions"
    missing = sorted(m for m in marts if f"`marts.{m}`" not in readme)
    assert missing == []


def test_dagster_yaml_turns_the_first_run_popup_and_telemetry_off() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert config["nux"] == {"enabled": False}
    assert config["telemetry"] == {"enabled": False}


@pytest.mark.usefixtures("dbt_manifest")
def test_every_asset_check_has_a_description() -> None:
    graph = defs().resolve_asset_graph()
    undescribed = [
        key.to_user_string() for key in graph.asset_check_keys if not graph.get_check_spec(key).description
    ]
    assert undescribed == []
    accepted = [
        graph.get_check_spec(key).description
        for key in graph.asset_check_keys
        if key.name.startswith("accepted_values_customer_usage_summary_trend")
    ]
    assert accepted == ["trend is one of: dormant, new, declining, growing, steady."]


# dagster-dbt's internal entries that the UI itself never displays (its own hidden-key list).
HIDDEN_BY_THE_UI = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


@pytest.mark.usefixtures("dbt_manifest")
def test_no_asset_shows_unserializable_metadata() -> None:
    shown = []
    for spec in defs().resolve_all_asset_specs():
        for key, value in normalize_metadata(spec.metadata, allow_invalid=True).items():
            if key in HIDDEN_BY_THE_UI:
                continue
            if "(unserializable)" in str(getattr(value, "value", "")):
                shown.append(f"{spec.key.to_user_string()} {key}: {value.value}")
    assert shown == []
