"""`apiwh`: the project's command line. Each concern's module adds its own sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchestration.readers import WarehouseNotBuiltError
from orchestration.settings import SettingsError
from orchestration.warehouse import WarehouseBusyError

# Modules that contribute sub-commands through register(subparsers).
_COMMAND_MODULES = (
    "orchestration.commands",
    "orchestration.generator",
    "orchestration.reports.usage",
    "orchestration.reports.onboarding",
    "orchestration.alerts.commands",
    "orchestration.dashboard.commands",
    "orchestration.plans",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="apiwh",
        description="API usage warehouse: load raw API events, build the marts, read them.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SettingsError, WarehouseNotBuiltError, WarehouseBusyError, FileNotFoundError) as exc:
        print(f"apiwh: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `apiwh top | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
