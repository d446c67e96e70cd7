"""Charts drawn to SVG in a child process, a whole batch at a time, so that no chart can stop
the run (issue 23: vl-convert aborts its process on some labels, e.g. U+FFFF).

A page is rendered with a placeholder where each chart goes (`ChartBatch.svg`); `draw` then
sends every chart of the build to one worker process (chart_worker.py), which answers chart by
chart. If the worker dies or hangs on a chart, that chart is recorded as not drawn and a new
worker carries on with the next one: one process per build normally, one more per bad chart.
`fill` puts the drawings into the pages, and a short note where a chart could not be drawn.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from markupsafe import Markup, escape

from orchestration.dashboard import charts
from orchestration.reports.table import printable
from orchestration.settings import environment_with

# Longer than any chart takes (about 0.1 s; 0.5 s for the first, which starts the renderer).
CHART_SECONDS = 60.0
NOTE = '<p class="muted chart-missing">chart not drawn: {reason}</p>'


@dataclass(frozen=True)
class ChartFailure:
    title: str
    reason: str

    def __str__(self) -> str:
        return f'chart "{self.title}" not drawn: {self.reason}'


class ChartBatch:
    """Collects the charts of a build, draws them in a worker, then fills them into pages."""

    def __init__(self) -> None:
        # Placeholders are HTML comments with a random token: page text is escaped, so data
        # can never forge one.
        self._token = secrets.token_hex(8)
        self._pattern = re.compile(rf"<!--chart {self._token} (\d+)-->")
        self._specs: list[str] = []
        self._titles: list[str] = []
        self._drawn: list[Markup] | None = None
        self.failures: list[ChartFailure] = []

    def svg(self, spec: charts.Spec) -> Markup:
        """Where this chart goes in a page; drawn later, with the rest of the batch."""
        self._specs.append(charts.spec_json(spec))
        title = spec.get("title")
        self._titles.append(printable(title) if isinstance(title, str) else "untitled (a sparkline)")
        return Markup(f"<!--chart {self._token} {len(self._specs) - 1}-->")

    def draw(self) -> list[ChartFailure]:
        """Draw every chart collected so far; return those that could not be drawn."""
        results = draw_in_worker(self._specs)
        drawn: list[Markup] = []
        for title, result in zip(self._titles, results, strict=True):
            if isinstance(result, Markup):
                drawn.append(result)
            else:
                self.failures.append(ChartFailure(title, result))
                drawn.append(Markup(NOTE.format(reason=escape(_page_reason(result)))))
        self._drawn = drawn
        return self.failures

    def fill(self, html: str) -> str:
        """The page with each placeholder replaced by its drawing (or the note)."""
        if self._drawn is None:
            self.draw()
        drawn = self._drawn
        return self._pattern.sub(lambda match: drawn[int(match.group(1))], html)


def _page_reason(reason: str) -> str:
    """The note on the page: what happened, without the renderer's internals."""
    if reason.startswith("the chart renderer crashed"):
        return "the chart renderer crashed on this chart's data (the run's log says more)"
    return reason


def draw_in_worker(specs: list[str]) -> list[Markup | str]:
    """Each specification (JSON text) drawn as SVG Markup, or a one-line reason it was not."""
    results: list[Markup | str] = []
    while len(results) < len(specs):
        results.extend(_one_worker(specs[len(results) :]))
    return results


def _one_worker(specs: list[str]) -> list[Markup | str]:
    """Draw in one worker until it finishes or fails; a failure ends the list with its reason."""
    with tempfile.TemporaryFile() as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "orchestration.dashboard.chart_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=environment_with(RUST_BACKTRACE="0"),
        )
        try:
            results, died = _read_results(worker, specs)
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        if died:  # on the chart after the last answer
            stderr.seek(0)
            results.append(_death_reason(worker.returncode, stderr.read().decode("utf-8", "replace")))
        return results


def _read_results(worker: subprocess.Popen, specs: list[str]) -> tuple[list[Markup | str], bool]:
    """The worker's answers as they come, and whether it died before answering them all."""
    results: list[Markup | str] = []
    try:
        worker.stdin.write(("[" + ",".join(specs) + "]").encode("utf-8"))
        worker.stdin.close()
    except BrokenPipeError:
        return results, True  # it died before reading them all
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + CHART_SECONDS
        while len(results) < len(specs):
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                worker.kill()
                results.append(f"drawing it took longer than {CHART_SECONDS:g} s")
                return results, False
            chunk = os.read(worker.stdout.fileno(), 1 << 20)
            if not chunk:
                return results, True
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                answer = json.loads(line)
                drawn = answer.get("svg")
                results.append(Markup(drawn) if drawn is not None else f"invalid chart: {answer['error']}")
            deadline = time.monotonic() + CHART_SECONDS
    return results, False


def _death_reason(returncode: int, stderr: str) -> str:
    """One line: how the worker ended and the renderer's own words (a Rust panic message)."""
    try:
        how = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit {returncode}"
    except ValueError:
        how = f"signal {-returncode}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((lines[i + 1] for i, line in enumerate(lines[:-1]) if "panicked at" in line), None)
    said = said or (lines[-1] if lines else "no message")
    return f"the chart renderer crashed ({how}): {printable(said)[:200]}"
