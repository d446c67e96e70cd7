"""`make lint`: no DuckDB-only SQL outside the dispatch macros (docs/design.md "Two engines").

Every model and data test must be SQL that both DuckDB and Spark accept; each real difference
lives in one `adapter.dispatch` macro under dbt_project/macros/. This reads the model and test
SQL with Jinja, comments and string literals blanked out, and names each DuckDB-only construct
it finds (file, line, construct), plus `varchar` contract types in the YAML. Exit 1 on any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED_FOLDERS = ("dbt_project/models", "dbt_project/tests")

# (what to say, pattern), matched case-insensitively on the blanked SQL.
DUCKDB_ONLY = (
    ("qualify (use row_number() and an outer filter)", r"\bqualify\b"),
    ("// integer division (integer_divide macro)", r"//"),
    (":: cast (use cast(... as ...))", r"::"),
    ("list literal or index [ ] (no lists: one column per value)", r"\["),
    ("struct literal { } (named_struct/json macro)", r"\{"),
    ("lambda -> (dispatch macro)", r"->"),
    ("lambda keyword (dispatch macro)", r"\blambda\b"),
    ("arg_max/arg_min (max_by/min_by, value_at_max macro)", r"\barg_(max|min)\b"),
    ("quantile_* (percentile_cont(p) within group (order by x))", r"\bquantile_\w+"),
    ("asof join (left join + max_by)", r"\basof\b"),
    ("ignore nulls (last_value_ignoring_nulls macro)", r"\bignore\s+nulls\b"),
    ("generate_series (days_through / integers_through macros)", r"\bgenerate_series\b"),
    ("varchar (string)", r"\bvarchar\b"),
    ("* exclude (...) (source_columns_except macro)", r"\bexclude\s*\("),
    ("list_* function", r"\blist_\w+\s*\("),
    ("list() aggregate", r"\blist\s*\("),
    ("unnest", r"\bunnest\s*\("),
    ("strftime (cast the date as string)", r"\bstrftime\s*\("),
    ("format() (sentences are rendered in Python)", r"\bformat\s*\("),
    ("json_object (dispatch macro)", r"\bjson_object\s*\("),
    ("epoch_ms (epoch_milliseconds macro)", r"\bepoch_ms\s*\("),
    ("string_agg (ordered_string_agg macro)", r"\bstring_agg\s*\("),
    ("regexp_full_match (rlike with anchors)", r"\bregexp_full_match\s*\("),
    ("read_text / read_csv / read_json (sources only)", r"\bread_(text|csv|json|parquet)\w*\s*\("),
    ("struct_pack", r"\bstruct_pack\s*\("),
    ("count(distinct ...) over (Spark has no distinct window aggregates)", r"\bdistinct\b[^()]*\)\s*over\b"),
)
YAML_DUCKDB_ONLY = (("varchar contract type (string)", r"data_type:\s*varchar\b"),)

# Models still written for DuckDB only, and why. The check fails when one of them becomes
# portable too, so this list only shrinks; the lead's merge removes an entry per ported model.
NOT_YET_PORTABLE: dict[str, str] = {}


def blank_non_sql(text: str) -> str:
    """The SQL with Jinja, comments and quoted strings replaced by spaces (newlines kept)."""

    def spaces(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", spaces, text, flags=re.DOTALL)
    out, i = [], 0
    while i < len(text):
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end == -1 else end + 2
        elif text[i] in "'\"":
            quote, end = text[i], i + 1
            while end < len(text):
                if text[end] == quote and text.startswith(quote * 2, end):
                    end += 2
                elif text[end] == quote:
                    end += 1
                    break
                else:
                    end += 1
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:end]))
        i = end
    return "".join(out)


def findings(path: Path, text: str) -> list[str]:
    checks = YAML_DUCKDB_ONLY if path.suffix in (".yml", ".yaml") else DUCKDB_ONLY
    body = text if path.suffix in (".yml", ".yaml") else blank_non_sql(text)
    found = []
    for number, line in enumerate(body.splitlines(), start=1):
        for what, pattern in checks:
            if re.search(pattern, line, flags=re.IGNORECASE):
                found.append(f"{path}:{number}: DuckDB-only SQL: {what}")
    return found


def check(root: Path, not_yet_portable: dict[str, str] = NOT_YET_PORTABLE) -> list[str]:
    problems = []
    for folder in CHECKED_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".sql", ".yml", ".yaml"):
                continue
            relative = path.relative_to(root)
            found = findings(relative, path.read_text(encoding="utf-8"))
            if relative.as_posix() in not_yet_portable:
                if not found:
                    problems.append(f"{relative}: portable now: remove it from NOT_YET_PORTABLE")
                continue
            problems += found
    return problems


def main() -> int:
    problems = check(ROOT)
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} DuckDB-only construct(s) outside dbt_project/macros/: write SQL both "
            "engines accept, or move the difference into an adapter.dispatch macro",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
