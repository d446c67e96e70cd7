"""The one table renderer every terminal view uses: aligned columns, two spaces apart.

Values are data, never control (issue 23): every cell goes through `printable`, so an id that
holds ESC or BEL shows as `\\x1b` or `\\x07` instead of clearing the screen or ringing the bell.
The dashboard's pages use the same function (orchestration/dashboard/render.py).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Sequence

RULE = "─"
# The width a table keeps to when the output is not a terminal (docs/commands.md).
DEFAULT_COLUMNS = 120
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


def terminal_columns() -> int:
    """The terminal's width; 120 when the output is not a terminal (a pipe, a file), or COLUMNS."""
    return shutil.get_terminal_size(fallback=(DEFAULT_COLUMNS, 24)).columns


def fit(text: str) -> str:
    """A line of prose (a table's title) wrapped to the terminal's width, as the tables are."""
    return textwrap.fill(text, width=terminal_columns(), break_on_hyphens=False)


def _blocks(widths: Sequence[int], align: str, limit: int) -> list[list[int]]:
    """The columns of each block a table is wrapped into so that no line passes `limit`: every
    block repeats the leading columns up to the first left-aligned one (the row's name)."""
    key = list(range(align.index("l") + 1 if "l" in align else 1))
    blocks: list[list[int]] = [list(key)]
    for index in range(len(key), len(widths)):
        block = blocks[-1]
        used = sum(widths[i] for i in block) + 2 * len(block)
        if len(block) > len(key) and used + widths[index] > limit:
            blocks.append([*key, index])
        else:
            block.append(index)
    return blocks


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align: str,
    rule: bool = True,
    max_width: int | None = None,
) -> list[str]:
    """Aligned columns, two spaces apart, a rule under the header (unless `rule=False`).

    `align` has one letter per column: "l" left, "r" right. Cells are made printable first. A
    table wider than `max_width` (the terminal's width by default) is wrapped into blocks of
    columns, one under the other, each starting with the row's name.
    """
    if len(align) != len(header):
        raise ValueError(f"align {align!r} does not match {len(header)} columns")
    header = [printable(title) for title in header]
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [len(title) for title in header]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str], columns: Sequence[int]) -> str:
        padded = (
            cells[i].rjust(widths[i]) if align[i] == "r" else cells[i].ljust(widths[i]) for i in columns
        )
        return "  ".join(padded).rstrip()

    lines: list[str] = []
    for number, columns in enumerate(_blocks(widths, align, max_width or terminal_columns())):
        total = sum(widths[i] for i in columns) + 2 * (len(columns) - 1)
        lines += [""] if number else []
        lines += [line(header, columns), *([RULE * total] if rule else [])]
        lines += [line(row, columns) for row in rows]
    return lines
