"""Delivery receipts: a ``deliver_sm`` to a :class:`~smsbridge.DeliveryReport`.

A long message travels as several ``submit_sm``, each with its own SMSC id, and each part
gets its own receipt. The provider tells the send result only the first part's id, so
:class:`PartIndex` remembers which message every part id belongs to; receipts for the
other parts are reported under the first id with ``part``/``parts`` set, and the report
path combines them into one status per message.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from smsbridge import DeliveryReport

from .codes import MESSAGE_STATES, RECEIPT_STATES
from .protocol import Receipt, is_receipt, parse_receipt

__all__ = ["WAIT", "PartIndex", "receipt_of", "report_of"]


def _key(message_id: str) -> str:
    return message_id.strip().lower().lstrip("0") or "0"


class _Group:
    """One multipart message: its first part's id, once known, and receipts of other
    parts that arrived before it."""

    __slots__ = ("first", "stash", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.first: str | None = None
        self.stash: list[tuple[Receipt, int]] = []


#: :meth:`PartIndex.locate`'s answer for a receipt held until its first part's id is known.
WAIT = "wait"
Located = tuple[str, int, int]


class PartIndex:
    """Part ids of recent multipart messages, bounded (the oldest are forgotten first).

    Ids are registered as each ``submit_sm_resp`` is read, before any receipt behind it
    on the wire; a receipt for part 2 that overtakes part 1's response (a window may
    answer out of order) waits in its group until part 1's id is known.

    Args:
        limit: Most part ids remembered; a receipt for a forgotten part is reported under
            its own id and matches nothing.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._ids: OrderedDict[str, tuple[_Group, int]] = OrderedDict()

    def group(self, total: int) -> _Group:
        """A new multipart message of ``total`` parts."""
        return _Group(total)

    def accepted(
        self, group: _Group, number: int, message_id: str
    ) -> list[tuple[Receipt, Located]]:
        """Register part ``number``'s id.

        Returns:
            ``(receipt, (first id, part, parts))`` pairs of held receipts that can now be
            reported (when this was the first part).
        """
        with self._lock:
            self._ids[_key(message_id)] = (group, number)
            while len(self._ids) > self._limit:
                self._ids.popitem(last=False)
            if number != 1:
                return []
            group.first = message_id
            held, group.stash = group.stash, []
        return [(receipt, (message_id, part, group.total)) for receipt, part in held]

    def locate(self, receipt: Receipt) -> Located | str | None:
        """``(first id, part, parts)`` of a part's receipt, :data:`WAIT` when it was held
        for later, None when its id is no known part."""
        with self._lock:
            entry = self._ids.get(_key(receipt.message_id))
            if entry is None:
                return None
            group, number = entry
            if group.first is None:
                group.stash.append((receipt, number))
                return WAIT
            return group.first, number, group.total


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = str(value).strip("\x00").strip()
    return text or None


def receipt_of(pdu: Any) -> Receipt | None:
    """The receipt a ``deliver_sm`` carries; None for a mobile-originated message.

    Raises:
        MalformedResponseError: A receipt whose id or state cannot be read.
    """
    if not is_receipt(int(getattr(pdu, "esm_class", 0) or 0)):
        return None
    body = getattr(pdu, "short_message", None) or getattr(pdu, "message_payload", None) or b""
    if isinstance(body, str):
        body = body.encode("latin-1", "replace")
    state = getattr(pdu, "message_state", None)
    return parse_receipt(
        bytes(body),
        receipted_id=_text(getattr(pdu, "receipted_message_id", None)),
        message_state=MESSAGE_STATES.get(state) if isinstance(state, int) else None,
    )


def report_of(
    receipt: Receipt, located: Located | None = None, *, now: datetime | None = None
) -> DeliveryReport:
    """The unified report for one receipt.

    The bind is this account's own, so the report is marked ``tenant_verified``: one that
    arrives before its submit result is stored is kept until it is.

    Args:
        receipt: The receipt.
        located: ``(first id, part, parts)`` when it is about one part of a long message.
        now: The reception time.
    """
    outcome = RECEIPT_STATES.lookup(receipt.stat)
    message_id, part, total = receipt.message_id, None, None
    if located is not None:
        message_id, part, total = located
    return DeliveryReport(
        provider="smpp",
        message_id=message_id,
        status=outcome.status,
        provider_code=receipt.stat,
        provider_text=outcome.description,
        occurred_at=receipt.done_at,
        received_at=now or datetime.now(UTC),
        part=part,
        parts=total,
        error=outcome.info(receipt.stat, f"err:{receipt.err}" if receipt.err else None)
        if outcome.is_error
        else None,
        raw={"id": receipt.message_id, **receipt.fields},
        tenant_verified=True,
    )
