"""Plain-text tables for terminals: used by the command line and the demo's summary.

Lives below both so the demo never imports the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["render_table"]


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A left-aligned text table with a header rule; ``None`` cells print as ``-``.

    Args:
        headers: Column titles.
        rows: Cells per row; each is turned into text with ``str``.

    Returns:
        The table, one line per row, ending with a newline.
    """
    cells = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(values: Sequence[str]) -> str:
        # Trailing spaces from padding the last column are noise in a terminal and diffs.
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=False)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in cells)]) + "\n"
