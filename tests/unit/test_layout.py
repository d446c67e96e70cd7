"""The layout rules (docs/design.md "Layout and resources"), checked on the source itself:

- only orchestration/defs/, orchestration/definitions.py and the run machinery outside defs/
  (job_execution.py, the CLI's in-process run; run_recovery.py, the dead runs it and the daemon
  free), imported only inside the commands that run a job, import Dagster, at module level or
  inside a function;
- nothing writes os.environ, and only orchestration/settings.py reads it (but for the warm dbt
  process, which takes over its launcher's whole environment: it reads no setting);
- importing orchestration.definitions starts no subprocess and reads no environment variable.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "orchestration"
DAGSTER_HOMES = ("defs", "definitions.py", "job_execution.py", "run_recovery.py", "event_log_storage.py")
ENVIRONMENT_READER = "settings.py"
# dbt_warm_start.py hands a process's environment to the warm dbt, which then runs as that
# process (dbt reads its DBT_* variables): a handover, not a setting read.
ENVIRONMENT_HANDOVER = "dbt_warm_start.py"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _is_dagster(module: str) -> bool:
    """dagster, a dagster_* package, or dagster-dbt as this project imports it (defs/)."""
    root = module.split(".")[0]
    return root == "dagster" or root.startswith("dagster_") or module == "orchestration.defs.dagster_dbt_api"


def _dagster_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, inside a function) of every import of dagster or a dagster_* package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if any(_is_dagster(module) for module in _imported_modules(child)):
                found.append((child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def test_only_defs_the_composition_root_and_the_run_machinery_import_dagster() -> None:
    offenders = []
    for path in _modules():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in DAGSTER_HOMES:
            continue
        for line, _ in _dagster_imports(path):
            offenders.append(f"orchestration/{relative.as_posix()}:{line}")
    assert offenders == []


def test_the_rule_sees_both_kinds_of_import(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "import dagster as dg\n\ndef run():\n    from dagster_dbt import DbtProject\n"
        "    from orchestration.defs.dagster_dbt_api import dbt_assets\n"
    )
    assert _dagster_imports(module) == [(1, False), (4, True), (5, True)]


def test_defs_holds_only_dagster_modules() -> None:
    for path in sorted((PACKAGE / "defs").glob("*.py")):
        if path.name != "__init__.py":
            assert _dagster_imports(path), f"{path.name} has no Dagster object: it belongs in a logic package"


def test_defs_never_imports_the_composition_root() -> None:
    """defs/ holds the parts; definitions.py assembles them, and whatever runs the assembled
    location (the CLI's orchestration/job_execution.py) lives outside defs/."""
    importers = []
    for path in sorted((PACKAGE / "defs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            if "orchestration.definitions" in names:
                importers.append(f"{path.name}:{node.lineno}")
    assert importers == []


def _environ_uses(path: Path) -> tuple[list[int], list[int]]:
    """Lines that read os.environ / os.getenv, and lines that write the environment."""
    reads, writes = [], []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in ("environ", "getenv", "environb"):
                reads.append(node.lineno)
            if node.attr in ("putenv", "unsetenv"):
                writes.append(node.lineno)
        targets = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and "environ" in ast.unparse(target.value):
                writes.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "setdefault", "pop", "clear")
            and "environ" in ast.unparse(node.func.value)
        ):
            writes.append(node.lineno)
    return reads, writes


def test_nothing_writes_the_environment_and_only_settings_reads_it() -> None:
    readers, writers = [], []
    for path in _modules():
        reads, writes = _environ_uses(path)
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == ENVIRONMENT_HANDOVER:
            continue
        writers += [f"{relative}:{line}" for line in writes]
        if relative != ENVIRONMENT_READER:
            readers += [f"{relative}:{line}" for line in reads]
    assert writers == []
    assert readers == []


def test_the_environment_rule_sees_reads_and_writes(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "import os\nx = os.environ.get('A')\nos.environ['B'] = '1'\nos.environ.update(C='2')\n"
        "y = os.getenv('D')\n"
    )
    reads, writes = _environ_uses(module)
    assert sorted(set(reads)) == [2, 3, 4, 5]
    assert sorted(set(writes)) == [3, 4]


# Run in a fresh interpreter: Popen raises, and os.environ records who reads it. A read or a
# subprocess counts when code in orchestration/ makes it (directly or through a function it
# calls), not when a library does so while being imported.
IMPORT_PROBE = r"""
import importlib, json, os, subprocess, sys

package, module_name = sys.argv[1], sys.argv[2]
reads, spawned = [], []


def blame():
    frame, callee = sys._getframe(2), None
    while frame is not None:
        if frame.f_code.co_filename.startswith(package):
            importing = callee is not None and callee.f_code.co_filename.startswith("<frozen importlib")
            return None if importing else f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame, callee = frame.f_back, frame
    return None


class WatchedEnviron(type(os.environ)):
    def __getitem__(self, key):
        where = blame()
        if where:
            reads.append(f"{key} at {where}")
        return super().__getitem__(key)

    def __contains__(self, key):
        where = blame()
        if where:
            reads.append(f"{key} at {where}")
        return super().__contains__(key)


watched = WatchedEnviron(
    os.environ._data, os.environ.encodekey, os.environ.decodekey,
    os.environ.encodevalue, os.environ.decodevalue,
)
os.environ = watched


original_popen_init = subprocess.Popen.__init__


def refuse(self, args, *a, **k):
    where = blame()
    if where is None:  # a library's own import (Dagster's vendored croniter runs `file -b`)
        return original_popen_init(self, args, *a, **k)
    spawned.append(f"{args} at {where}")
    raise RuntimeError(f"subprocess at import: {args}")


subprocess.Popen.__init__ = refuse
try:
    lazy = type(importlib.import_module(module_name).defs).__name__
except Exception as exc:
    lazy = f"import failed: {exc}"
os.environ.get("PROBE_SELF_CHECK")  # read from here: not the package's code, not counted
print(json.dumps({"reads": reads, "spawned": spawned, "lazy": lazy}))
"""


def _probe(package: Path, module: str, *, path: Path = PROJECT_ROOT) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(package), module],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


# Libraries' own switches, consulted whenever a pydantic model or a Dagster record class is
# defined (our Config and resource classes): not settings, and not avoidable by deferring work.
LIBRARY_SWITCHES = {"PYDANTIC_DISABLE_PLUGINS", "DAGSTER_RECORD_DEFENSIVE_CHECKS"}


def test_importing_the_definitions_starts_nothing_and_reads_no_environment() -> None:
    probe = _probe(PACKAGE, "orchestration.definitions")
    settings_reads = [read for read in probe["reads"] if read.split(" at ")[0] not in LIBRARY_SWITCHES]
    assert (settings_reads, probe["spawned"], probe["lazy"]) == ([], [], "LazyDefinitions")


def test_the_import_probe_sees_reads_and_subprocesses_at_import(tmp_path: Path) -> None:
    location = tmp_path / "eager_location"
    location.mkdir()
    (location / "__init__.py").write_text(
        "import os, subprocess\n"
        "salt = os.environ.get('IP_HASH_SALT')\n"
        "subprocess.run(['true'])\n"
        "defs = None\n"
    )
    probe = _probe(location, "eager_location", path=tmp_path)
    assert [read.split(" at ")[0] for read in probe["reads"]] == ["IP_HASH_SALT"]
    assert len(probe["spawned"]) == 1 and probe["spawned"][0].startswith("['true'] at ")
    assert probe["lazy"] == "import failed: subprocess at import: ['true']"


def test_the_cli_starts_without_loading_dagster() -> None:
    code = "import sys, orchestration.cli; print(sorted(m for m in sys.modules if m.startswith('dagster')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _project_map() -> str:
    design = (PROJECT_ROOT / "docs" / "design.md").read_text()
    section = design.split("\n## Project layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def _tracked_top_level() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name.split("/")[0] + ("/" if "/" in name else "") for name in listed} - {".gitignore"}


def test_the_project_map_names_every_module_and_top_level_entry() -> None:
    """docs/design.md "Project layout" is the one map of the repository: every module of the
    package, every shared test helper and every top-level file or folder has its line."""
    layout = _project_map()
    named = set(re.findall(r"\.ci/run|\.sqlfluff|Makefile|[\w.-]+(?:\.py|\.md|\.toml|\.lock|/)", layout))
    modules = {path.name for path in _modules() if path.name != "__init__.py"}
    modules |= {path.name for path in (PROJECT_ROOT / "tests").glob("*.py") if path.name != "__init__.py"}
    modules.add("README.md")  # orchestration/alerts/README.md
    top_level = {".ci/run" if entry == ".ci/" else entry for entry in _tracked_top_level()}
    assert sorted(modules - named) == []
    assert sorted(top_level - named - {"README.md"}) == []
