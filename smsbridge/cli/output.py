"""Output helpers shared by commands: plain-text tables and JSON.

Human output goes to the command's ``out`` stream; diagnostics (bad input lines,
progress) go to stderr so that ``smsbridge batch ... --json > results.jsonl`` stays
machine-readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from smsbridge.results import SendResult

__all__ = [
    "RESULT_HEADERS",
    "render_table",
    "result_dict",
    "result_row",
    "write_json",
    "write_json_line",
    "write_table",
]


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


def write_table(out: TextIO, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write :func:`render_table` to ``out``."""
    out.write(render_table(headers, rows))


def write_json(out: TextIO, data: Any) -> None:
    """Write one indented JSON document followed by a newline."""
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_json_line(out: TextIO, data: Mapping[str, Any]) -> None:
    """Write one compact JSON object on its own line (JSON Lines) and flush it.

    Flushing lets a consumer reading a pipe see each result as soon as it is known.
    """
    out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    out.flush()


def result_dict(result: SendResult) -> dict[str, Any]:
    """A :class:`~smsbridge.SendResult` as plain JSON-ready data."""
    error = result.error
    return {
        "recipient": result.recipient,
        "status": result.status.value,
        "ok": result.ok,
        "provider": result.provider,
        "message_id": result.message_id,
        "reference": result.reference,
        "parts": result.parts,
        "cost": None
        if result.cost is None
        else {"amount": str(result.cost.amount), "unit": result.cost.unit},
        "error": None
        if error is None
        else {
            "code": error.code,
            "text": error.text,
            "scope": error.scope.value,
            "kind": error.kind.value,
        },
        "attempts": result.attempts,
    }


def result_row(result: SendResult) -> list[object]:
    """The cells of a result in the send/batch table: recipient, status, provider, id, error."""
    error = None if result.error is None else result.error.text
    return [result.recipient, result.status.value, result.provider, result.message_id, error]


RESULT_HEADERS = ("recipient", "status", "provider", "message id", "error")
"""Column titles matching :func:`result_row`."""
