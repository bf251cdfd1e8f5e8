"""Requests as stored values: rows, chunks and the ``stop_dup_id`` they carry.

A :class:`Chunk` is one EAPI submission, fully encoded (all but the credentials) by the pure
functions here. It keeps the ``stop_dup_id`` it was built with, so resending the same chunk
-- after a timeout, or from a durable outbox after a crash -- sends the same bytes with the
same id, and the gateway answers with the original batch id instead of sending twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import attrs

from .protocol import (
    OPTIONAL_COLUMNS,
    SEND_BATCH_PATH,
    SEND_SMS_PATH,
    EncodedText,
    choose_columns,
    encode_form,
    write_batch_csv,
)

__all__ = [
    "STOP_DUP_MAX",
    "STOP_DUP_MIN",
    "Chunk",
    "ChunkRecipient",
    "InMemoryStopDupAllocator",
    "RequestParams",
    "Row",
    "Settings",
    "StopDupAllocator",
    "build_batch_chunk",
    "build_sms_chunk",
    "sms_fields",
]

STOP_DUP_MIN = 1
STOP_DUP_MAX = 2_147_483_647
"""The documented range of ``stop_dup_id``."""


@runtime_checkable
class StopDupAllocator(Protocol):
    """Hands out ``stop_dup_id`` values; each one at most once within the gateway's window.

    Ids come from a counter, never from a hash of the content or the references: a 31-bit
    hash collides within ~100,000 messages, and the gateway silently drops a submission
    whose id it has seen in the last hours. A durable implementation (the outbox) keeps
    the counter across restarts.
    """

    def allocate(self) -> int:
        """The next id, within 1..2147483647."""
        ...


def clock_start(now: float | None = None) -> int:
    """A counter start derived from the wall clock in milliseconds.

    A process restarted later starts past every id an earlier one used unless that one
    allocated more than one id per millisecond on average, so an in-memory counter does
    not replay recent ids after a restart.
    """
    millis = int((time.time() if now is None else now) * 1000)
    return millis % STOP_DUP_MAX + 1


class InMemoryStopDupAllocator:
    """A thread-safe counter of ``stop_dup_id`` values, wrapping within the valid range.

    Args:
        start: The first id; by default derived from the clock (see :func:`clock_start`).

    Raises:
        ValueError: ``start`` outside 1..2147483647.
    """

    def __init__(self, start: int | None = None) -> None:
        first = clock_start() if start is None else start
        if isinstance(first, bool) or not STOP_DUP_MIN <= first <= STOP_DUP_MAX:
            raise ValueError(f"stop_dup_id start must be within 1..{STOP_DUP_MAX}")
        self._next = first
        self._lock = threading.Lock()

    def allocate(self) -> int:
        """The next id; after 2147483647 comes 1."""
        with self._lock:
            value = self._next
            self._next = STOP_DUP_MIN if value >= STOP_DUP_MAX else value + 1
            return value

    @property
    def next(self) -> int:
        """The id the next :meth:`allocate` returns."""
        with self._lock:
            return self._next

    def __repr__(self) -> str:
        return f"InMemoryStopDupAllocator(next={self.next})"


@attrs.frozen(slots=True)
class Settings:
    """Per-message settings that may be CSV columns (``None``: not set, default applies)."""

    sender: str | None = None
    msg_class: str | None = None
    routing_group: str | None = None
    source_id: str | None = None
    repliable: str | None = None


@attrs.frozen(slots=True)
class RequestParams:
    """Request-level parameters that cannot vary per message; rows that differ in them
    go in different requests."""

    want_report: bool = True
    send_time: str | None = None
    send_time_unixtime: int | None = None
    scheduling_description: str | None = None
    test_mode: str | None = None

    def fields(self) -> list[tuple[str, str]]:
        """The parameters, in a fixed order."""
        out: list[tuple[str, str]] = []
        if not self.want_report:
            out.append(("want_report", "0"))
        if self.send_time is not None:
            out.append(("send_time", self.send_time))
        if self.send_time_unixtime is not None:
            out.append(("send_time_unixtime", str(self.send_time_unixtime)))
        if self.scheduling_description is not None:
            out.append(("scheduling_description", self.scheduling_description))
        if self.test_mode == "succeed":
            out.append(("test_always_succeed", "1"))
        elif self.test_mode == "fail":
            out.append(("test_always_fail", "1"))
        return out


@attrs.frozen(slots=True)
class Row:
    """One message to one recipient, encoded, waiting for its request."""

    number: str
    reference: str | None
    text: EncodedText
    settings: Settings
    params: RequestParams


class ChunkRecipient(NamedTuple):
    """Who a chunk goes to: E.164 number, client reference, parts billed.

    A named tuple rather than an attrs class: a million of them are made per million
    recipients, and a tuple is several times cheaper to build.
    """

    number: str
    reference: str | None
    parts: int


@attrs.frozen(slots=True)
class Chunk:
    """One encoded EAPI submission, ready to send and to send again identically.

    Args:
        path: The endpoint below the EAPI base URL.
        stop_dup_id: The duplicate guard the body carries.
        recipients: Who it goes to, in CSV order.
        body: The form body without credentials (those are prepended when sending, and
            never stored).
    """

    path: str
    stop_dup_id: int
    recipients: tuple[ChunkRecipient, ...]
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")


def _digits(number: str) -> str:
    return number[1:] if number.startswith("+") else number


def _concat(parts: int) -> list[tuple[str, str]]:
    if parts <= 1:
        return []
    return [("allow_concat_text_sms", "1"), ("concat_text_sms_max_parts", str(parts))]


def build_batch_chunk(rows: Sequence[Row], stop_dup_id: int) -> Chunk:
    """Encode rows sharing their :class:`RequestParams` as one ``send_batch`` request.

    Settings all rows share become request parameters; the others become CSV columns.

    Raises:
        ValueError: No rows, or rows with different request parameters.
    """
    if not rows:
        raise ValueError("a chunk needs at least one row")
    params = rows[0].params
    if any(row.params is not params and row.params != params for row in rows):
        raise ValueError("rows of one chunk must share their request parameters")
    table = [
        {
            "dca": row.text.dca,
            **{name: getattr(row.settings, name) for name in OPTIONAL_COLUMNS if name != "dca"},
        }
        for row in _distinct_settings(rows)
    ]
    columns, defaults = choose_columns(table)
    lines = (
        [
            _digits(row.number),
            row.text.field,
            *[
                (row.text.dca if name == "dca" else getattr(row.settings, name)) or ""
                for name in columns
            ],
        ]
        for row in rows
    )
    batch_data = write_batch_csv(["msisdn", "message", *columns], lines)
    fields = [
        ("batch_data", batch_data),
        *((name, defaults[name]) for name in OPTIONAL_COLUMNS if name in defaults),
        *_concat(max(row.text.parts for row in rows)),
        *params.fields(),
        ("stop_dup_id", str(stop_dup_id)),
    ]
    recipients = tuple(ChunkRecipient(row.number, row.reference, row.text.parts) for row in rows)
    return Chunk(SEND_BATCH_PATH, stop_dup_id, recipients, encode_form(fields))


def _distinct_settings(rows: Sequence[Row]) -> Iterator[Row]:
    # Rows of a batch share one Settings object; deciding columns per distinct
    # (settings, dca) pair keeps a 10,000-row chunk from building 10,000 dicts.
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (id(row.settings), row.text.dca)
        if key not in seen:
            seen.add(key)
            yield row


def sms_fields(
    numbers: Sequence[str], text: EncodedText, settings: Settings, params: RequestParams
) -> list[tuple[str, str]]:
    """The ``send_sms`` / ``quote_sms`` parameters for one text to ``numbers``."""
    fields = [("msisdn", ",".join(_digits(n) for n in numbers)), ("message", text.field)]
    if text.dca != "7bit":
        fields.append(("dca", text.dca))
    for name in OPTIONAL_COLUMNS:
        value = getattr(settings, name, None)
        if value is not None and not (name == "msg_class" and value == "2"):
            fields.append((name, value))
    fields.extend(_concat(text.parts))
    fields.extend(params.fields())
    return fields


def build_sms_chunk(
    recipients: Sequence[tuple[str, str | None]],
    text: EncodedText,
    settings: Settings,
    params: RequestParams,
    stop_dup_id: int,
) -> Chunk:
    """Encode one text to several numbers as one ``send_sms`` request.

    Args:
        recipients: (E.164 number, client reference) pairs.
    """
    fields = sms_fields([number for number, _ in recipients], text, settings, params)
    fields.append(("stop_dup_id", str(stop_dup_id)))
    members = tuple(ChunkRecipient(n, ref, text.parts) for n, ref in recipients)
    return Chunk(SEND_SMS_PATH, stop_dup_id, members, encode_form(fields))
