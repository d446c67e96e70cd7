"""The subject of an erasure, and the rows about it in the tables erase edits itself.

Every dbt model is rebuilt from raw instead (orchestration/privacy/erase.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.loading.erasure_list import SUBJECT_COLUMNS


@dataclass(frozen=True)
class Subject:
    kind: str  # a key of SUBJECT_COLUMNS
    subject_id: str

    @property
    def column(self) -> str:
        return SUBJECT_COLUMNS[self.kind]

    def describe(self) -> str:
        return f"{self.kind} {self.subject_id}"


# What erase removes itself; every dbt model is rebuilt from raw instead. A reject's snippet and
# an alert's key and detail are text, so the id is matched as a whole word there.
def _word(column: str) -> str:
    return f"regexp_matches({column}, $word_pattern)"


_ALERTS = f"{_word('alert_key')} or {_word('detail::varchar')} or organization_id = $subject_id"
# In the order they are deleted: an alert's deliveries are found through the alert.
DIRECT_DELETES: dict[str, str] = {
    "marts.alert_deliveries": f"alert_key in (select alert_key from marts.alerts where {_ALERTS})",
    "marts.alerts": _ALERTS,
    "raw.event_rejects": _word("snippet"),
    "raw.events": "{column} = $subject_id",
}


def word_pattern(subject_id: str) -> str:
    """A regular expression (RE2) matching the id as a whole word: `org_1` is not in `org_12`."""
    escaped = "".join(f"\\{c}" if not c.isalnum() else c for c in subject_id)
    return f"(^|[^A-Za-z0-9_.-]){escaped}($|[^A-Za-z0-9_.-])"


def direct_delete_condition(table: str, subject: Subject) -> str:
    return DIRECT_DELETES[table].format(column=subject.column)


def subject_params(subject: Subject, sql: str) -> dict:
    """The parameters `sql` uses (DuckDB refuses unused named parameters)."""
    values = {"subject_id": subject.subject_id, "word_pattern": word_pattern(subject.subject_id)}
    return {name: value for name, value in values.items() if f"${name}" in sql}
