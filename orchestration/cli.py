"""`apiwh`: the project's command line, and its command table.

Each command lives in the module of its concern, which exposes `register(subparsers)`. This
file lists those functions explicitly, in the order `apiwh --help` shows them: adding a command
is one import and one line in COMMANDS. Heavy imports (Dagster, dbt) happen inside the commands,
so `apiwh --help` and the read commands stay quick.

Every error is one line on stderr: exit code 2 for a bad command line or environment, 1 for a
command that could not do what was asked. No input produces a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import duckdb

from orchestration import commands, pipeline_commands, plans, sample_data, sql_command
from orchestration.alerts import commands as alert_commands
from orchestration.alerts import digest_commands
from orchestration.dashboard import commands as dashboard_commands
from orchestration.errors import UserError
from orchestration.privacy import ERASE_STAGE_DIR
from orchestration.privacy import commands as privacy_commands
from orchestration.reports import onboarding, reliability, usage
from orchestration.reports.table import printable
from orchestration.settings import SettingsError, debug_enabled, load_settings

Register = Callable[[argparse._SubParsersAction], None]

# The command table: (register function, what it adds), in help order.
COMMANDS: tuple[Register, ...] = (
    pipeline_commands.register_run,  # run
    commands.register,  # load, status, rejects
    pipeline_commands.register_publish,  # publish
    sql_command.register,  # sql
    usage.register,  # top, quota, endpoints
    reliability.register,  # incidents, versions, keys
    onboarding.register,  # funnel, retention
    alert_commands.register,  # alerts
    pipeline_commands.register_deliver,  # deliver
    digest_commands.register,  # digest
    plans.register,  # plans
    dashboard_commands.register,  # dashboard, report
    privacy_commands.register,  # erase
    sample_data.register,  # generate
    pipeline_commands.register_dev,  # dev
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage text is what --help is for)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="apiwh",
        description="API usage warehouse: load raw API events, build the marts, read them.",
        epilog="Every command has --help. Readers use the published snapshot (data/published/).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def _one_line(text: str) -> str:
    """One line, with any control character an id carried written out (never sent raw)."""
    return printable(" ".join(text.split()))


def _finish_an_interrupted_erase() -> None:
    """An erase killed after its commit point is finished by the next command, so no command
    reads a warehouse half swapped (orchestration/privacy/erase.py)."""
    try:
        settings = load_settings()
    except SettingsError:
        return  # the command says what is wrong with the settings, if it needs them
    if (settings.data_dir / ERASE_STAGE_DIR).exists():
        from orchestration.privacy.erase import finish_interrupted

        finish_interrupted(settings, lambda message: print(f"apiwh: {message}", file=sys.stderr))


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM stops every command (a wait, a run, `apiwh dev` and its tree), even when whatever
    # started this process left it ignored, as a shell's background job may.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _finish_an_interrupted_erase()
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"apiwh {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except duckdb.Error as exc:  # e.g. a bad query given to `apiwh sql`
        print(f"apiwh {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `apiwh top | head`
        # Python would complain again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"apiwh {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"apiwh {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line; APIWH_DEBUG=1 shows the traceback
        if debug_enabled():
            raise
        print(
            f"apiwh {args.command}: internal error: {type(exc).__name__}: {_one_line(str(exc))}"
            " (APIWH_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1


def run() -> NoReturn:
    """The `apiwh` console script: main(), then an exit without the interpreter's teardown.

    With Dagster and dbt loaded, freeing every module took 1.1 s after a refresh had finished
    (at 10M events, a 30 s new day). Nothing is left to it: every DuckDB connection is closed
    by its `with`, the log handlers are flushed here, and so are stdout and stderr."""
    import contextlib
    import logging

    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`apiwh top | head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
