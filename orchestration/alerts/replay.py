"""`apiwh alerts replay [--type T] [--from DATE] [--to DATE]`: the alerts the rules would have
raised on each as-of date of a range, over the existing marts, without touching the ledger.

The rules are the dbt models under dbt_project/models/alerts/ (they read marts and
int_as_of_date). The replay copies the live warehouse into a temporary folder (the published
snapshot holds the marts only, and the rules also read the daily facts), then for each as-of
date, oldest first, rebuilds on the copy the models between int_as_of_date and
marts.alert_candidates that are not incremental (REPLAY_SELECT): the daily facts already hold
every day up to the marts' as-of date, and every model cuts them at its own as-of date. Each
day's candidates go into a table keyed like the ledger (`insert ... on conflict do nothing`), so
a key keeps the first as-of date that raised it, as marts.alerts does. The live warehouse, its
ledger and the snapshot are never written; the copy is removed at the end.

dbt runs in one child process for the whole range (`python -m orchestration.alerts.replay`),
which dies with this one (orchestration/dbt_child.py); it parses the project once and saves
dbt's start-up and parse on every date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from orchestration.alerts.config import RULE_ALERT_TYPES
from orchestration.dbt_cli import dbt_vars
from orchestration.errors import UsageError, UserError
from orchestration.readers import WarehouseNotBuiltError
from orchestration.reports.output import write_records
from orchestration.reports.table import render_table
from orchestration.settings import DBT_PROJECT_DIR, Settings, environment_with, load_settings
from orchestration.sql_command import FORMATS
from orchestration.warehouse import connect, table_exists

# The rule types only: refresh_failed is recorded by the pipeline, not a rule.
ALERT_TYPES = RULE_ALERT_TYPES
# Everything that depends on the as-of date on the way to the candidates, but not the
# incremental daily facts: rebuilding those for an earlier date would cut them there.
REPLAY_SELECT = (
    "--select",
    "int_as_of_date+,+alert_candidates",
    "--exclude",
    "config.materialized:incremental",
)
DEFAULT_DAYS = 30
MAX_DAYS = 366  # one dbt run per date: a typo in a year should not start a week of runs
UPGRADE_DAYS = 30

# In the copy only: the replayed ledger, and the limit history as the marts hold it before the
# replay rebuilds quota_utilization for earlier dates.
_PREPARE_SQL = """
create schema if not exists replay;
create or replace table replay.alerts (
    alert_key varchar primary key,
    alert_type varchar not null,
    organization_id varchar,
    threshold integer,
    detail json,
    as_of_date date not null
);
create or replace table replay.limit_history as
select organization_id, usage_date, monthly_call_limit from marts.quota_utilization;
"""

_RECORD_SQL = """
insert into replay.alerts
select alert_key, alert_type, organization_id, threshold, detail, as_of_date
from marts.alert_candidates
where cast(? as varchar) is null or alert_type = ?
order by alert_key
on conflict do nothing
returning alert_key
"""
_DAY_COUNT_SQL = """
select count(*) from marts.alert_candidates where cast(? as varchar) is null or alert_type = ?
"""

# The ledger's rule alerts, for the default range.
_LEDGER_RANGE_SQL = """
select as_of_date from marts.alerts
where alert_type in (select unnest(?::varchar[])) and (cast(? as varchar) is null or alert_type = ?)
order by as_of_date
"""

# How many alerts each rule would have raised in the range.
_PER_RULE_SQL = """
select alert_type, count(*) as alerts, min(as_of_date) as first_day, max(as_of_date) as last_day
from replay.alerts
group by alert_type
order by alert_type
"""

# Quota alerts followed, within UPGRADE_DAYS after their as-of date, by a day whose monthly
# limit is higher than the one the alert counted against; `recent` ones have had less time.
_UPGRADE_SHARE_SQL = """
with followed as (
    select
        alerts.as_of_date,
        exists (
            select 1
            from replay.limit_history as history
            where
                history.organization_id = alerts.organization_id
                and history.usage_date > alerts.as_of_date
                and history.usage_date <= alerts.as_of_date + cast(? as integer)
                and history.monthly_call_limit > cast(alerts.detail ->> 'monthly_call_limit' as bigint)
        ) as is_followed_by_upgrade
    from replay.alerts as alerts
    where alerts.alert_type = 'quota_threshold'
)
select
    count(*) as alerts,
    count(*) filter (where is_followed_by_upgrade) as followed_by_upgrade,
    round(100.0 * count(*) filter (where is_followed_by_upgrade) / nullif(count(*), 0), 1) as share_pct,
    count(*) filter (where as_of_date + cast(? as integer) > cast(? as date)) as recent
from followed
"""

_REPLAYED_SQL = """
select alert_key, alert_type, organization_id, threshold, as_of_date
from replay.alerts
order by as_of_date, alert_key
"""


@dataclass(frozen=True)
class ReplayedAlert:
    """An alert the rules would have recorded, with the first as-of date that raised it."""

    alert_key: str
    alert_type: str
    organization_id: str | None
    threshold: int | None
    as_of_date: dt.date


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _alert_type(text: str) -> str:
    if text not in ALERT_TYPES:
        raise argparse.ArgumentTypeError(f"unknown alert type {text!r}; one of {', '.join(ALERT_TYPES)}")
    return text


def _copy_files(live: Path, copy: Path) -> None:
    """The file (and its write-ahead log, if any): call while holding a reader's lock on it, so
    no run writes it meanwhile."""
    shutil.copyfile(live, copy)
    wal = live.with_name(live.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))


def _choose_range(
    con: duckdb.DuckDBPyConnection, args: argparse.Namespace
) -> tuple[dt.date, dt.date, dt.date]:
    """--from/--to, else the ledger's first to last as-of date of the rules' alerts, else the
    last DEFAULT_DAYS days of data; never past the marts' as-of date (returned third)."""
    (marts_as_of,) = con.execute("select as_of_date from intermediate.int_as_of_date").fetchall()[0]
    ledger_days = []
    if table_exists(con, "marts", "alerts"):
        params = [list(ALERT_TYPES), args.alert_type, args.alert_type]
        ledger_days = [day for (day,) in con.execute(_LEDGER_RANGE_SQL, params).fetchall()]
    if ledger_days:
        start, end = ledger_days[0], ledger_days[-1]
    else:
        start, end = marts_as_of - dt.timedelta(days=DEFAULT_DAYS - 1), marts_as_of
    # One end given: the other is the default, unless that would leave nothing to replay.
    if args.start is not None:
        start, end = args.start, args.end or (end if end >= args.start else marts_as_of)
    elif args.end is not None:
        start, end = (
            (start if start <= args.end else args.end - dt.timedelta(days=DEFAULT_DAYS - 1)),
            args.end,
        )
    if end > marts_as_of:
        raise UsageError(
            f"--to {end.isoformat()} is after the marts' as-of date {marts_as_of.isoformat()}:"
            " no data to replay"
        )
    if start > end:
        raise UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if (end - start).days + 1 > MAX_DAYS:
        raise UsageError(
            f"{start.isoformat()} .. {end.isoformat()} is {(end - start).days + 1:,} dates; replay at most"
            f" {MAX_DAYS} at a time"
        )
    return start, end, marts_as_of


def _run_child(
    settings: Settings, copy: Path, start: dt.date, end: dt.date, alert_type: str | None, out: TextIO
) -> None:
    values = json.loads(dbt_vars(settings))
    values.pop("as_of")  # the child sets AS_OF per date; int_as_of_date reads the var first
    values["warehouse_path"] = str(copy)
    command = [
        sys.executable,
        "-m",
        "orchestration.alerts.replay",
        str(copy),
        json.dumps(values, sort_keys=True),
        start.isoformat(),
        end.isoformat(),
        alert_type or "",
    ]
    # The copy in the environment too, so nothing in dbt can fall back to the live file.
    env = environment_with(WAREHOUSE_PATH=str(copy))
    child = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, stdout=out, stderr=subprocess.PIPE, text=True
    )
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["dbt failed"])[-1]
        raise UserError(f"the replay stopped: {reason}")


def cmd_replay(args: argparse.Namespace) -> int:
    settings = load_settings()
    # With csv or json, stdout carries the replayed alerts only: the progress and counts go to stderr.
    progress = sys.stdout if args.format == "table" else sys.stderr
    live = settings.warehouse_path
    if not live.exists():
        raise WarehouseNotBuiltError(f"no warehouse at {live}: run `apiwh run` (or `make run`) first")
    with tempfile.TemporaryDirectory(prefix="apiwh-replay-") as folder:
        # Named warehouse.duckdb: dbt names the database after the file.
        copy = Path(folder) / "warehouse.duckdb"
        with connect(live, read_only=True) as con:
            if not table_exists(con, "marts", "alert_candidates"):
                raise WarehouseNotBuiltError("the alert models are not built yet: run `apiwh run` first")
            start, end, marts_as_of = _choose_range(con, args)
            _copy_files(live, copy)
        with connect(copy) as con:
            con.execute(_PREPARE_SQL)
        days = (end - start).days + 1
        which = f"{args.alert_type} " if args.alert_type else ""
        print(
            f"Replaying the {which}alert rules on {days:,} as-of date(s),"
            f" {start.isoformat()} .. {end.isoformat()},"
            f" over a copy of {settings.warehouse_path} (marts as of {marts_as_of.isoformat()});"
            " the ledger is not touched",
            file=progress,
            flush=True,
        )
        _run_child(settings, copy, start, end, args.alert_type, progress)
        with connect(copy, read_only=True) as con:
            replayed = [ReplayedAlert(*row) for row in con.execute(_REPLAYED_SQL).fetchall()]
            per_rule = con.execute(_PER_RULE_SQL).fetchall()
            upgrade = con.execute(_UPGRADE_SHARE_SQL, [UPGRADE_DAYS, UPGRADE_DAYS, marts_as_of]).fetchall()[0]
    print(
        render_summary(per_rule, upgrade, alert_type=args.alert_type, marts_as_of=marts_as_of), file=progress
    )
    if args.format != "table":
        write_records(ReplayedAlert, replayed, args.format)
    return 0


def render_summary(
    per_rule: list[tuple], upgrade: tuple, *, alert_type: str | None, marts_as_of: dt.date
) -> str:
    counts = {rule: (alerts, first, last) for rule, alerts, first, last in per_rule}
    rules = [alert_type] if alert_type else list(ALERT_TYPES)
    rows = []
    for rule in rules:
        alerts, first, last = counts.get(rule, (0, None, None))
        rows.append(
            (rule, f"{alerts:,}", first.isoformat() if first else "-", last.isoformat() if last else "-")
        )
    lines = ["", "Alerts each rule would have raised (first as-of date per key, as the ledger keeps it):"]
    lines += render_table(("RULE", "ALERTS", "FIRST RAISED", "LAST RAISED"), rows, align="lrll")
    quota_alerts, followed, share_pct, recent = upgrade
    if "quota_threshold" in rules:
        if quota_alerts:
            line = (
                f"Quota alerts followed by an upgrade (a higher monthly limit) within {UPGRADE_DAYS} days:"
                f" {followed:,} of {quota_alerts:,} ({share_pct:g}%)"
            )
            if recent:
                line += (
                    f"; for {recent:,} of them, raised less than {UPGRADE_DAYS} days before"
                    f" {marts_as_of.isoformat()} (the marts' as-of date), the {UPGRADE_DAYS} days are not"
                    " over"
                )
        else:
            line = "No quota alert in the range: no upgrade share."
        lines.append(line)
    return "\n".join(lines)


def register(alerts_parser: argparse.ArgumentParser) -> None:
    """`replay` under `apiwh alerts`; without it, `apiwh alerts` lists the ledger as before."""
    actions = alerts_parser.add_subparsers(dest="alerts_action", metavar="{replay}")
    replay = actions.add_parser(
        "replay",
        help="what the alert rules would have raised on each as-of date of a range (writes nothing)",
        description=(
            "Run the alert rules (dbt_project/models/alerts/) for every as-of date from --from to --to"
            " over a copy of the warehouse, with the ledger's keys and episodes; print how many alerts"
            " each rule would have raised and the share of quota alerts followed by an upgrade within"
            f" {UPGRADE_DAYS} days. The ledger and the warehouse are not written."
        ),
    )
    replay.add_argument(
        "--type", dest="alert_type", type=_alert_type, default=None, help="only this alert type"
    )
    replay.add_argument(
        "--from",
        dest="start",
        type=_date,
        default=None,
        help="first as-of date (default the ledger's first, or the last 30 days of data)",
    )
    replay.add_argument(
        "--to", dest="end", type=_date, default=None, help="last as-of date (default the ledger's last)"
    )
    replay.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table: progress and counts; csv or json: the replayed alerts (progress and counts on stderr)",
    )
    replay.set_defaults(func=cmd_replay)


# ------------------------------------------------------------------------------ the child


def _replay_dates(copy: Path, vars_json: str, start: dt.date, end: dt.date, alert_type: str | None) -> int:
    """Rebuild the rules on the copy for each date, oldest first; record the new keys."""
    from dbt.cli.main import dbtRunner  # imported here: dbt's import takes seconds

    from orchestration.dbt_cli import release_dbt_duckdb_connection

    folder = copy.parent
    folders = ["--target-path", str(folder / "dbt_target"), "--log-path", str(folder / "dbt_logs"), "--quiet"]

    def vars_for(day: dt.date) -> list[str]:
        # The as-of date reaches dbt as a var, as in a run (orchestration/dbt_cli.dbt_vars).
        return ["--vars", json.dumps({**json.loads(vars_json), "as_of": day.isoformat()}, sort_keys=True)]

    # One parse for the whole range: dbt parses everything again when the vars change (about 3
    # CPU seconds a date), but the as-of date only matters when a model compiles (int_as_of_date
    # reads the var in its SQL), and each run below compiles with its own date's vars.
    parsed = dbtRunner().invoke(["parse", *vars_for(start), *folders])
    if not parsed.success:
        print("dbt parse failed", file=sys.stderr)
        return 1
    runner = dbtRunner(manifest=parsed.result)
    seen = 0
    day = start
    while day <= end:
        started = time.monotonic()
        result = runner.invoke(["run", *REPLAY_SELECT, *vars_for(day), *folders])
        release_dbt_duckdb_connection()  # dbt-duckdb keeps the file open otherwise
        if not result.success:
            print(f"dbt run failed for as-of date {day.isoformat()}", file=sys.stderr)
            return 1
        with connect(copy) as con:
            (raised,) = con.execute(_DAY_COUNT_SQL, [alert_type, alert_type]).fetchall()[0]
            new = len(con.execute(_RECORD_SQL, [alert_type, alert_type]).fetchall())
        seen += new
        print(
            f"  {day.isoformat()}: {raised:,} alert(s) hold, {new:,} new, {seen:,} so far"
            f" ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        day += dt.timedelta(days=1)
    return 0


def _child_main(argv: list[str]) -> int:
    from orchestration.dbt_child import die_with_parent

    die_with_parent()
    copy, vars_json, start, end, alert_type = argv
    return _replay_dates(
        Path(copy), vars_json, dt.date.fromisoformat(start), dt.date.fromisoformat(end), alert_type or None
    )


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
