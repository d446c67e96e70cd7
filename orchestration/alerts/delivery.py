"""Send every due alert to every sink it is owed to and record the outcome on its ledger row.

- Owed: every sink, unless a routes file says which destinations want which alerts
  (routes.py; sinks.sink_wants). The file sink is always owed every alert.
- Delivered: every sink it is owed to accepted it. A sink that accepted it is never sent it again,
  even while another sink keeps failing (so alerts.jsonl has one line per alert).
- Failed: delivery_attempts + 1, last_error kept, next try after exponential backoff; after
  max_attempts the alert is dead (a failed asset check) until an operator revives it.
- A sink that fails `breaker_after` times in a row is left alone for the rest of the run (a
  down receiver costs a few timeouts, not one per alert); the alerts it did not get stay
  pending without spending an attempt.
- Marks are written one alert at a time, right after its sends: a crash in between re-sends
  that one alert next time, with the same key, which receivers dedupe on. Each send is counted
  for its destination too (marts.alert_deliveries: attempts, last error, when it accepted).
Nothing here raises because a sink failed; only the warehouse itself can fail the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb

from orchestration.alerts.ledger import (
    Alert,
    due_alerts,
    mark_delivered,
    mark_failed,
    mark_partial,
    record_delivery_attempt,
    status_counts,
)
from orchestration.alerts.sinks import Sink, SinkError, sink_wants

DEFAULT_BREAKER_AFTER = 3


@dataclass
class DeliveryReport:
    due: int = 0
    delivered: list[str] = field(default_factory=list)
    retrying: dict[str, str] = field(default_factory=dict)  # key -> error, still pending
    died: dict[str, str] = field(default_factory=dict)  # key -> error, now dead
    deferred: list[str] = field(default_factory=list)  # not tried: a sink was failing
    sink_failures: dict[str, int] = field(default_factory=dict)
    pending_after: int = 0
    dead_after: int = 0

    @property
    def failed(self) -> int:
        return len(self.retrying) + len(self.died)

    def summary(self) -> str:
        text = (
            f"{self.due} due: {len(self.delivered)} delivered, {len(self.retrying)} will be "
            f"retried, {len(self.died)} dead, {len(self.deferred)} deferred; ledger now has "
            f"{self.pending_after} pending and {self.dead_after} dead"
        )
        if self.sink_failures:
            failures = ", ".join(f"{name} {n}" for name, n in sorted(self.sink_failures.items()))
            text += f" (sink failures: {failures})"
        return text


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SinkError) else f"{type(exc).__name__}: {exc}"


def deliver_pending(
    con: duckdb.DuckDBPyConnection,
    sinks: Sequence[Sink],
    *,
    now: dt.datetime,
    max_attempts: int,
    backoff_seconds: float,
    backoff_max_seconds: float,
    breaker_after: int = DEFAULT_BREAKER_AFTER,
    log: Callable[[str], None] | None = None,
) -> DeliveryReport:
    """Deliver every pending alert whose retry time has come; never raises for a sink."""
    report = DeliveryReport()
    alerts: list[Alert] = due_alerts(con, now=now)
    report.due = len(alerts)
    failures_in_a_row = {sink.name: 0 for sink in sinks}
    tripped: set[str] = set()

    for alert in alerts:
        accepted = list(alert.delivered_sinks)
        errors: list[str] = []
        skipped = False
        for sink in sinks:
            if sink.name in accepted or not sink_wants(sink, alert):
                continue
            if sink.name in tripped:
                skipped = True
                continue
            try:
                sink.send(alert)
            except Exception as exc:  # a sink must never fail the delivery run
                reason = _reason(exc)
                errors.append(f"{sink.name}: {reason}")
                record_delivery_attempt(con, alert.alert_key, sink.name, error=reason, now=now)
                report.sink_failures[sink.name] = report.sink_failures.get(sink.name, 0) + 1
                failures_in_a_row[sink.name] += 1
                if failures_in_a_row[sink.name] >= breaker_after:
                    tripped.add(sink.name)
                    if log:
                        log(
                            f"sink {sink.name} failed {breaker_after} times in a row; "
                            "leaving it alone for the rest of this run"
                        )
            else:
                accepted.append(sink.name)
                failures_in_a_row[sink.name] = 0
                record_delivery_attempt(con, alert.alert_key, sink.name, error=None, now=now)

        if errors:
            error = "; ".join(errors)
            status = mark_failed(
                con,
                alert.alert_key,
                error=error,
                sinks=accepted,
                now=now,
                max_attempts=max_attempts,
                backoff_seconds=backoff_seconds,
                backoff_max_seconds=backoff_max_seconds,
            )
            if status == "dead":
                report.died[alert.alert_key] = error
            else:
                report.retrying[alert.alert_key] = error
            if log:
                log(f"{alert.alert_key}: attempt {alert.delivery_attempts + 1} failed ({error})")
        elif skipped:
            mark_partial(con, alert.alert_key, sinks=accepted)
            report.deferred.append(alert.alert_key)
        else:
            mark_delivered(con, alert.alert_key, sinks=accepted, now=now)
            report.delivered.append(alert.alert_key)
            if log:
                log(f"{alert.alert_key}: delivered")

    counts = status_counts(con)
    report.pending_after = counts["pending"]
    report.dead_after = counts["dead"]
    return report
