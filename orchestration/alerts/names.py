"""Display names in delivered alerts, from the optional organizations file (docs/contract.md 3).

The words are written in Python from the figures (render.py), greeting by `organization_name`,
which this module adds to the detail when ORGANIZATIONS_FILE names the organization, with its
contact. An alert recorded before the words moved to Python carries a note drafted with the id
("Hi org_42 team"): its greeting and headline's subject are rewritten to the name.
`organization_id` itself stays the id, which receivers key on. The platform's alerts
(endpoint_degradation: no organization_id) list the organizations they hit; each entry of
`affected_organizations` gets its `organization_name` (and contact) the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from orchestration.alerts.ledger import Alert
from orchestration.alerts.sinks import Sink
from orchestration.dashboard.organizations import Directory


def with_display_name(alert: Alert, directory: Directory) -> Alert:
    """The alert with its organization's display name in the drafted words; unchanged when the
    organizations file does not name it. Only the greeting and the headline's opening are
    rewritten, so an id that is also a common word is never replaced elsewhere."""
    organization_id = alert.organization_id
    if not organization_id:
        return _with_affected_organization_names(alert, directory)
    name = directory.name(organization_id)
    contact = directory.contact(organization_id)
    if name == organization_id and contact is None:
        return alert
    detail = dict(alert.detail)
    body = detail.get("note_body")
    if isinstance(body, str):
        detail["note_body"] = body.replace(f"Hi {organization_id} team", f"Hi {name} team", 1)
    headline = detail.get("headline")
    if isinstance(headline, str) and headline.startswith(organization_id):
        detail["headline"] = name + headline[len(organization_id) :]
    detail["organization_name"] = name
    if contact is not None:
        detail["primary_contact_email"] = contact
    return dataclasses.replace(alert, detail=detail)


def _with_affected_organization_names(alert: Alert, directory: Directory) -> Alert:
    affected = alert.detail.get("affected_organizations")
    if not isinstance(affected, list) or not affected:
        return alert
    named = []
    for entry in affected:
        entry_id = entry.get("organization_id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str):
            named.append(entry)
            continue
        entry = dict(entry)
        entry["organization_name"] = directory.name(entry_id)
        contact = directory.contact(entry_id)
        if contact is not None:
            entry["primary_contact_email"] = contact
        named.append(entry)
    return dataclasses.replace(alert, detail={**alert.detail, "affected_organizations": named})


@dataclass
class NamedSink:
    """A sink that receives each alert with the organization's display name in its words."""

    inner: Sink
    directory: Directory

    @property
    def name(self) -> str:
        return self.inner.name  # the ledger records deliveries per sink name

    def send(self, alert: Alert) -> None:
        self.inner.send(with_display_name(alert, self.directory))


def with_display_names(sinks: Sequence[Sink], directory: Directory) -> list[Sink]:
    if not len(directory):
        return list(sinks)
    return [NamedSink(sink, directory) for sink in sinks]
