"""The one table renderer every terminal view uses: aligned columns, two spaces apart.

Values are data, never control (issue 23): every cell goes through `printable`, so an id that
holds ESC or BEL shows as `\\x1b` or `\\x07` instead of clearing the screen or ringing the bell.
The dashboard's pages use the same function (orchestration/dashboard/render.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RULE = "─"
# C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What a page may keep: HTML treats these as plain white space.
_CONTROL_BUT_WHITESPACE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_whitespace: bool = False) -> str:
    """`text` with each control character written out as \\xNN (\\uNNNN past U+00FF).

    `keep_whitespace` keeps tab, newline and carriage return (for HTML, where they are spaces).
    """
    pattern = _CONTROL_BUT_WHITESPACE if keep_whitespace else _CONTROL
    if pattern.search(text) is None:  # the usual case: no copy
        return text
    return pattern.sub(_visible, text)


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str, rule: bool = True
) -> list[str]:
    """Aligned columns, two spaces apart, a rule under the header (unless `rule=False`).

    `align` has one letter per column: "l" left, "r" right. Cells are made printable first.
    """
    if len(align) != len(header):
        raise ValueError(f"align {align!r} does not match {len(header)} columns")
    header = [printable(title) for title in header]
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [len(title) for title in header]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if how == "r" else cell.ljust(width)
            for cell, width, how in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(padded).rstrip()

    total = sum(widths) + 2 * (len(widths) - 1)
    return [line(header), *([RULE * total] if rule else []), *(line(row) for row in rows)]
