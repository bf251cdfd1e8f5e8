"""Requests as stored values: rows, chunks and the ``stop_dup_id`` they carry.

A :class:`Chunk` is one EAPI submission, fully encoded (all but the credentials) by the pure
functions here. It keeps the ``stop_dup_id`` it was built with, so resending the same chunk
-- after a timeout, or from a durable outbox after a crash -- sends the same bytes with the
same id, and the gateway answers with the original batch id instead of sending twice.

A :class:`Draft` is a chunk before its id: the id is the body's last field, so it can be
given at the moment the request goes out (see :meth:`Draft.numbered`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import attrs

from .protocol import (
    OPTIONAL_COLUMNS,
    SEND_BATCH_PATH,
    SEND_SMS_PATH,
    EncodedText,
    choose_columns,
    encode_form,
    form_value,
    write_batch_csv,
)

__all__ = [
    "Chunk",
    "ChunkRecipient",
    "Draft",
    "RequestParams",
    "Row",
    "Settings",
    "SharedTextLayout",
    "build_batch_chunk",
    "build_batch_draft",
    "build_sms_chunk",
    "build_sms_draft",
    "sms_fields",
]


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
    raw: tuple[tuple[str, str], ...] = ()
    """``SendOptions.raw["bulksms"]``: sent as given, after everything else."""

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
        out.extend(self.raw)
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
    """Who a chunk goes to: E.164 number, client reference, parts billed."""

    number: str
    reference: str | None
    parts: int


def _bytes_repr(body: bytes) -> str:
    return f"<{len(body)} bytes>"


@attrs.frozen(slots=True)
class Chunk:
    """One encoded EAPI submission, ready to send and to send again identically.

    Recipients are kept as three parallel tuples rather than one object each: a million
    recipients would otherwise mean a million extra objects to build and hold.

    Args:
        path: The endpoint below the EAPI base URL.
        stop_dup_id: The duplicate guard the body carries.
        numbers: Who it goes to (E.164), in CSV order.
        references: Each recipient's client reference.
        parts: Each recipient's SMS parts.
        body: The form body without credentials (those are prepended when sending, and
            never stored).
    """

    path: str
    stop_dup_id: int
    numbers: tuple[str, ...]
    references: tuple[str | None, ...]
    parts: tuple[int, ...]
    body: bytes = attrs.field(repr=_bytes_repr)

    @property
    def recipients(self) -> tuple[ChunkRecipient, ...]:
        """Who it goes to, one entry per recipient, in CSV order."""
        return tuple(map(ChunkRecipient, self.numbers, self.references, self.parts))


@attrs.frozen(slots=True)
class Draft:
    """A chunk before its ``stop_dup_id``: every field but that one, which goes last.

    Args:
        path: The endpoint below the EAPI base URL.
        numbers: Who it goes to (E.164), in CSV order.
        references: Each recipient's client reference.
        parts: Each recipient's SMS parts.
        body: The form body without credentials and without ``stop_dup_id``.
    """

    path: str
    numbers: tuple[str, ...]
    references: tuple[str | None, ...]
    parts: tuple[int, ...]
    body: bytes = attrs.field(repr=_bytes_repr)

    def numbered(self, stop_dup_id: int) -> Chunk:
        """The chunk carrying ``stop_dup_id``: the same bytes as encoding it in one go."""
        body = self.body + b"&stop_dup_id=" + str(stop_dup_id).encode("ascii")
        return Chunk(self.path, stop_dup_id, self.numbers, self.references, self.parts, body)


def _digits(number: str) -> str:
    return number[1:] if number.startswith("+") else number


def _concat(parts: int) -> list[tuple[str, str]]:
    if parts <= 1:
        return []
    return [("allow_concat_text_sms", "1"), ("concat_text_sms_max_parts", str(parts))]


def _column_values(text: EncodedText, settings: Settings) -> dict[str, str | None]:
    return {
        "dca": text.dca,
        **{name: getattr(settings, name) for name in OPTIONAL_COLUMNS if name != "dca"},
    }


def _request_fields(
    defaults: Mapping[str, str], parts: int, params: RequestParams
) -> list[tuple[str, str]]:
    # Everything after batch_data and before stop_dup_id, in one fixed order.
    return [
        *((name, defaults[name]) for name in OPTIONAL_COLUMNS if name in defaults),
        *_concat(parts),
        *params.fields(),
    ]


def build_batch_draft(rows: Sequence[Row]) -> Draft:
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
    table = [_column_values(row.text, row.settings) for row in _distinct_settings(rows)]
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
        *_request_fields(defaults, max(row.text.parts for row in rows), params),
    ]
    return Draft(
        SEND_BATCH_PATH,
        tuple(row.number for row in rows),
        tuple(row.reference for row in rows),
        tuple(row.text.parts for row in rows),
        encode_form(fields),
    )


def build_batch_chunk(rows: Sequence[Row], stop_dup_id: int) -> Chunk:
    """:func:`build_batch_draft`, numbered with ``stop_dup_id``.

    Raises:
        ValueError: No rows, or rows with different request parameters.
    """
    return build_batch_draft(rows).numbered(stop_dup_id)


def _distinct_settings(rows: Sequence[Row]) -> Iterator[Row]:
    # Rows of a batch share one Settings object; deciding columns per distinct
    # (settings, dca) pair keeps a 10,000-row chunk from building 10,000 dicts.
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (id(row.settings), row.text.dca)
        if key not in seen:
            seen.add(key)
            yield row


class SharedTextLayout:
    """The fixed pieces of ``send_batch`` bodies whose rows share text, settings and params.

    With one text and one set of settings there are no per-message columns, and every
    CSV line is ``"<digits>","<text>"`` -- the same suffix after each number. Form
    encoding works character by character, so the encoded body is the encoded pieces
    around the numbers, which (being ASCII digits) encode to themselves. A chunk is then
    one string join instead of a CSV write and an encode of a megabyte of text; the result
    is byte-for-byte what :func:`build_batch_draft` gives the same rows.

    Args:
        text: The shared encoded text.
        settings: The shared settings.
        params: The shared request parameters.
    """

    def __init__(self, text: EncodedText, settings: Settings, params: RequestParams) -> None:
        self.text = text
        self.settings = settings
        self.params = params
        columns, defaults = choose_columns([_column_values(text, settings)])
        header = "msisdn,message\n"
        # The line of a placeholder number, written by the CSV writer itself so that the
        # text's quoting and escaping cannot differ from the general path's.
        sample = write_batch_csv(["msisdn", "message", *columns], [["0", text.field]])
        lead = header + '"0'
        if columns or not sample.startswith(lead):
            raise ValueError("a shared text needs no per-message columns")
        suffix = sample[len(lead) :]
        rest = encode_form(_request_fields(defaults, text.parts, params)).decode("ascii")
        self._head = "batch_data=" + form_value(header + '"')
        self._between = form_value(suffix + '"')
        self._tail = form_value(suffix) + ("&" + rest if rest else "")

    def draft(self, numbers: Sequence[str], references: Sequence[str | None]) -> Draft | None:
        """The request for these recipients, or None when a number is not plain digits
        (after an optional ``+``), which the general path must then escape."""
        digits = [number[1:] if number.startswith("+") else number for number in numbers]
        joined = "".join(digits)
        if not numbers or not (joined.isascii() and joined.isdigit()) or "" in digits:
            return None
        body = self._head + self._between.join(digits) + self._tail
        return Draft(
            SEND_BATCH_PATH,
            tuple(numbers),
            tuple(references),
            (self.text.parts,) * len(numbers),
            body.encode("ascii"),
        )


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


def build_sms_draft(
    recipients: Sequence[tuple[str, str | None]],
    text: EncodedText,
    settings: Settings,
    params: RequestParams,
) -> Draft:
    """Encode one text to several numbers as one ``send_sms`` request, without its id.

    Args:
        recipients: (E.164 number, client reference) pairs.
    """
    numbers = tuple(number for number, _ in recipients)
    fields = sms_fields(numbers, text, settings, params)
    references = tuple(reference for _, reference in recipients)
    return Draft(
        SEND_SMS_PATH, numbers, references, (text.parts,) * len(numbers), encode_form(fields)
    )


def build_sms_chunk(
    recipients: Sequence[tuple[str, str | None]],
    text: EncodedText,
    settings: Settings,
    params: RequestParams,
    stop_dup_id: int,
) -> Chunk:
    """:func:`build_sms_draft`, numbered with ``stop_dup_id``."""
    return build_sms_draft(recipients, text, settings, params).numbered(stop_dup_id)
