"""What a newcomer with only the repository meets: citations and links that resolve, a README
that is a front page whose commands run as written, a command reference whose commands and flags
exist, and a Dagster UI whose metadata and checks explain themselves."""

from __future__ import annotations

import gzip
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


README_MAX_BYTES = 12_000  # a front page (issue 29): what it is, a picture, a few commands, links
DOCS = PROJECT_ROOT / "docs"


def _readme() -> str:
    return (PROJECT_ROOT / "README.md").read_text()


def _documents() -> list[Path]:
    return [PROJECT_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _subcommands() -> dict[str, object]:
    return build_parser()._subparsers._group_actions[0].choices


FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# An apiwh command where a shell command starts: line start (after a `$ ` prompt and any VAR=value
# assignments) or after a pipe.
COMMAND = re.compile(r"(?:^\s*(?:\$ )?(?:\w+=\S+\s+)*|\|\s*)((?:\.venv/bin/)?apiwh)\s+(.+)$")
ACTIVATION = re.compile(r"^\s*(?:source|\.) \.venv/bin/activate\s*$")


def _code_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def _commands(block: str) -> list[tuple[str, list[str], bool]]:
    """Each apiwh command of a code block: how it is called, its arguments (shell-split, comments
    dropped), and whether a venv activation line came before it in the block."""
    found, activated = [], False
    for line in block.splitlines():
        activated = activated or bool(ACTIVATION.match(line))
        match = COMMAND.search(line)
        if match:
            found.append((match.group(1), shlex.split(match.group(2), comments=True), activated))
    return found


def test_the_readme_is_a_front_page() -> None:
    readme = _readme()
    assert len(readme.encode()) <= README_MAX_BYTES, f"README.md is {len(readme.encode())} bytes"
    assert (
        "](docs/dashboard.png)" in readme
        and (DOCS / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    )
    for command in ("make run", "make test", "source .venv/bin/activate", ".venv/bin/apiwh"):
        assert command in readme, command
    # What a newcomer must know before `make test`: how long it takes and what it needs.
    assert re.search(r"`?make test`? takes about \d+ minutes on a 2-core machine", readme)
    assert "Java 17" in readme and "chromium" in readme
    assert "\n## Privacy\n" in readme and "IP_HASH_SALT" in readme and ".ip-hash-salt" in readme
    privacy = readme.split("\n## Privacy\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/governance.md)" in privacy and "apiwh erase" in privacy


def _make_run_recipe(*what_if: str) -> list[str]:
    """The commands `make run` would run, with each file of `what_if` taken as just changed."""
    options = [f"--what-if={path}" for path in what_if]
    dry_run = ["make", "-n", "--no-print-directory", *options, "run"]
    done = subprocess.run(dry_run, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_make_run_ends_with_its_summary_and_what_to_try_next() -> None:
    """`make run` prints the run's summary, then a few lines of what to try next: no report
    after it to scroll the summary away (`make reports` shows them)."""
    recipe = _make_run_recipe()
    after = recipe[next(n for n, line in enumerate(recipe) if line.endswith("apiwh run")) + 1 :]
    assert after and all(line.startswith("echo") for line in after), after
    assert len(after) <= 6 and any("Next:" in line for line in after)


def test_make_run_parses_the_dbt_project_only_after_a_change(dbt_manifest: Path) -> None:
    """`dbt parse` costs seconds: a second `make run` with no model changed skips it."""
    dbt_manifest.touch()  # as new as its content: the dbt_manifest fixture parsed what changed
    assert not [line for line in _make_run_recipe() if "orchestration.dbt_cli" in line]
    model = next((PROJECT_ROOT / "dbt_project" / "models").rglob("*.sql"))
    assert [line for line in _make_run_recipe(str(model.relative_to(PROJECT_ROOT))) if "dbt_cli" in line]


def test_the_project_map_is_in_design_md_once() -> None:
    maps = [path.name for path in _documents() if "\n## Project layout\n" in path.read_text()]
    assert maps == ["design.md"]


def test_every_relative_link_resolves() -> None:
    """Each [text](target) of the README and docs/*.md, outside code blocks: the file exists, and
    a #section of a Markdown file is one of its headings (GitHub's anchors)."""
    broken = []
    for document in _documents():
        text = FENCE.sub("", document.read_text())
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            name, _, anchor = target.partition("#")
            linked = (document.parent / name).resolve() if name else document
            if not linked.is_file():
                broken.append(f"{document.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{document.name}: {target} (no such section)")
    assert broken == []


def _anchors(document: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", document.read_text()), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_the_readme_calls_apiwh_through_the_venv() -> None:
    """`make run` puts apiwh in .venv/bin, not on PATH: each command of the README's code blocks is
    `.venv/bin/apiwh ...`, or a bare `apiwh` after `source .venv/bin/activate` in the same block."""
    commands = [command for block in _code_blocks(_readme()) for command in _commands(block)]
    assert len(commands) >= 10
    unreachable = [
        " ".join([how, *args]) for how, args, activated in commands if how == "apiwh" and not activated
    ]
    assert unreachable == []


def test_every_documented_apiwh_command_parses() -> None:
    """Each apiwh command in a code block of the README or docs/ is a valid command line."""
    parser = build_parser()
    parsed = 0
    for document in _documents():
        for block in _code_blocks(document.read_text()):
            for _, args, _ in _commands(block):
                parser.parse_args(args)
                parsed += 1
    assert parsed >= 20


def test_the_examples_name_customers_of_the_sample() -> None:
    """After `make run` the warehouse holds the sample: an example about one customer must name a
    customer that is in it, or a newcomer gets "unknown organization"."""
    parser, named = build_parser(), set()
    for document in (PROJECT_ROOT / "README.md", DOCS / "commands.md"):
        for block in _code_blocks(document.read_text()):
            for _, args, _ in _commands(block):
                parsed = vars(parser.parse_args(args))
                named |= {parsed[key] for key in ("org", "organization_id") if parsed.get(key)}
    assert named
    sample = b"".join(
        gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for path in (PROJECT_ROOT / "seeds").rglob("*")
        if path.name.endswith((".ndjson", ".jsonl", ".ndjson.gz"))
    )
    assert sorted(org for org in named if f'"organization_id":"{org}"'.encode() not in sample) == []


def test_the_command_reference_documents_every_command_and_flag() -> None:
    reference = (DOCS / "commands.md").read_text()
    assert "](docs/commands.md)" in _readme()
    for name, parser in _subcommands().items():
        assert f"`apiwh {name}" in reference, f"apiwh {name} is not in docs/commands.md"
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in reference, f"apiwh {name} {flag} is not in docs/commands.md"


@pytest.mark.usefixtures("dbt_manifest")
def test_docs_marts_lists_every_mart() -> None:
    listed = (DOCS / "marts.md").read_text()
    marts = {
        key.path[1]
        for key in defs().resolve_asset_graph().get_all_asset_keys()
        if key.path[0] == "marts" and key.path[1] not in ("published_snapshot",)
    }
    assert marts, "no marts in the definitions"
    missing = sorted(m for m in marts if f"`marts.{m}`" not in listed)
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
        if key.name.startswith("accepted_values_int_customer_daily_trend_trend")
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


FAULTS_SECTION = "## Faults and bad input: where each is tested"
# The groups of the team's faults-and-bad-input list, each a sub-heading of that section.
FAULT_GROUPS = (
    "Lines",
    "Files",
    "Duplicates and time",
    "Load, crash and concurrency",
    "Alerts",
    "Security and privacy",
)
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _faults_section() -> str:
    text = (DOCS / "design.md").read_text()
    assert text.count(f"\n{FAULTS_SECTION}\n") == 1, f"docs/design.md has no section {FAULTS_SECTION!r}"
    return text.split(f"\n{FAULTS_SECTION}\n", 1)[1].split("\n## ", 1)[0]


def test_every_test_the_faults_map_names_exists() -> None:
    """docs/design.md maps each fault and bad input to the tests that build it: each `file::test`
    it names is a test function of that file, so a renamed or deleted test breaks the map here."""
    section = _faults_section()
    headings = re.findall(r"^### (.+)$", section, re.MULTILINE)
    assert headings == list(FAULT_GROUPS)
    references = TEST_REFERENCE.findall(section)
    assert len(references) >= 50
    # Every code span naming something in tests/ is a whole `file::test` or a file that exists,
    # so a mistyped reference is not silently left unchecked.
    spans = [span for span in re.findall(r"`([^`\n]+)`", section) if span.startswith("tests/")]
    unreadable = [
        span
        for span in spans
        if not TEST_REFERENCE.fullmatch(f"`{span}`") and not (PROJECT_ROOT / span).is_file()
    ]
    assert unreadable == []
    missing = []
    for path, name in sorted(set(references)):
        test_file = PROJECT_ROOT / path
        if not test_file.is_file():
            missing.append(f"{path} (no such file)")
        elif not re.search(rf"^\s*def {name}\(", test_file.read_text(), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert missing == []
    # Erasure is in the map with its tests (docs/governance.md).
    erasure = re.search(
        r"^- \*\*Erasure of one organization or developer\*\*(.*?)(?=^- |\Z)", section, re.M | re.S
    )
    assert erasure and "tests/integration/test_erase.py::" in erasure.group(1)
