"""`apiwh alerts [--pending | --dead] [--format table|csv|json]`: list the alert ledger (marts.alerts).

Reads the published snapshot like every reader (orchestration.readers); deliver_alerts
republishes it after each run that changed a delivery state.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from orchestration.alerts import replay
from orchestration.alerts.ledger import Alert, DestinationState, destination_states, list_alerts
from orchestration.alerts.render import alert_title
from orchestration.readers import open_marts_connection, read_as_of
from orchestration.reports.output import add_output_arguments, row_limit, write_records
from orchestration.reports.table import render_table
from orchestration.settings import load_settings


def _when(value: object) -> str:
    return "" if value is None else str(value)[:16]


@dataclasses.dataclass(frozen=True)
class ListedAlert(Alert):
    """A ledger row and where it went: delivered_sinks accepted it; owed_sinks were tried and
    have not (marts.alert_deliveries), while the alert is not delivered."""

    owed_sinks: tuple[str, ...] = ()


def with_destinations(alerts: list[Alert], states: dict[str, list[DestinationState]]) -> list[ListedAlert]:
    listed = []
    for alert in alerts:
        owed = tuple(
            state.destination
            for state in states.get(alert.alert_key, [])
            if alert.status != "delivered"
            and state.delivered_at is None
            and state.destination not in alert.delivered_sinks
        )
        listed.append(
            ListedAlert(
                **{f.name: getattr(alert, f.name) for f in dataclasses.fields(Alert)}, owed_sinks=owed
            )
        )
    return listed


def sent_to(alert: Alert) -> str:
    """`file, sales ✓; oncall ✗`: the sinks that accepted it, then those still owed."""
    parts = [f"{', '.join(alert.delivered_sinks)} ✓"] if alert.delivered_sinks else []
    owed = getattr(alert, "owed_sinks", ())
    if owed:
        parts.append(f"{', '.join(owed)} ✗")
    return "; ".join(parts)


def format_table(alerts: list[Alert]) -> str:
    headers = ("STATUS", "ATTEMPTS", "CREATED", "DELIVERED", "SENT TO", "ALERT KEY", "SUMMARY / LAST ERROR")
    rows = []
    for alert in alerts:
        note = alert_title(alert)
        if alert.status != "delivered" and alert.last_error:
            note += f" [last error: {alert.last_error}]"
        rows.append(
            (
                alert.status,
                str(alert.delivery_attempts),
                _when(alert.created_at),
                _when(alert.delivered_at),
                sent_to(alert),
                alert.alert_key,
                note,
            )
        )
    return "\n".join(render_table(headers, rows, align="l" * len(headers), rule=False))


def cmd_alerts(args: argparse.Namespace) -> int:
    statuses = None
    if args.pending:
        statuses = ["pending"]
    elif args.dead:
        statuses = ["dead"]
    with open_marts_connection(load_settings()) as con:
        alerts = with_destinations(list_alerts(con, statuses=statuses), destination_states(con))
        as_of = read_as_of(con)
    alerts = alerts[: row_limit(args)]
    if args.json or args.format != "table":
        # The ledger's rows keyed by marts.alerts' columns (Alert's fields), and owed_sinks.
        write_records(ListedAlert, alerts, "json" if args.json else args.format)
        return 0
    which = f"{statuses[0]} " if statuses else ""
    if not alerts:
        print(f"No {which}alerts.", file=sys.stderr)
        return 0
    as_of_text = f", marts as of {as_of.isoformat()}" if as_of else ""
    print(f"{len(alerts):,} {which}alert(s) in the ledger{as_of_text}; `apiwh deliver` sends pending ones")
    print(format_table(alerts))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help=(
            "list recorded alerts (quota thresholds, churn risk, usage spikes, key sharing suspects,"
            " failing integrations, endpoint degradations, failed refreshes) and their delivery state"
        ),
        description=(
            "List the alert ledger marts.alerts, oldest first: status (pending, delivered, dead), "
            "delivery attempts, the alert key and its headline or last delivery error."
        ),
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--pending", action="store_true", help="only alerts not delivered yet (still retried)")
    which.add_argument("--dead", action="store_true", help="only alerts that gave up after too many attempts")
    add_output_arguments(parser, table_limit=None, what="alerts (oldest first)")
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.set_defaults(func=cmd_alerts)
    replay.register(parser)  # `apiwh alerts replay`: orchestration/alerts/replay.py
