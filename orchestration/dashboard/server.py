"""The HTTP server of `apiwh dashboard`: the site's files on 127.0.0.1, and nothing else.

What it refuses (issue 23), each as a plain 4xx with no traceback:
- a Host header other than the address it serves (DNS rebinding): 421, or 400 without one;
- directory listings and any path segment starting with "." (`.built-from` names local paths):
  404;
- NUL or other control characters, bad percent-encoding, paths over MAX_PATH: 400 or 414;
- methods other than GET and HEAD: 405.
A client that sends nothing for `timeout` seconds, or has not finished its request headers
after HEADERS_SECONDS, is dropped. Every answer carries a Content-Security-Policy that allows
exactly what the pages use, nosniff and no-referrer.

Besides the files, it answers `/reports/<customer page>-30d.html` and `.csv`: the customer's
30-day report (`apiwh report`), written when asked, which each customer page links to.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import io
import re
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable
from functools import cache
from http import HTTPStatus

from orchestration.dashboard.render import environment

MAX_PATH = 2048
HEADERS_SECONDS = 5.0
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")
# A customer's 30-day report: its page's name (customer_view.page_name) and the kind.
_REPORT_PATH = re.compile(r"/reports/(?P<page>[A-Za-z0-9_.-]+)-30d\.(?P<kind>html|csv)")
_REPORT_TYPES = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}
# (the page's name without .html, "html" or "csv") -> the report's bytes, or why there is none.
ReportSource = Callable[[str, str], bytes | str]


@cache
def content_security_policy() -> str:
    """Scripts only from the site and the one inline script of the customer pages (by hash);
    vega compiles its expressions with Function(), hence 'unsafe-eval'. The pages' styles are
    inline (a <style> block, and style attributes in the SVG charts)."""
    source, _, _ = environment().loader.get_source(environment(), "customer.html.j2")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", source, re.S)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' 'unsafe-eval' {hashes}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class DashboardHandler(http.server.SimpleHTTPRequestHandler):
    # Seconds one read or write of the connection may wait (socketserver sets it on the socket).
    timeout = 5
    server_version = "apiwh-dashboard"
    sys_version = ""
    server: DashboardServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        # A client trickling its headers byte by byte never hits `timeout`: bound the whole.
        self._watchdog = threading.Timer(HEADERS_SECONDS, self._drop)
        self._watchdog.daemon = True
        self._watchdog.start()

    def finish(self) -> None:
        self._watchdog.cancel()
        super().finish()

    def _drop(self) -> None:
        with contextlib.suppress(OSError):  # already closed
            self.connection.shutdown(socket.SHUT_RDWR)

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        self._watchdog.cancel()
        if not parsed:
            return False
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            self.send_error(HTTPStatus.BAD_REQUEST, "Exactly one Host header is required")
            return False
        if hosts[0].strip().lower() not in self.server.allowed_hosts:
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "This server answers for 127.0.0.1 only")
            return False
        if self.command not in ("GET", "HEAD"):
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "Only GET and HEAD")
            return False
        return True

    def send_head(self):
        if len(self.path) > MAX_PATH:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return None
        if not self.path.startswith("/"):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request path")
            return None
        try:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path, errors="strict")
        except (UnicodeDecodeError, ValueError):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request path")
            return None
        if _UNSAFE_IN_PATH.search(path):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request path")
            return None
        if any(segment.startswith(".") for segment in path.split("/")):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        report = _REPORT_PATH.fullmatch(path)
        if report and self.server.reports is not None:
            return self._send_report(report["page"], report["kind"])
        return super().send_head()

    def _send_report(self, page: str, kind: str):
        body = self.server.reports(page, kind)
        if isinstance(body, str):
            self.send_error(HTTPStatus.NOT_FOUND, body)
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", _REPORT_TYPES[kind])
        self.send_header("Content-Length", str(len(body)))
        if kind == "csv":
            self.send_header("Content-Disposition", f'attachment; filename="{page}-30d.csv"')
        self.end_headers()
        return io.BytesIO(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Every refusal is a 4xx with a status line (the base class answers a version it cannot
        parse with a 505 and no status line)."""
        if code >= 500:
            code, message = HTTPStatus.BAD_REQUEST, message or "Bad request"
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"
        super().send_error(code, message, explain)

    def list_directory(self, path):  # noqa: ARG002 - the base class's signature
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", content_security_policy())
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class DashboardServer(http.server.ThreadingHTTPServer):
    """Serves `directory` on 127.0.0.1:port (0 picks a free port)."""

    def __init__(self, directory: str, port: int, reports: ReportSource | None = None) -> None:
        self.directory = directory
        self.reports = reports
        super().__init__(("127.0.0.1", port), DashboardHandler)
        bound = self.server_address[1]
        names = ("127.0.0.1", "localhost")
        self.allowed_hosts = {f"{name}:{bound}" for name in names} | (set(names) if bound == 80 else set())

    def finish_request(self, request, client_address) -> None:
        DashboardHandler(request, client_address, self, directory=self.directory)

    def handle_error(self, request, client_address) -> None:
        """A request that failed in a way the handler did not answer: one line, no traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # the client went away or was dropped
        print(f"apiwh dashboard: a request failed: {type(error).__name__}: {error}", file=sys.stderr)
