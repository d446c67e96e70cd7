"""The child process that draws charts: `python -m orchestration.dashboard.chart_worker`.

It reads a JSON list of Vega-Lite specifications on stdin and writes one JSON line per chart,
in order, as soon as it is drawn: {"svg": ...} or {"error": ...}. vl-convert aborts the whole
process on some inputs (a Rust panic that cannot unwind, issue 23), so it runs here and never in
the pipeline's process: chart_batch.py sees where the lines stop and carries on without that
chart. Imports only json and vl_convert, so it starts in a few hundredths of a second.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import vl_convert

    specs = json.load(sys.stdin)
    out = sys.stdout
    for spec in specs:
        try:
            result = {"svg": vl_convert.vegalite_to_svg(spec)}
        except Exception as exc:  # an invalid specification: that chart only
            text = str(exc).strip().splitlines()
            result = {"error": text[0] if text else type(exc).__name__}
        out.write(json.dumps(result) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
