"""Output helpers shared by commands: plain-text tables and JSON.

Human output goes to the command's ``out`` stream; diagnostics (bad input lines,
progress) go to stderr so that ``smsbridge batch ... --json > results.jsonl`` stays
machine-readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from smsbridge.outbox.base import (
    OutboxError,
    OutboxStore,
    StorageBusyError,
    StorageError,
    StorageFullError,
    StorageReadOnlyError,
)
from smsbridge.results import SendResult
from smsbridge.text_table import render_table

__all__ = [
    "RESULT_HEADERS",
    "render_table",
    "result_dict",
    "result_row",
    "storage_failure",
    "stored_count",
    "write_json",
    "write_json_line",
    "write_table",
]


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
    """The cells of a result in the send table: recipient, reference (what ``smsbridge
    status`` finds it by), status, provider, id, error."""
    error = None if result.error is None else result.error.text
    return [
        result.recipient,
        result.reference,
        result.status.value,
        result.provider,
        result.message_id,
        error,
    ]


RESULT_HEADERS = ("recipient", "reference", "status", "provider", "message id", "error")
"""Column titles matching :func:`result_row`."""


def storage_failure(
    exc: StorageError,
    *,
    written: int | None,
    total: int | None,
    reference: str | None,
    rest: str = "add the rest",
) -> str:
    """The line a batch-writing command prints when the outbox fails part-way.

    It says which store failed and why, how much of the input is safely in the outbox,
    and how to finish: the same command again, whose deterministic references make it
    skip what is there.

    Args:
        exc: The error.
        written: Items of the input in the outbox; ``None`` when the failure came before
            this run wrote anything and the outbox could not be counted (e.g. opening
            it failed).
        total: Recipients in the input, or ``None`` when it could not be counted.
        reference: The batch reference to repeat with ``--reference`` when the user did
            not give one (a generated one would make the re-run a new batch).
        rest: What running again achieves (``"add the rest"``).

    Returns:
        ``"smsbridge: outbox PATH is full (...) while adding items: 11,000 of 20,000
        written; free space and run the same command again to add the rest"`` and a
        newline.
    """
    if written is None:
        kept = (
            "nothing written this time" if total is None else f"none of {total:,} written this time"
        )
    elif total is None:
        kept = f"{written:,} written"
    else:
        kept = f"{written:,} of {total:,} written"
    what = exc.headline
    if not isinstance(exc, StorageFullError | StorageReadOnlyError | StorageBusyError):
        # Only the database's own words say what went wrong here.
        what = f"{what} ({exc.detail})"
    again = "the same command again" + (f" with --reference {reference}" if reference else "")
    return f"smsbridge: {what}: {kept}; {exc.advice} and run {again} to {rest}\n"


def stored_count(store: OutboxStore, batch: str) -> int | None:
    """The batch's items in the outbox, for a failure that came before any was written
    this time; ``None`` when even reading fails (the message then says so)."""
    try:
        return sum(store.counts(batch).values())
    except OutboxError:
        return None
