"""scripts/check_portable_sql.py: DuckDB-only SQL outside the dispatch macros fails `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_portable_sql.py"


def _checker():
    return load_script("check_portable_sql")


def _project_with(tmp_path: Path, sql: str, name: str = "m.sql") -> Path:
    models = tmp_path / "dbt_project" / "models"
    models.mkdir(parents=True)
    (tmp_path / "dbt_project" / "tests").mkdir()
    (models / name).write_text(sql)
    return tmp_path


@pytest.mark.parametrize(
    ("line", "construct"),
    [
        ("select * from t qualify row_number() over (order by a) = 1", "qualify"),
        ("select a // 7 as weeks from t", "//"),
        ("select a::date from t", ":: cast"),
        ("select quantile_cont(x, [0.5, 0.9]) from t", "quantile_*"),
        ("select arg_max(a, b) from t", "arg_max"),
        ("select last_value(a ignore nulls) over () from t", "ignore nulls"),
        ("select * from a asof left join b on a.t >= b.t", "asof join"),
        ("select * from range(3) cross join lateral generate_series(1, 3) as s (n)", "generate_series"),
        ("select cast(a as varchar) from t", "varchar"),
        ("select * exclude (a) from t", "* exclude"),
        ("select list_transform(l, x -> x + 1) from t", "lambda ->"),
        ("select {'a': 1} as s", "struct literal"),
        ("select count(distinct a) over (partition by b) from t", "count(distinct ...) over"),
    ],
)
def test_each_duckdb_only_construct_is_named_with_its_line(tmp_path: Path, line: str, construct: str) -> None:
    root = _project_with(tmp_path, f"-- a model\n{line}\n")
    problems = _checker().check(root, not_yet_portable={})
    assert problems, line
    assert all(p.startswith("dbt_project/models/m.sql:2: DuckDB-only SQL:") for p in problems)
    assert any(construct in p for p in problems)


def test_jinja_comments_and_strings_are_not_sql(tmp_path: Path) -> None:
    sql = (
        "{#- qualify, // and arg_max in a doc comment -#}\n"
        "select {{ integer_divide('a', '7') }} as weeks, '{id}' as route -- no qualify here\n"
        "from {{ ref('x') }}\n"
    )
    assert _checker().check(_project_with(tmp_path, sql), not_yet_portable={}) == []


def test_a_varchar_contract_type_in_yaml_is_named(tmp_path: Path) -> None:
    yml = "models:\n  - name: m\n    columns:\n      - name: a\n        data_type: varchar\n"
    problems = _checker().check(_project_with(tmp_path, yml, "_m__models.yml"), not_yet_portable={})
    expected = "dbt_project/models/_m__models.yml:5: DuckDB-only SQL: varchar contract type (string)"
    assert problems == [expected]


def test_a_listed_model_that_became_portable_must_leave_the_list(tmp_path: Path) -> None:
    root = _project_with(tmp_path, "select max_by(a, b) from t\n")
    problems = _checker().check(root, not_yet_portable={"dbt_project/models/m.sql": "pending"})
    assert problems == ["dbt_project/models/m.sql: portable now: remove it from NOT_YET_PORTABLE"]


def test_the_project_itself_passes() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
