"""Every verdict is decided once, in a dbt model; the faces only read it (docs/contract.md 2c).

The SQL the faces hold in Python (the read layer in orchestration/reports/queries/, the dashboard,
the alert notes) is plain selects of mart columns: no `group by`, no window, no percentile, no
aggregate but a row count, and no `case` that produces words. And no Python restates a verdict
rule: the quota outlook and action, the upsell signal, the trend.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "orchestration"
# The faces and the read layer. The loader, the ledger's own bookkeeping and `apiwh status` /
# `rejects` (counts of the raw load, no mart verdict) hold other SQL.
FACES = ("reports", "dashboard", "alerts", "verdict_words.py", "readers.py")
# The replay counts, in DuckDB, what the dbt rules raised on a scratch copy (no mart holds replayed
# alerts): it is the rules' own output, not a face reading a verdict.
NOT_FACES = (
    "alerts/ledger.py",
    "alerts/delivery.py",
    "alerts/sinks.py",
    "alerts/refresh_failure.py",
    "alerts/replay.py",
)
SQL_AGGREGATION = {
    "group by": re.compile(r"\bgroup\s+by\b"),
    "a window function": re.compile(r"\bover\s*\("),
    "a percentile": re.compile(r"\b(percentile_\w+|quantile\w*|median|approx_quantile)\s*\("),
    "an aggregate": re.compile(r"\b(sum|avg|min|max|stddev\w*|count\s*\(\s*distinct)\s*\("),
    "a case that makes words": re.compile(r"\bcase\b[\s\S]*?\bthen\s+'"),
}
# The rules of docs/contract.md 2c and the trend, each written in its dbt model only.
VERDICT_RULES = {
    "the quota outlook": re.compile(
        r"used_mtd\s*>=\s*\w*monthly_call_limit|days_to_cap\s*(==|<=|<)\s*[01]\b"
    ),
    "the quota action": re.compile(r"pct_of_cap\S*\s*>=?\s*(60|80|95)\b"),
    "the upsell signal": re.compile(r"usage_change_30d_pct\S*\s*>\s*30\b"),
    "the trend": re.compile(r"usage_change_7d_pct\S*\s*[<>]=?\s*-?\d"),
}


def _face_modules() -> list[Path]:
    found = []
    for face in FACES:
        path = PACKAGE / face
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [p for p in found if p.relative_to(PACKAGE).as_posix() not in NOT_FACES]


def _sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string literal in `path` that reads like a query."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "?" for part in node.values)
        else:
            continue
        lowered = text.lower()
        if re.search(r"\bselect\b", lowered) and re.search(r"\bfrom\s+marts\.", lowered):
            found.append((node.lineno, lowered))
    return found


def test_the_faces_exist_where_this_test_looks() -> None:
    modules = {path.relative_to(PACKAGE).as_posix() for path in _face_modules()}
    assert {"reports/queries/usage.py", "verdict_words.py", "alerts/quota_notes.py"} <= modules
    assert not (PACKAGE / "quota_outlook.py").exists()  # the rule that lived twice


@pytest.mark.parametrize("module", _face_modules(), ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_a_face_reads_mart_columns_and_never_aggregates_again(module: Path) -> None:
    offences = [
        f"line {line}: {what}"
        for line, sql in _sql_strings(module)
        for what, pattern in SQL_AGGREGATION.items()
        if pattern.search(sql)
    ]
    assert offences == [], f"{module.relative_to(PROJECT_ROOT)} decides in SQL again: {offences}"


@pytest.mark.parametrize("module", _face_modules(), ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_no_face_restates_a_verdict_rule(module: Path) -> None:
    code = module.read_text(encoding="utf-8")
    restated = [rule for rule, pattern in VERDICT_RULES.items() if pattern.search(code)]
    assert restated == [], f"{module.relative_to(PROJECT_ROOT)} restates {restated}: read the mart's column"


def test_the_rules_catch_what_they_name() -> None:
    """The patterns are not vacuous: each catches the form it was written for."""
    sql = "select route, quantile_cont(latency_ms, 0.95) from marts.x group by route"
    assert SQL_AGGREGATION["group by"].search(sql) and SQL_AGGREGATION["a percentile"].search(sql)
    assert SQL_AGGREGATION["a window function"].search(
        "select sum(calls) over (partition by org) from marts.x"
    )
    assert SQL_AGGREGATION["a case that makes words"].search("select case when pct >= 95 then 'CRITICAL' end")
    assert not SQL_AGGREGATION["an aggregate"].search("select count(*) from marts.customer_usage_summary")
    assert VERDICT_RULES["the quota action"].search("if row['pct_of_cap'] >= 95:")
    assert VERDICT_RULES["the quota outlook"].search("if days_to_cap == 0:")
    assert VERDICT_RULES["the upsell signal"].search("usage_change_30d_pct > 30")
