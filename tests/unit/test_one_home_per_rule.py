"""Each contract rule is written in one place (docs/design.md "One home per rule").

A copy of a rule drifts: if the trend case were also in the alerts, churn alerts would keep
firing on the old rule after the summary changed. These tests read the dbt models and the
Python as text and fail when a rule's defining lines appear anywhere but its home.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREND = "models/intermediate/usage/int_customer_daily_trend.sql"
MOVERS = "models/intermediate/usage/int_customer_movers_7d.sql"
INCIDENT_DAYS = "models/marts/shared/int_endpoint_incident_days.sql"
INCIDENT_HITS = "models/marts/shared/int_endpoint_incident_hits.sql"
MODELS = ROOT / "dbt_project" / "models"
MACROS = ROOT / "dbt_project" / "macros"
PYTHON = ROOT / "orchestration"

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_SQL_COMMENT = re.compile(r"--[^\n]*")


def _code(path: Path) -> str:
    """The SQL without its comments, which may name a rule without applying it."""
    return _SQL_COMMENT.sub("", _JINJA_COMMENT.sub("", path.read_text()))


def _files_matching(pattern: str, folders: tuple[Path, ...], suffix: str = ".sql") -> list[str]:
    regex = re.compile(pattern, re.IGNORECASE)
    return sorted(
        str(path.relative_to(ROOT))
        for folder in folders
        for path in folder.rglob(f"*{suffix}")
        if regex.search(_code(path) if suffix == ".sql" else path.read_text())
    )


@pytest.mark.parametrize(
    ("rule", "pattern", "home"),
    [
        ("trend: declining", r"then\s+'declining'", TREND),
        ("trend: growing", r"13\s*\*\s*calls_prior_7d", TREND),
        ("trend: new", r"<\s*14\s+then\s+'new'", TREND),
        ("movers: ranked by change", r"\bas\s+change_rank\b", MOVERS),
        ("movers: ranked by loss", r"\bas\s+drop_rank\b", MOVERS),
        (
            "funnel: strict step counts",
            r"furthest_step\s+in\s*\(\s*'hundred_calls'",
            "models/marts/shared/int_onboarding_funnel_counts.sql",
        ),
        # docs/contract.md 2b `endpoint_incidents`
        ("incidents: 7 baseline days at least", r"baseline_days\s*>=\s*7\b", INCIDENT_DAYS),
        ("incidents: error floor", r"greatest\(\s*0\.05", INCIDENT_DAYS),
        ("incidents: kind both", r"then\s+'both'", INCIDENT_DAYS),
        (
            "incidents: affected customer (slower than the factor x baseline)",
            r">\s*\{\{\s*latency_factor\s*\}\}\s*\*",
            INCIDENT_HITS,
        ),
        (
            "incidents: widespread scope",
            r"then\s+'widespread'",
            "models/marts/reliability/endpoint_incidents.sql",
        ),
        # docs/contract.md 2b `integration_failing`
        (
            "integration_failing: error-rate condition",
            r"\{\{\s*failing_error_rate\s*\}\}\s*\*",
            "models/alerts/int_alerts_integration_failing_episodes.sql",
        ),
    ],
)
def test_a_rule_is_written_in_exactly_one_model(rule: str, pattern: str, home: str) -> None:
    assert _files_matching(pattern, (MODELS,)) == [f"dbt_project/{home}"], rule


@pytest.mark.parametrize(
    ("what", "pattern", "home"),
    [
        ("episodes (day number minus rank)", r"-\s*row_number\(\)\s*over", "flag_episodes.sql"),
        ("JSON construction", r"json_object\(|to_json\(|struct_pack\(|named_struct\(", "json_figures.sql"),
        ("failure error type (lower-cased, trimmed)", r"lower\(\s*trim\(", "failure_taxonomy.sql"),
    ],
)
def test_a_shared_step_lives_in_one_macro_and_no_model(what: str, pattern: str, home: str) -> None:
    assert _files_matching(pattern, (MODELS,)) == [], what
    assert _files_matching(pattern, (MACROS,)) == [f"dbt_project/macros/{home}"], what


# Models that read the day-grain facts, never the calls: each would otherwise recount a rule its
# fact already applies (who an incident hit, a route's failures).
READ_DAY_FACTS = (
    "models/marts/reliability/endpoint_incidents.sql",
    "models/marts/reliability/endpoint_incident_customers.sql",
    "models/alerts/int_alerts_endpoint_degradation.sql",
    "models/alerts/int_alerts_integration_failing.sql",
    "models/alerts/int_alerts_integration_failing_episodes.sql",
    "models/alerts/int_alerts_integration_failing_routes.sql",
    "models/alerts/int_alerts_usage_spike.sql",
)


@pytest.mark.parametrize("model", READ_DAY_FACTS)
def test_a_model_over_day_facts_does_not_recount_the_calls(model: str) -> None:
    assert not re.search(r"ref\(\s*'stg_api_requests'", _code(ROOT / "dbt_project" / model)), model


def test_the_python_reads_the_funnel_counts_and_the_trend_instead_of_recounting() -> None:
    assert _files_matching(r"furthest_step\s+in", (PYTHON,), suffix=".py") == []
    assert _files_matching(r"calls_prior_7d\s*>=\s*100", (PYTHON,), suffix=".py") == []


# A string literal of four or more words in SQL is a sentence someone will read; those are
# written in Python (orchestration/alerts/*notes*.py, render.py).
_SENTENCE = re.compile(r"'[^'\n]*?[A-Za-z]+ [A-Za-z]+ [A-Za-z]+ [A-Za-z]+[^'\n]*'")


def test_no_model_writes_a_sentence() -> None:
    found = {
        str(path.relative_to(ROOT)): _SENTENCE.findall(_code(path))
        for path in MODELS.rglob("*.sql")
        if _SENTENCE.search(_code(path))
    }
    assert found == {}


def test_the_sentence_check_catches_the_drafted_notes_it_replaced() -> None:
    drafted = "format('Hi {} team, we have not seen an API call from you since {}', org, day)"
    assert _SENTENCE.search(drafted)
    assert not _SENTENCE.search("concat_ws(':', 'churn_risk', organization_id)")
