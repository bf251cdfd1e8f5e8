"""Batch sending through ``startbatch`` / ``senditem`` / ``quicksend`` / ``endbatch``.

A batch with a :class:`~smsbridge.Template` becomes a server-side template whose
``{name}`` placeholders are ``#field1#`` ... ``#fieldN#`` (spec 7.1), and each recipient
one ``senditem`` with its field values and client reference. A shared body becomes a
fixed template and ``quicksend`` requests of up to 300 destinations. Recipients are read
lazily and results yielded as each request completes: at most 300 recipients are held.

Every recipient's text is still rendered and segmented locally first, so that the
``max_parts`` guard, the encoding and the part count are known before anything is sent.
Recipients the server-side template cannot carry fall back to a plain ``sendmsg``:
Unicode text (the spec says fields cannot be substituted into Unicode batches) and text
changed by transliteration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from smsbridge import (
    Batch,
    BinarySegmentation,
    InvalidMessageError,
    Message,
    Recipient,
    Segmentation,
    SendResult,
    SmsBridgeError,
    Status,
    TemplateError,
    segment,
)

from . import protocol as p

if TYPE_CHECKING:
    from .provider import ClickatellProvider

__all__ = ["send_batch"]

logger = logging.getLogger("smsbridge.clickatell")

_FIELD_RE = re.compile(r"#field\d+#", re.IGNORECASE)
_BATCH_EXPIRED = "201"


def _refused(provider: ClickatellProvider, recipient: Recipient, exc: SmsBridgeError) -> SendResult:
    return SendResult(
        recipient.number,
        Status.REJECTED,
        provider=provider.name,
        reference=recipient.reference,
        error=exc.info(),
        attempts=0,
    )


class _Batch:
    """One server-side batch: started on first use, restarted if it expired (201)."""

    def __init__(self, provider: ClickatellProvider, fields: list[tuple[str, str]]) -> None:
        self.provider = provider
        self.fields = fields
        self.batch_id: str | None = None

    def _start(self) -> str:
        text = self.provider.call("/http_batch/startbatch", self.fields)
        self.batch_id = p.parse_id(text, "startbatch")
        return self.batch_id

    def submit(self, command: str, fields: list[tuple[str, str]]) -> str:
        """POST ``command`` with the batch id; one retry with a new batch on error 201."""
        batch_id = self.batch_id or self._start()
        text = self.provider.call(
            f"/http_batch/{command}", [("batch_id", batch_id), *fields], effects=True
        )
        if p.error_code(text) == _BATCH_EXPIRED:
            text = self.provider.call(
                f"/http_batch/{command}", [("batch_id", self._start()), *fields], effects=True
            )
        return text

    def end(self) -> None:
        """``endbatch``; optional per the spec, so a failure only logs."""
        if self.batch_id is None:
            return
        try:
            text = self.provider.call("/http_batch/endbatch", [("batch_id", self.batch_id)])
            if text.strip() != "OK":
                p.parse_ok(text, "endbatch")
        except SmsBridgeError as exc:
            logger.debug("clickatell endbatch failed: %s", exc)


def send_batch(provider: ClickatellProvider, batch: Batch) -> Iterator[SendResult]:
    """Send ``batch``, yielding one result per recipient as requests complete.

    Raises:
        SmsBridgeError: A request failed as a whole (authentication, credit...). Results
            already yielded stand.
    """
    provider.check_options(batch.options, p.utc_now())
    extras = provider.wire_extras(batch.options)
    if "udh" in extras or (batch.template is not None and extras.get("binary") == "1"):
        # Binary payloads have no fields to merge, and a manual header travels as udh +
        # data, which startbatch has no template for: one sendmsg per recipient.
        return _one_by_one(provider, batch)
    if batch.template is not None:
        text, names = p.batch_template(batch.template)
        seg = segment(text)
        if (
            _FIELD_RE.search(batch.template.text)
            or seg.encoding != "GSM-7"
            or _forced_ucs2(batch.options.encoding)
        ):
            # Literal "#fieldN#" text would be substituted by the gateway, and Unicode
            # batches cannot carry fields (spec 5.2.14): render locally instead.
            return _one_by_one(provider, batch)
        return _templated(provider, batch, seg, names)
    assert batch.body is not None
    if _FIELD_RE.search(batch.body):
        return _one_by_one(provider, batch)
    return _shared(provider, batch, batch.body)


def _forced_ucs2(encoding: str | None) -> bool:
    if encoding is None:
        return False
    try:
        return segment("", encoding=encoding).encoding != "GSM-7"
    except ValueError:
        return True  # unknown encoding: each recipient's send refuses it


def _send_single(
    provider: ClickatellProvider, batch: Batch, recipient: Recipient, body: str
) -> SendResult:
    message = Message(
        recipient.number, body, batch.sender, recipient.reference, options=batch.options
    )
    try:
        return provider.send(message)[0]
    except InvalidMessageError as exc:
        return _refused(provider, recipient, exc)


def _one_by_one(provider: ClickatellProvider, batch: Batch) -> Iterator[SendResult]:
    for recipient in batch:
        try:
            body = batch.render(recipient)
        except TemplateError as exc:
            yield _refused(provider, recipient, exc)
            continue
        yield _send_single(provider, batch, recipient, body)


def _templated(
    provider: ClickatellProvider, batch: Batch, seg: Segmentation, names: tuple[str, ...]
) -> Iterator[SendResult]:
    # concat is a maximum (spec 5.2.7): the batch allows what the longest item may use;
    # each item's own parts were checked against it locally.
    limit = min(batch.options.max_parts or p.MAX_CONCAT, p.MAX_CONCAT)
    fields = provider.message_fields(
        seg,
        batch.options,
        sender=batch.sender,
        reference=None,
        text_field="template",
        concat=limit,
    )
    server = _Batch(provider, fields)
    try:
        for recipient in batch:
            try:
                body = batch.render(recipient)
                rendered = provider.segmentation(body, batch.options)
            except (TemplateError, InvalidMessageError) as exc:
                yield _refused(provider, recipient, exc)
                continue
            if (
                not isinstance(rendered, Segmentation)
                or rendered.encoding != "GSM-7"
                or rendered.replaced
            ):
                yield _send_single(provider, batch, recipient, body)
                continue
            yield _item(provider, server, recipient, names, rendered, batch)
    finally:
        server.end()


def _item(
    provider: ClickatellProvider,
    server: _Batch,
    recipient: Recipient,
    names: tuple[str, ...],
    rendered: Segmentation,
    batch: Batch,
) -> SendResult:
    wire = p.wire_number(recipient.number)
    fields = [("to", wire)]
    if recipient.reference:
        fields.append(("climsgid", p.client_message_id(recipient.reference)))
    fields.extend(
        (f"field{i}", str(recipient.variables[name])) for i, name in enumerate(names, start=1)
    )
    text = server.submit("senditem", fields)
    line = p.parse_send(text, [wire])[0]
    return provider.line_result(
        recipient.number,
        line,
        reference=recipient.reference,
        parts=rendered.part_count,
        scheduled=batch.options.scheduled_at is not None
        and batch.options.scheduled_at > p.utc_now(),
    )


def _shared(provider: ClickatellProvider, batch: Batch, body: str) -> Iterator[SendResult]:
    try:
        seg = provider.segmentation(body, batch.options)
    except InvalidMessageError as exc:
        # The same text for everyone: every recipient is refused for the same reason.
        for recipient in batch:
            yield _refused(provider, recipient, exc)
        return
    fields = provider.message_fields(
        seg, batch.options, sender=batch.sender, reference=None, text_field="template"
    )
    scheduled = any(name in p.SCHEDULING for name, _ in fields)
    server = _Batch(provider, fields)
    pending: list[Recipient] = []
    try:
        for recipient in batch:
            pending.append(recipient)
            if len(pending) == p.MAX_DESTINATIONS:
                yield from _quicksend(provider, server, pending, seg, scheduled)
                pending = []
        if pending:
            yield from _quicksend(provider, server, pending, seg, scheduled)
    finally:
        server.end()


def _quicksend(
    provider: ClickatellProvider,
    server: _Batch,
    recipients: list[Recipient],
    seg: Segmentation | BinarySegmentation,
    scheduled: bool,
) -> Iterator[SendResult]:
    wire = [p.wire_number(r.number) for r in recipients]
    lines = p.parse_send(server.submit("quicksend", [("to", ",".join(wire))]), wire)
    for recipient, line in zip(recipients, lines, strict=True):
        yield provider.line_result(
            recipient.number,
            line,
            reference=recipient.reference,
            parts=seg.part_count,
            scheduled=scheduled,
        )
