"""The optional organizations file: display names and contacts (docs/contract.md section 3).

`ORGANIZATIONS_FILE` is a CSV with a header `organization_id, display_name,
primary_contact_email`. DuckDB reads it (every column as text); a file that cannot be used stops
with one line that says why, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import SettingsError

REQUIRED_COLUMNS = ("organization_id", "display_name", "primary_contact_email")


@dataclass(frozen=True)
class Organization:
    organization_id: str
    display_name: str
    primary_contact_email: str | None


class Directory:
    """Names people read, by organization id; an id missing from the file shows as itself."""

    def __init__(self, organizations: dict[str, Organization] | None = None) -> None:
        self._by_id = dict(organizations or {})

    def __len__(self) -> int:
        return len(self._by_id)

    def name(self, organization_id: str) -> str:
        found = self._by_id.get(organization_id)
        return found.display_name if found else organization_id

    def contact(self, organization_id: str) -> str | None:
        found = self._by_id.get(organization_id)
        return found.primary_contact_email if found else None

    def only(self, organization_id: str) -> Directory:
        """A directory holding one organization: what a customer's report may know about."""
        found = self._by_id.get(organization_id)
        return Directory({organization_id: found} if found else {})


_READ_SQL = """
select
    trim(organization_id),
    nullif(trim(display_name), ''),
    nullif(trim(primary_contact_email), '')
from read_csv(?, header = true, all_varchar = true, auto_detect = true)
"""


def load_directory(path: Path | None) -> Directory:
    """The organizations in `path`, or an empty directory when no file is configured."""
    if path is None:
        return Directory()
    if not path.is_file():
        raise SettingsError(f"ORGANIZATIONS_FILE {path} does not exist or is not a file")
    with duckdb.connect() as con:
        try:
            columns = [
                row[0].strip().lower()
                for row in con.execute(
                    "describe select * from read_csv(?, header = true, all_varchar = true)", [str(path)]
                ).fetchall()
            ]
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if missing:
                raise SettingsError(
                    f"ORGANIZATIONS_FILE {path} lacks the column(s) {', '.join(missing)}; "
                    f"expected a header {', '.join(REQUIRED_COLUMNS)}"
                )
            rows = con.execute(_READ_SQL, [str(path)]).fetchall()
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise SettingsError(f"ORGANIZATIONS_FILE {path} is not a readable CSV: {first_line}") from exc
    organizations: dict[str, Organization] = {}
    for line_number, (organization_id, display_name, email) in enumerate(rows, start=2):
        if not organization_id:
            raise SettingsError(f"ORGANIZATIONS_FILE {path} line {line_number}: organization_id is empty")
        if organization_id in organizations:
            raise SettingsError(
                f"ORGANIZATIONS_FILE {path} line {line_number}: organization_id {organization_id!r} "
                "appears twice"
            )
        if email is not None and "@" not in email:
            raise SettingsError(
                f"ORGANIZATIONS_FILE {path} line {line_number}: primary_contact_email {email!r} "
                "is not an email address"
            )
        organizations[organization_id] = Organization(organization_id, display_name or organization_id, email)
    return Directory(organizations)
