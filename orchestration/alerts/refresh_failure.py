"""A failed refresh is itself an alert: `refresh_failed`, one per failed daily_refresh run.

Two reporters record and send the same alert, keyed by the Dagster run id, so a failed run that
both see is sent once: `apiwh run` (report_refresh_failure, after its daily_refresh failed) and
the sensor report_failed_refreshes (orchestration/defs/alerts.py) under the daemon or `dagster
job execute`. Both go through report_failed_run:

1. The alert is inserted into the ledger marts.alerts (`on conflict do nothing`) like every
   alert, so `apiwh alerts` lists it and `apiwh deliver` retries it; the published snapshot's
   copy of the ledger is refreshed so readers see it at once.
2. It goes to every sink that has not accepted it yet, and is marked. The warehouse is held
   only while recording and marking, never during a send, so a queued run is not blocked.
3. The refresh may have failed because the warehouse is unwritable (locked, corrupt, disk
   full): then the alert goes straight to the sinks (unless alerts.jsonl already has its key)
   and the status line says so.

Reporters take turns (a lock on the alerts file), so two of them never both send. Nothing here
raises: a report that cannot be made is a status line, never a second failure. No Dagster.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.formatting import iso
from orchestration.alerts.ledger import (
    Alert,
    get_alert,
    mark_delivered,
    mark_failed,
    record_alert,
    utc_now,
)
from orchestration.alerts.render import REFRESH_FAILED
from orchestration.alerts.sinks import Sink, build_sinks, send_everywhere
from orchestration.settings import DEFAULT_IP_HASH_SALT, Settings
from orchestration.snapshot import META_TABLE
from orchestration.warehouse import connect

if TYPE_CHECKING:
    from orchestration.run_summary import JobOutcome

REFRESH_JOB = "daily_refresh"
MAX_ERROR_CHARS = 300
# Short values are not worth hiding (and would garble the text they happen to occur in).
MIN_SECRET_CHARS = 6
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class LedgerUnavailableError(RuntimeError):
    """The ledger cannot be written (no warehouse yet, locked, corrupt, unwritable)."""


def refresh_alert_key(run_id: str, job_name: str = REFRESH_JOB) -> str:
    return f"{REFRESH_FAILED}:{job_name}:{run_id}"


def one_line_error(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """The error on one line, without the settings' secrets or any URL (Slack URLs embed a
    token), cut to MAX_ERROR_CHARS."""
    line = " ".join((text or "").split())
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_CHARS:
            line = line.replace(secret, "[secret]")
    line = _URL.sub("[url]", line)
    if len(line) > MAX_ERROR_CHARS:
        line = line[: MAX_ERROR_CHARS - 1] + "…"
    return line or "unknown error"


def secrets_of(settings: Settings, alert_settings: AlertSettings) -> list[str | None]:
    salt = settings.ip_hash_salt if settings.ip_hash_salt != DEFAULT_IP_HASH_SALT else None
    secrets = [alert_settings.webhook_url, alert_settings.webhook_secret, salt]
    routes = alert_settings.routes
    if routes is not None:  # the routes file's destinations carry URLs, keys and a password
        secrets += [value for d in routes.destinations for value in (d.url, d.secret, d.routing_key)]
        secrets.append(routes.smtp.password if routes.smtp else None)
    return secrets


def refresh_failed_alert(
    *,
    run_id: str,
    failed_step: str | None,
    error: str | None,
    failed_at: dt.datetime,
    log_path: Path | str | None,
    job_name: str = REFRESH_JOB,
    secrets: Iterable[str | None] = (),
) -> Alert:
    if failed_at.tzinfo is not None:
        failed_at = failed_at.astimezone(dt.UTC).replace(tzinfo=None)
    return Alert(
        alert_key=refresh_alert_key(run_id, job_name),
        alert_type=REFRESH_FAILED,
        organization_id=None,
        threshold=None,
        detail={
            "job_name": job_name,
            "run_id": run_id,
            "failed_step": failed_step,
            "error": one_line_error(error, secrets),
            "failed_at": iso(failed_at),
            "log_path": str(log_path) if log_path else None,
        },
        as_of_date=failed_at.date(),  # the day it failed (UTC): the ledger needs a date
        created_at=failed_at,
    )


def report_refresh_failure(
    settings: Settings,
    alert_settings: AlertSettings,
    outcome: JobOutcome,
    log_path: Path,
    *,
    deliver: bool = True,
) -> str:
    """`apiwh run`: record the failed refresh `outcome` as an alert and send it (only record it
    with deliver=False, unless the ledger is unwritable); return one line for the summary."""
    try:
        alert = refresh_failed_alert(
            run_id=outcome.run_id,
            failed_step=outcome.failed_step,
            error=outcome.error,
            failed_at=utc_now(),
            log_path=log_path,
            job_name=outcome.job_name,
            secrets=secrets_of(settings, alert_settings),
        )
        return report_failed_run(settings, alert_settings, alert, deliver=deliver)
    except Exception as exc:  # the failure path must not fail
        return _could_not_report(exc)


def report_failed_run(
    settings: Settings, alert_settings: AlertSettings, alert: Alert, *, deliver: bool = True
) -> str:
    """Record `alert` in the ledger and send it where it has not been accepted yet; fall back to
    sending it directly when the ledger cannot be written. Returns what happened, in one line."""
    try:
        with _taking_turns(alert_settings.jsonl_path, wait_seconds=30 + 3 * alert_settings.timeout_seconds):
            return _record_and_send(settings, alert_settings, alert, deliver=deliver)
    except Exception as exc:  # the failure path must not fail
        return _could_not_report(exc)


def _could_not_report(exc: Exception) -> str:
    return f"could not report the failure as an alert: {one_line_error(f'{type(exc).__name__}: {exc}')}"


def _record_and_send(
    settings: Settings, alert_settings: AlertSettings, alert: Alert, *, deliver: bool
) -> str:
    sinks = build_sinks(alert_settings)
    snapshot_was_current = _snapshot_is_current(settings)
    try:
        recorded, new = _record(settings, alert)
    except LedgerUnavailableError as exc:
        return _send_directly(sinks, alert, alert_settings, reason=str(exc))
    if recorded.status != "pending":
        return f"{REFRESH_FAILED} alert for run {_short(alert)} was already {recorded.status}"
    what = f"{REFRESH_FAILED} alert {'recorded' if new else 'already recorded'}"
    if not deliver:
        _, note = _with_ledger(settings, snapshot_was_current, lambda con: "")
        return f"{what}, pending: `apiwh deliver` sends it{note}"
    results = _send(sinks, recorded)
    sent = _sent_phrase(results, alert_settings)
    try:
        retry, note = _with_ledger(
            settings, snapshot_was_current, lambda con: _mark(con, alert_settings, recorded, results)
        )
    except LedgerUnavailableError as exc:
        return f"{what}, {sent}, but its delivery is not marked ({exc})"
    return f"{what}, {sent}{retry}{note}"


def _short(alert: Alert) -> str:
    return str(alert.detail.get("run_id"))[:8]


@contextlib.contextmanager
def _taking_turns(path: Path, *, wait_seconds: float) -> Iterator[None]:
    """An exclusive lock on the alerts file while one reporter records and sends, so the
    sensor and `apiwh run` never both send; given up after `wait_seconds` rather than hang."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:  # an unwritable folder: the file sink will say so; go on without the lock
        yield
        return
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


def _ledger_error(exc: Exception) -> LedgerUnavailableError:
    return LedgerUnavailableError(one_line_error(f"{type(exc).__name__}: {exc}"))


def _record(settings: Settings, alert: Alert) -> tuple[Alert, bool]:
    if not settings.warehouse_path.exists():
        raise LedgerUnavailableError(f"no warehouse at {settings.warehouse_path} yet")
    try:
        with connect(settings.warehouse_path) as con:
            new = record_alert(con, alert, now=utc_now())
            recorded = get_alert(con, alert.alert_key)
    except Exception as exc:  # locked, corrupt, read-only, disk full: whatever it is, send anyway
        raise _ledger_error(exc) from exc
    if recorded is None:
        raise LedgerUnavailableError("the ledger lost the row it just wrote")
    return recorded, new


def _send(sinks: list[Sink], alert: Alert) -> dict[str, str | None]:
    """Sink name -> None when accepted (now or before), else the reason."""
    results: dict[str, str | None] = dict.fromkeys(alert.delivered_sinks)
    todo = [sink for sink in sinks if sink.name not in results]
    return {**results, **send_everywhere(todo, alert)}


def _mark(con, alert_settings: AlertSettings, alert: Alert, results: dict[str, str | None]) -> str:  # noqa: ANN001
    accepted = [name for name, error in results.items() if error is None]
    errors = [f"{name}: {error}" for name, error in results.items() if error is not None]
    now = utc_now()
    if not errors:
        mark_delivered(con, alert.alert_key, sinks=accepted, now=now)
        return ""
    status = mark_failed(
        con,
        alert.alert_key,
        error="; ".join(errors),
        sinks=accepted,
        now=now,
        max_attempts=alert_settings.max_attempts,
        backoff_seconds=alert_settings.backoff_seconds,
        backoff_max_seconds=alert_settings.backoff_max_seconds,
    )
    return "; it is dead" if status == "dead" else "; `apiwh deliver` retries it"


def _sent_phrase(results: dict[str, str | None], alert_settings: AlertSettings) -> str:
    names = {"file": alert_settings.jsonl_path.name, "webhook": "the webhook"}
    sent = [names.get(name, name) for name, error in results.items() if error is None]
    failed = [f"{names.get(name, name)} failed ({error})" for name, error in results.items() if error]
    text = "delivered to " + " and ".join(sent) if sent else "delivered nowhere"
    return text + ("; " + ", ".join(failed) if failed else "")


def _send_directly(sinks: list[Sink], alert: Alert, alert_settings: AlertSettings, *, reason: str) -> str:
    prefix = f"{REFRESH_FAILED} alert not recorded in the ledger ({reason})"
    jsonl_path = alert_settings.jsonl_path
    if _already_in_file(jsonl_path, alert.alert_key):
        return f"{prefix}; already sent for run {_short(alert)} ({jsonl_path.name} has it)"
    return f"{prefix}: sent directly, {_sent_phrase(send_everywhere(sinks, alert), alert_settings)}"


def _already_in_file(path: Path, alert_key: str) -> bool:
    """Whether the file sink already has this key (a reporter that could not record it either)."""
    needle = f'"alert_key": "{alert_key}"'
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return any(needle in line for line in handle)
    except OSError:
        return False


def _snapshot_is_current(settings: Settings) -> bool:
    """Whether the published snapshot was taken from the live file as it is now: then writing
    only the ledger keeps it current (readers would otherwise hint `apiwh publish`)."""
    if not (settings.snapshot_path.exists() and settings.warehouse_path.exists()):
        return False
    try:
        with connect(settings.snapshot_path, read_only=True) as con:
            rows = con.execute(f"select live_mtime_ns from {META_TABLE}").fetchall()
        return bool(rows) and rows[0][0] == settings.warehouse_path.stat().st_mtime_ns
    except Exception:  # no meta table, unreadable: then it is not known to be current
        return False


def _with_ledger(settings: Settings, snapshot_was_current: bool, work) -> tuple[str, str]:  # noqa: ANN001
    """work(con) on the live file, then the ledger copied into the published snapshot (never
    the half-refreshed marts of a failed run). Returns work's text and a note when the snapshot
    could not be updated."""
    try:
        with connect(settings.warehouse_path) as con:
            result = work(con)
            if not settings.snapshot_path.exists():
                return result, ""
            try:
                _publish_ledger(con, settings, keep_current=snapshot_was_current)
            except Exception as exc:  # recorded all the same; the next publish copies it
                return result, f" (not yet in the published snapshot: {one_line_error(str(exc))})"
    except Exception as exc:
        raise _ledger_error(exc) from exc
    return result, ""


def _publish_ledger(con, settings: Settings, *, keep_current: bool) -> None:  # noqa: ANN001
    """The snapshot with marts.alerts replaced by the live ledger: a copy, changed, then moved
    into place, so readers see the old snapshot or the new one (orchestration/snapshot.py)."""
    snapshot = settings.snapshot_path
    temporary = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.ledger.tmp")
    shutil.copyfile(snapshot, temporary)
    try:
        con.execute("checkpoint")  # the live file's modification time is final from here
        con.execute("attach ? as snapshot", [str(temporary)])
        try:
            con.execute("create schema if not exists snapshot.marts")
            con.execute("create or replace table snapshot.marts.alerts as select * from marts.alerts")
            if keep_current:
                con.execute(
                    f"update snapshot.{META_TABLE} set live_mtime_ns = ?",
                    [settings.warehouse_path.stat().st_mtime_ns],
                )
        finally:
            con.execute("detach snapshot")
        os.replace(temporary, snapshot)
    finally:
        temporary.unlink(missing_ok=True)
