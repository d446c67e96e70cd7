"""`apiwh dashboard`'s server, checked over real sockets on 127.0.0.1 (issue 23): no listings, no
dotfiles, the Host header checked, slow clients dropped, security headers, and a plain 4xx with
no traceback for any request it will not serve."""

from __future__ import annotations

import http.client
import re
import socket
import time

import pytest

from tests.dashboard_support import dashboard_server
from tests.support import warehouse_env

PAGE = "<!doctype html><title>overview</title><p>the overview</p>\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """`apiwh dashboard --port 0` on a site folder as the pipeline leaves it (with .built-from)."""
    root = tmp_path_factory.mktemp("dashboard_server")
    site = root / "data" / "dashboard"
    (site / "customer").mkdir(parents=True)
    (site / ".hidden").mkdir()
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "customer" / "org_1.html").write_text("<p>org_1</p>", encoding="utf-8")
    (site / ".built-from").write_text(f"{root}/data/published/warehouse.duckdb:1:2\n", encoding="utf-8")
    (site / ".hidden" / "secret.txt").write_text("secret", encoding="utf-8")
    with dashboard_server(warehouse_env(root), root / "server.log") as (port, process):
        yield {"port": port, "process": process, "log": root / "server.log"}


def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes; the status code of the answer and the answer whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status = re.match(rb"HTTP/1\.\d (\d{3}) ", answer)
    assert status, answer[:200]
    return int(status.group(1)), answer


def _get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    return _raw(port, f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n\r\n".encode())


def test_pages_are_served_with_security_headers(server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200 and response.read().decode() == PAGE
    policy = response.getheader("Content-Security-Policy")
    assert policy.startswith("default-src 'none'; script-src 'self' 'unsafe-eval' 'sha256-")
    assert "frame-ancestors 'none'" in policy and "connect-src" not in policy
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    connection.close()
    assert _get(server["port"], "/customer/org_1.html")[0] == 200


def test_no_directory_listing_and_no_dotfiles(server) -> None:
    port = server["port"]
    status, answer = _get(port, "/customer/")
    assert status == 404 and b"org_1.html" not in answer
    for path in (
        "/.built-from",
        "/%2ebuilt-from",
        "/.hidden/secret.txt",
        "/customer/../.built-from",
        "/.hidden/",
    ):
        status, answer = _get(port, path)
        assert status == 404, path
        assert b"warehouse.duckdb" not in answer and b"secret" not in answer, path


def test_the_host_header_must_name_the_address_served(server) -> None:
    port = server["port"]
    assert _get(port, "/", host=f"localhost:{port}")[0] == 200
    # DNS rebinding: a page of another site whose name now points to 127.0.0.1.
    assert _get(port, "/", host=f"attacker.example:{port}")[0] == 421
    assert _get(port, "/", host="127.0.0.1:1")[0] == 421
    assert _raw(port, b"GET / HTTP/1.0\r\n\r\n")[0] == 400
    twice = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: attacker.example\r\n\r\n".encode()
    assert _raw(port, twice)[0] == 400


def test_bad_requests_get_a_plain_4xx_and_no_traceback(server) -> None:
    port = server["port"]
    host = f"Host: 127.0.0.1:{port}\r\n"
    cases = [
        (f"GET /%00 HTTP/1.1\r\n{host}\r\n", 400),
        (f"GET /index.html%00.txt HTTP/1.1\r\n{host}\r\n", 400),
        (f"GET /%ff%fe HTTP/1.1\r\n{host}\r\n", 400),
        (f"GET /a%1b[2J HTTP/1.1\r\n{host}\r\n", 400),
        (f"GET /{'a' * 5000} HTTP/1.1\r\n{host}\r\n", 414),
        (f"GET /{'a' * 70000} HTTP/1.1\r\n{host}\r\n", 414),
        (f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\n{host}\r\n", 400),
        (f"POST / HTTP/1.1\r\n{host}Content-Length: 0\r\n\r\n", 405),
        (f"DELETE /index.html HTTP/1.1\r\n{host}\r\n", 405),
        (f"FROBNICATE / HTTP/1.1\r\n{host}\r\n", 405),
        ("GET / HTTP/9.9\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ]
    for request, expected in cases:
        status, _ = _raw(port, request.encode("latin-1"))
        assert status == expected, (request[:40], status)
    assert server["process"].poll() is None
    assert _get(port, "/")[0] == 200
    log = server["log"].read_text()
    assert "Traceback" not in log and "Error" not in log, log


def test_idle_and_slow_clients_are_dropped_while_others_are_served(server) -> None:
    port = server["port"]
    idle = socket.create_connection(("127.0.0.1", port), timeout=60)
    slow = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        # Slowloris: a header line every half second, never the blank line that ends them.
        slow.sendall(b"GET / HTTP/1.1\r\n")
        dropped = False
        for _ in range(120):
            try:
                slow.sendall(b"X-Slow: 1\r\n")
            except OSError:
                dropped = True
                break
            assert _get(port, "/")[0] == 200  # the server answers others meanwhile
            time.sleep(0.5)
        assert dropped, "a client trickling its headers was never dropped"
        assert idle.recv(1) == b""  # the idle one was closed too, without an answer
    finally:
        idle.close()
        slow.close()
