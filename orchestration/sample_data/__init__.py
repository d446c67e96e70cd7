"""Deterministic sample data: contract-format API events (docs/contract.md section 1) with real dirt.

`generate()` writes a landing folder of daily files (mostly `.ndjson.gz`, one plain `.ndjson`, one
`.jsonl`, exactly one `.parquet`) for `orgs` organizations over the `days` ending on `end_date`.
The same arguments always give byte-identical files: the only source of randomness is
`random.Random(seed)`, gzip headers carry no time or name, and Parquet is written by DuckDB on one
thread in a fixed row order.

What the data is shaped to show (the marts' every enum value occurs on `end_date`):
- organizations on free / pro / enterprise with trend archetypes (steady, growing, declining,
  dormant, new), signups spread over many ISO weeks, retention best on enterprise, worst on free;
- quotas set at signup (0 = unlimited for some), raised on upgrades (one mid-month), and tuned
  on the last month so the threshold bands 0 / 50 / 80 / 95 / 100 all occur, some over the cap;
- API keys with onboarding stories (never a success, a short trial, a buggy integration that
  never has an error-free day, healthy keys), a few revoked and rotated;
- endpoints with their own latency, raw ids in paths, gateway routes on some events, incidents,
  rate-limit and client-error bursts;
- dirt: redeliveries (same event_id, identical line), client retries (same idempotency_key, new
  event_id), non-UTC and offset-less times, late arrivals, unknown fields and event types,
  blank lines and a handful of malformed lines (NDJSON files only).
"""

from orchestration.sample_data.catalogue import (
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_ORGS,
    DEFAULT_SEED,
    KNOWN_EVENT_TYPES,
    MIN_DAYS,
)
from orchestration.sample_data.command import format_summary, register
from orchestration.sample_data.files import generate, planted_signals
from orchestration.sample_data.records import FileSummary, GenerationSummary, PlantedSignals

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_END_DATE",
    "DEFAULT_ORGS",
    "DEFAULT_SEED",
    "KNOWN_EVENT_TYPES",
    "MIN_DAYS",
    "FileSummary",
    "GenerationSummary",
    "PlantedSignals",
    "format_summary",
    "generate",
    "planted_signals",
    "register",
]
