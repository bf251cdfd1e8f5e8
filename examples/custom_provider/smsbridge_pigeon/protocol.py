"""Pigeon's wire format: pure request builders and response parsers, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smsbridge import ErrorInfo, MalformedResponseError, SendResult

from .codes import CODES

__all__ = ["FIELDS", "MAX_RECIPIENTS", "SEND_PATH", "parse_send", "send_body"]

SEND_PATH = "/v1/messages"
MAX_RECIPIENTS = 100
#: The JSON fields :func:`send_body` writes (raw parameters may not replace them).
FIELDS = frozenset({"to", "text", "reference"})


def send_body(to: Sequence[str], text: str, reference: str | None) -> dict[str, Any]:
    """The JSON body of a send request.

    Args:
        to: Numbers in E.164.
        text: The message text.
        reference: The client reference (Pigeon's idempotency key).

    Returns:
        The body, ready for JSON encoding.
    """
    body: dict[str, Any] = {"to": list(to), "text": text}
    if reference is not None:
        body["reference"] = reference
    return body


def _malformed(why: str) -> MalformedResponseError:
    return MalformedResponseError(f"unexpected Pigeon answer: {why}", provider="pigeon")


def parse_send(data: object, to: Sequence[str], reference: str | None) -> list[SendResult]:
    """One result per recipient, in ``to`` order, from a send answer.

    Args:
        data: The parsed JSON answer.
        to: The numbers sent to, in order.
        reference: The client reference sent.

    Returns:
        The results.

    Raises:
        MalformedResponseError: The answer does not have one entry per recipient.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("messages"), list):
        raise _malformed("no 'messages' list")
    entries: dict[str, Mapping[str, Any]] = {}
    for entry in data["messages"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("to"), str):
            raise _malformed("an entry without 'to'")
        entries[entry["to"]] = entry
    results = []
    for number in to:
        entry = entries.get(number)
        if entry is None:
            raise _malformed(f"no entry for {number}")
        code = str(entry.get("error") or entry.get("status") or "")
        outcome = CODES.lookup(code)
        error: ErrorInfo | None = outcome.info(code) if outcome.is_error else None
        results.append(
            SendResult(
                number,
                outcome.status,
                provider="pigeon",
                message_id=entry.get("id") if error is None else None,
                reference=reference,
                parts=entry.get("parts"),
                error=error,
            )
        )
    return results
