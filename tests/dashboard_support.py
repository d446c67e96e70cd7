"""A small real warehouse for the dashboard and report tests, and a headless Chromium helper.

One target organization with known figures, and other organizations planted with distinctive
ids, names, contacts and latencies that must never reach the target's report.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.shared_builds import built_once, copy_of
from tests.support import api_request, build_warehouse, key_issued, quota_set, warehouse_path

TARGET = "acme_target"
TARGET_NAME = "Acme Target Company"
TARGET_CONTACT = "ops@acme-target.example"
CANARY_ORG = "zz_canary_org_7f3e"
CANARY_NAME = "Canary Holdings Zebra"
CANARY_CONTACT = "canary-secret@zebra.example"
OTHER_ORG = "other_bigco_q9w8"
OTHER_NAME = "Bigco Quokka Widgets"
OTHER_CONTACT = "quokka@bigco.example"
# Only the canary's calls take this long: if it shows in a report, another customer leaked.
CANARY_DURATION_MS = 98765.4
CANARY_STRINGS = (
    CANARY_ORG,
    CANARY_NAME,
    CANARY_CONTACT,
    OTHER_ORG,
    OTHER_NAME,
    OTHER_CONTACT,
    "key_canary_zebra",
    "98765",
    "98,765",
    "/v1/canary-only",
)
DAYS = 10  # 2026-03-01 .. 2026-03-10; the as-of date is the last one
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def events() -> list[dict | str]:
    result = [
        quota_set(TARGET, "2026-03-01T00:00:00Z", 100, plan="pro"),
        key_issued(TARGET, "2026-03-01T00:00:00Z", "key_acme", plan="pro"),
        quota_set(CANARY_ORG, "2026-03-01T00:00:00Z", 60, plan="team"),
        key_issued(CANARY_ORG, "2026-03-01T00:00:00Z", "key_canary_zebra", plan="team"),
    ]
    for day in range(1, DAYS + 1):
        date = f"2026-03-{day:02d}"
        # Target: 9 calls a day, 7 ok, one 404, one 500; 10..90 ms.
        for index, status in enumerate([200] * 7 + [404, 500]):
            result.append(
                api_request(
                    TARGET,
                    f"{date}T{10 + index:02d}:00:00Z",
                    status=status,
                    key="key_acme",
                    endpoint="/v1/items" if index % 2 else "/v1/orders/123",
                    duration_ms=10.0 * (index + 1) + day,
                    plan="pro",
                )
            )
        for index in range(5):
            result.append(
                api_request(
                    CANARY_ORG,
                    f"{date}T{10 + index:02d}:30:00Z",
                    key="key_canary_zebra",
                    endpoint="/v1/canary-only" if index == 0 else "/v1/items",
                    duration_ms=CANARY_DURATION_MS,
                    plan="team",
                )
            )
        for index in range(20):
            result.append(
                api_request(OTHER_ORG, f"{date}T{index:02d}:15:00Z", key="key_other", duration_ms=5.0)
            )
    # One call that arrived three days late and one line that breaks the contract: data health.
    result.append(
        api_request(
            OTHER_ORG,
            "2026-03-05T12:00:00Z",
            key="key_other",
            duration_ms=5.0,
            received_at="2026-03-08T12:00:00Z",
        )
    )
    result.append('{"event_id": "broken", not json')
    return result


def organizations_csv(path: Path) -> Path:
    path.write_text(
        "organization_id,display_name,primary_contact_email\n"
        f"{TARGET},{TARGET_NAME},{TARGET_CONTACT}\n"
        f"{CANARY_ORG},{CANARY_NAME},{CANARY_CONTACT}\n"
        f"{OTHER_ORG},{OTHER_NAME},{OTHER_CONTACT}\n",
        encoding="utf-8",
    )
    return path


def plans_csv(path: Path) -> Path:
    """The plan catalogue (PLANS_FILE): the target's pro plan leads to scale, $150 more."""
    path.write_text(
        "plan_id,monthly_price,monthly_call_limit,next_plan_id,overage_price_per_1k_calls\n"
        "team,29,60,pro,1\n"
        "pro,49,100,scale,10\n"
        "scale,199,1000,,5\n",
        encoding="utf-8",
    )
    return path


def build_published_warehouse(tmp_path: Path) -> Path:
    """Load, build every model (plans priced), publish the snapshot; return the live warehouse."""
    warehouse = build_warehouse(tmp_path, events(), plans_file=plans_csv(tmp_path / "plans.csv"))
    con = connect(warehouse)
    try:
        publish_snapshot(con, warehouse.parent / "published" / "warehouse.duckdb")
    finally:
        con.close()
    return warehouse


def published_copy(shared: Path, destination: Path) -> Path:
    """A copy of build_published_warehouse's folder, built once per test session
    (tests/shared_builds.py); returns the copy's live warehouse. Each module writes its own pages."""
    root = built_once(shared, "published", build_published_warehouse)
    return warehouse_path(copy_of(root, destination))


@contextlib.contextmanager
def dashboard_server(
    env: Mapping[str, str], log: Path, *, stop: int = signal.SIGTERM, **popen_options
) -> Iterator[tuple[int, subprocess.Popen]]:
    """`apiwh dashboard --port 0` in a real subprocess: yields its port and process, and stops it
    with `stop`. Its stderr goes to `log`: an unread pipe that fills up would block the server."""
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "dashboard", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            **popen_options,
        )
    try:
        first_line = server.stdout.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", first_line)
        assert port, first_line + log.read_text()
        yield int(port.group(1)), server
    finally:
        server.send_signal(stop)
        server.wait(timeout=30)


def _chromium(url: str, profile: Path, *flags: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium package is required (.ci/run installs it)"
    completed = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def chromium(url: str, *, screenshot: Path, profile: Path) -> str:
    """The DOM Chromium renders for url, and a screenshot of it."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    completed = _chromium(
        url,
        profile,
        "--window-size=1200,2400",
        # Lets the page's scripts finish (customer pages draw their charts in the browser).
        "--virtual-time-budget=15000",
        f"--screenshot={screenshot}",
        "--dump-dom",
    )
    assert screenshot.stat().st_size > 10_000
    return completed.stdout


def chromium_pdf(url: str, *, pdf: Path, profile: Path) -> bytes:
    """Print url to PDF as a browser's "Save as PDF" does; return the PDF's bytes."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    _chromium(url, profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    return pdf.read_bytes()
