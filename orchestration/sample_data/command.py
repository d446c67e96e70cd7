"""`apiwh generate`: write the sample landing folder and print what was written."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from orchestration.sample_data.catalogue import (
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_ORGS,
    DEFAULT_SEED,
    MIN_DAYS,
)
from orchestration.sample_data.files import generate
from orchestration.sample_data.records import GenerationSummary


def format_summary(summary: GenerationSummary) -> str:
    lines = [
        f"wrote {len(summary.files)} files ({summary.total_bytes / 1e6:.1f} MB) to {summary.out_dir}",
        f"  {summary.orgs} organizations, {summary.days} days "
        f"{summary.start_date.isoformat()} .. {summary.end_date.isoformat()}, seed {summary.seed}",
        "  files by format: " + ", ".join(f"{k} {v}" for k, v in summary.files_by_format.items()),
        "  events by type: " + ", ".join(f"{k} {v}" for k, v in summary.events_by_type.items()),
        f"  redelivered duplicates {summary.redelivered_duplicates}, client retries "
        f"{summary.client_retries}, malformed lines {summary.malformed_lines}, blank lines "
        f"{summary.blank_lines}",
    ]
    planted = summary.planted
    if planted is not None:
        lines.append(
            f"  planted on the last day: endpoint_degradation {planted.degraded_method} "
            f"{planted.degraded_route}, usage_spike {planted.usage_spike_org or '-'}, "
            f"key_sharing_suspect {planted.key_sharing_org or '-'}, "
            f"integration_failing {planted.failing_org or '-'}"
        )
    for f in summary.files:
        extra = ""
        if f.malformed_lines or f.blank_lines:
            extra = f"  (+{f.malformed_lines} malformed, +{f.blank_lines} blank)"
        lines.append(f"  {f.path:<48} {f.file_format:<9} {f.records:>7} events{extra}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from orchestration.errors import UsageError

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(
            f"--out {args.out} is not empty; --force writes the sample into it (files of the same name"
            " are replaced)"
        )
    try:
        summary = generate(out, orgs=args.orgs, days=args.days, seed=args.seed, end_date=args.end_date)
    except ValueError as exc:  # arguments the generator cannot honour (e.g. too few days)
        raise UsageError(str(exc)) from exc
    print(format_summary(summary))
    return 0


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path")
    return text


def _days(text: str) -> int:
    value = _at_least_one(text)
    if value < MIN_DAYS:
        raise argparse.ArgumentTypeError(f"expected {MIN_DAYS} or more, got {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write deterministic sample raw events (contract format, with dirt) to a folder",
        description="Write deterministic sample API events: same arguments, same bytes.",
    )
    parser.add_argument("--orgs", type=_at_least_one, default=DEFAULT_ORGS, help="organizations (40)")
    parser.add_argument(
        "--days", type=_days, default=DEFAULT_DAYS, help=f"days of data (120; at least {MIN_DAYS})"
    )
    parser.add_argument(
        "--out", type=_folder, required=True, help="output folder, new or empty unless --force, e.g. data/raw"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that is not empty (files of the same name are replaced)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (7)")
    parser.add_argument(
        "--end-date",
        type=_iso_date,
        default=DEFAULT_END_DATE,
        help="last day of data, YYYY-MM-DD (2026-10-31)",
    )
    parser.set_defaults(func=_run)
