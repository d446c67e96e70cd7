"""The erasure certificate: what a data protection officer keeps as proof.

<warehouse dir>/erasures/<time>-<kind>-<hash>.json holds when the erase ran, the subject's
hashed id (never the id), the rows removed per table, the files rewritten or removed with their
sha256 before and after, and the result of the scan of every file the warehouse writes
(orchestration/privacy/scan.py). `apiwh status` shows the latest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from orchestration.privacy.scan import files_under, scan, sha256_of
from orchestration.privacy.subjects import Subject
from orchestration.settings import Settings

CERTIFICATES_DIR = "erasures"


def _digest(path: Path) -> str | None:
    """A file's sha256; a folder's is the sha256 of its files' paths and digests."""
    if path.is_file():
        return sha256_of(path)
    if path.is_dir():
        listing = "".join(f"{p.relative_to(path)}\0{sha256_of(p)}\n" for p in files_under([path]))
        return hashlib.sha256(listing.encode()).hexdigest()
    return None


def draft(
    subject: Subject,
    id_hash: str,
    erased_at: dt.datetime,
    rows_removed: dict[str, int],
    moves: list[tuple[Path, Path | None]],
) -> dict:
    """The journal erase commits: the moves, and what the certificate will say. It names the
    subject (the scan needs the id) and is removed once the certificate is written."""
    return {
        "subject_kind": subject.kind,
        "subject_id": subject.subject_id,
        "id_hash": id_hash,
        "erased_at": erased_at.isoformat(timespec="seconds"),
        "rows_removed": rows_removed,
        "moves": [[str(live), str(staged) if staged else None] for live, staged in moves],
        "before": {str(live): _digest(live) for live, _ in moves},
    }


def path_of(settings: Settings, journal: dict) -> Path:
    stamp = dt.datetime.fromisoformat(journal["erased_at"]).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{journal['subject_kind']}-{journal['id_hash'][:12]}.json"
    return settings.data_dir / CERTIFICATES_DIR / name


def issue(settings: Settings, journal: dict, roots: list[Path], *, skip: Path) -> dict:
    """Scan, then write the certificate; returns it."""
    files = [p for p in files_under(roots) if p != skip.resolve()]
    findings = scan(files, journal["subject_id"])
    shown = {str(p): p for p in (Path(live) for live, _ in journal["moves"])}
    certificate = {
        "erased_at": journal["erased_at"],
        "subject_kind": journal["subject_kind"],
        "id_hash": journal["id_hash"],
        "id_hash_method": "sha256(IP_HASH_SALT || kind || ':' || id)",
        "rows_removed": journal["rows_removed"],
        "files": [
            {"path": text, "sha256_before": journal["before"][text], "sha256_after": _digest(path)}
            for text, path in shown.items()
        ],
        "scan": {
            "files_scanned": len(files),
            "bytes_scanned": sum(p.stat().st_size for p in files if p.exists()),
            "found_in": findings,
            "clean": not findings,
        },
    }
    target = path_of(settings, journal)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(certificate, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return {**certificate, "path": str(target)}


def latest(settings: Settings) -> tuple[int, dict | None]:
    """How many certificates there are, and the newest (None when there is none)."""
    folder = settings.data_dir / CERTIFICATES_DIR
    names = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not names:
        return 0, None
    return len(names), {**json.loads(names[-1].read_text(encoding="utf-8")), "path": str(names[-1])}
