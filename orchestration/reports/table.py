"""The one table renderer every terminal view uses: aligned columns, two spaces apart."""

from __future__ import annotations

from collections.abc import Sequence

RULE = "─"


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str, rule: bool = True
) -> list[str]:
    """Aligned columns, two spaces apart, a rule under the header (unless `rule=False`).

    `align` has one letter per column: "l" left, "r" right.
    """
    if len(align) != len(header):
        raise ValueError(f"align {align!r} does not match {len(header)} columns")
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
