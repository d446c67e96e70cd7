"""dbt imported while the run loads: a warm `apiwh-dbt` that waits for the run's dbt build.

Importing dbt and its DuckDB adapter takes about 1.7 s of the 2.8 s between dagster-dbt starting
`apiwh-dbt build` and dbt's first model. `apiwh run` starts `apiwh-dbt --warm` before it imports
Dagster, on the core the run's single-threaded start leaves idle: it imports dbt, then waits.
When dagster-dbt starts `apiwh-dbt build ...` (the launcher), the launcher hands its arguments,
working directory, environment and standard streams (SCM_RIGHTS) to the warm process, which runs
dbt in its place and sends back the exit code. dagster-dbt sees the same process, output and
exit code as before.

Both processes are children of the run, so each checks by its peer's credentials (SO_PEERCRED)
that the other is its sibling: same user, same parent. The warm process dies with the run
(die_with_parent) and with its launcher (the socket closes); signals the launcher gets (a
cancelled run) are passed on. Without a warm sibling (a run under the daemon or `dagster dev`,
or on another OS) the launcher runs dbt itself. Linux only: the socket is in the abstract
namespace (no file to clean up, no path length limit).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

from orchestration.process_stat import stat_fields

_ENABLED = sys.platform.startswith("linux")
_HEADER = struct.Struct("!Q")
_EXIT_CODE = struct.Struct("!i")
_FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _address(run_pid: int) -> str:
    return f"\0apiwh-dbt-warm-{os.getuid()}-{run_pid}"


def _parent_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[1]) if fields else None


def _sibling_pid(connection: socket.socket) -> int | None:
    """The peer's pid when it runs as this user and has this process's parent, else None."""
    pid, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid if uid == os.getuid() and _parent_of(pid) == os.getppid() else None


def start_warm_dbt(dbt_executable: Path) -> subprocess.Popen | None:
    """Start the warm `apiwh-dbt` for this process's run; stop it with `stop_warm_dbt`."""
    if not _ENABLED:
        return None
    return subprocess.Popen(
        [str(dbt_executable), "--warm", str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_warm_dbt(process: subprocess.Popen | None) -> None:
    """Kill the warm process if no build took it (a run with nothing to build), and reap it."""
    if process is None:
        return
    if process.poll() is None:
        process.kill()
    process.wait()


def serve(run_pid: int) -> None:
    """`apiwh-dbt --warm RUN_PID`: import dbt, run the one build a sibling launcher hands over,
    exit. The run's pid comes as an argument: a run that died before this process asked to die
    with it would otherwise leave it waiting for ever, re-parented."""
    from orchestration.dbt_child import die_with_parent

    die_with_parent(parent=run_pid)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(_address(run_pid))
    listener.listen(1)
    from dbt.cli.main import cli  # the point of this process

    with contextlib.suppress(ImportError):  # the Spark target does without it
        import dbt.adapters.duckdb.impl  # noqa: F401
    while True:
        connection, _ = listener.accept()
        if _sibling_pid(connection) is not None:
            break
        connection.close()
    listener.close()
    args, streams = _receive_request(connection)
    for target, stream in enumerate(streams):
        os.dup2(stream, target)
        os.close(stream)
    # A dead launcher (its run cancelled or killed) closes the socket: dbt stops with it.
    finished = threading.Event()
    threading.Thread(target=_die_when_closed, args=(connection, finished), daemon=True).start()
    try:
        cli(args)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    finished.set()
    connection.sendall(_EXIT_CODE.pack(code))
    # The usual exit, as dbt's own process has: dbt's multiprocessing resources are released
    # (os._exit would leave a "leaked semaphore" warning on the run's output).
    raise SystemExit(code)


def _receive_request(connection: socket.socket) -> tuple[list[str], list[int]]:
    message, streams, _, _ = socket.recv_fds(connection, _HEADER.size, 3)
    (length,) = _HEADER.unpack(_receive_exactly(connection, _HEADER.size, message))
    request = json.loads(_receive_exactly(connection, length))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    return request["args"], streams


def _receive_exactly(connection: socket.socket, size: int, received: bytes = b"") -> bytes:
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        if not chunk:
            raise ConnectionError("the launcher went away")
        received += chunk
    return received


def _die_when_closed(connection: socket.socket, finished: threading.Event) -> None:
    with contextlib.suppress(OSError):
        connection.recv(1)
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGKILL)


def run_in_warm_process(args: list[str]) -> int | None:
    """dbt `args` run by the warm sibling, if there is one: its exit code, else None."""
    if not _ENABLED:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(_address(os.getppid()))
    except OSError:
        return None
    warm_pid = _sibling_pid(connection)
    if warm_pid is None:
        connection.close()
        return None
    request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(connection, [_HEADER.pack(len(request))], [0, 1, 2])
    connection.sendall(request)
    for signal_number in _FORWARDED_SIGNALS:
        signal.signal(signal_number, lambda number, _: os.kill(warm_pid, number))
    try:
        reply = _receive_exactly(connection, _EXIT_CODE.size)
    except ConnectionError:  # the warm process was killed
        return 1
    # Then until it has exited: dbt-duckdb holds the warehouse file until then, and the run
    # opens it as soon as this process ends.
    with contextlib.suppress(OSError):
        connection.recv(1)
    (code,) = _EXIT_CODE.unpack(reply)
    return code
