"""Request planning: from batches and messages to encoded drafts, lazily.

A planner decides what each request carries -- per-message settings, request-level
parameters, the encoded text, which recipients go together -- and leaves the
``stop_dup_id`` to whoever sends the draft, so that ids are handed out in the order
requests actually go out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import tzinfo
from itertools import islice

from smsbridge import (
    Batch,
    BinarySegmentation,
    InvalidMessageError,
    Message,
    Recipient,
    SendOptions,
    SendResult,
    Status,
    TemplateError,
    parse_hex,
    segment_binary,
)

from . import protocol
from .chunks import (
    Draft,
    RequestParams,
    Row,
    Settings,
    SharedTextLayout,
    build_batch_draft,
)
from .options import BulkSmsOptions
from .protocol import EncodedText, encode_text
from .rules import MAX_8BIT_OCTETS, extras_for, request_extras

__all__ = ["Planner"]

PROVIDER = "bulksms"


class Planner:
    """Cuts batches and messages into ``send_batch`` drafts of at most ``batch_size``.

    Args:
        options: The provider's options (batch size, defaults, dry run).
        zone: The account's time zone, for ``send_time``; None sends unix times.
        provider: The provider's name, for refusal results.
    """

    def __init__(self, options: BulkSmsOptions, zone: tzinfo | None, provider: str) -> None:
        self.options = options
        self.zone = zone
        self.provider = provider

    def settings_for(self, sender: str | None, options: SendOptions) -> Settings:
        """The per-message settings of a message's sender and options.

        Raises:
            InvalidMessageError: A value the document does not allow (see
                :func:`.rules.extras_for`); only this message's rows are refused.
        """
        extra = extras_for(sender, options)
        routing = extra.get("routing_group", self.options.routing_group)
        return Settings(
            sender=sender,
            msg_class=extra.get("msg_class", "0" if options.flash else None),
            routing_group=None if routing is None else str(routing),
            source_id=extra.get("source_id"),
            repliable=extra.get("repliable"),
        )

    def params_for(self, options: SendOptions) -> RequestParams:
        """The request-level parameters of a message's options (never raises: it also
        groups rows; :meth:`settings_for` checks the same options before sending)."""
        send_time, unixtime = None, None
        if options.scheduled_at is not None:
            if self.zone is not None:
                send_time = protocol.format_send_time(options.scheduled_at, self.zone)
            else:
                unixtime = int(options.scheduled_at.timestamp())
        extra = request_extras(options)
        description = extra.get("scheduling_description")
        want = extra.get("want_report", self.options.want_report)
        return RequestParams(
            # Exact types: any other value is refused by settings_for before sending.
            want_report=not (type(want) in (bool, int, str) and want in (False, 0, "0")),
            send_time=send_time,
            send_time_unixtime=unixtime,
            scheduling_description=None if description is None else str(description),
            test_mode=self.options.dry_run,
            raw=tuple(options.raw.get(PROVIDER, {}).items()),
        )

    def encode(self, text: str, options: SendOptions) -> EncodedText:
        """Encode a body, enforcing ``options.max_parts``.

        With ``extra={"dca": "8bit"}`` the body is the message's octets written as hex,
        at most 140 of them, sent in one part (the document's 8-bit rule).

        Raises:
            InvalidMessageError: The text needs more parts than allowed, cannot be sent
                in the forced encoding, or is not the hex octets an 8-bit body must be.
        """
        if request_extras(options).get("dca") == "8bit":
            return encode_8bit(text)
        try:
            encoded = encode_text(
                text, encoding=options.encoding, transliterate=options.transliterate
            )
        except ValueError as exc:
            raise InvalidMessageError(str(exc), field="encoding", value=options.encoding) from None
        if options.max_parts is not None and encoded.parts > options.max_parts:
            raise InvalidMessageError(
                f"the text needs {encoded.parts} parts, more than max_parts={options.max_parts}",
                field="max_parts",
                value=encoded.parts,
            )
        return encoded

    def refused(self, number: str, reference: str | None, exc: InvalidMessageError) -> SendResult:
        """The result of a recipient refused before any request (its text cannot go)."""
        return SendResult(
            number,
            Status.REJECTED,
            provider=self.provider,
            reference=reference,
            error=exc.info(),
            attempts=0,
        )

    def batch(self, batch: Batch) -> Iterator[Draft | SendResult]:
        """A batch's drafts, lazily; refused recipients come as results, in order."""
        try:
            settings = self.settings_for(batch.sender, batch.options)
        except InvalidMessageError as exc:
            return self._all_refused(batch, exc)
        params = self.params_for(batch.options)
        if batch.body is None:
            return self._drafts(self._template_rows(batch, settings, params))
        try:
            text = self.encode(batch.body, batch.options)
        except InvalidMessageError as exc:
            return self._all_refused(batch, exc)
        return self._shared(batch, SharedTextLayout(text, settings, params))

    def messages(self, messages: Iterable[Message]) -> Iterator[Draft | SendResult]:
        """Like :meth:`batch` for distinct messages, each with its own sender and options
        (per-message CSV columns); schedules split requests."""

        def rows() -> Iterator[Row | SendResult]:
            # Rows of one campaign share sender and options, often the body too: settle
            # the settings once per run of equal senders and options, and encode once per
            # run of equal bodies, not once per row.
            last_key: tuple[str | None, SendOptions] | None = None
            last_body: str | None = None
            setup: tuple[Settings, RequestParams] | InvalidMessageError
            setup = InvalidMessageError("no message yet")
            text: EncodedText | InvalidMessageError = setup
            for message in messages:
                options = message.options
                if (
                    last_key is None
                    or last_key[0] != message.sender
                    or (last_key[1] is not options and last_key[1] != options)
                ):
                    last_key, last_body = (message.sender, options), None
                    try:
                        setup = (
                            self.settings_for(message.sender, options),
                            self.params_for(options),
                        )
                    except InvalidMessageError as exc:
                        setup = exc
                if isinstance(setup, InvalidMessageError):
                    for number in message.to:
                        yield self.refused(number, message.reference, setup)
                    continue
                if last_body is None or last_body != message.body:
                    last_body = message.body
                    try:
                        text = self.encode(message.body, options)
                    except InvalidMessageError as exc:
                        text = exc
                if isinstance(text, InvalidMessageError):
                    for number in message.to:
                        yield self.refused(number, message.reference, text)
                    continue
                settings, params = setup
                for number in message.to:
                    yield Row(number, message.reference, text, settings, params)

        return self._drafts(rows())

    def _all_refused(self, batch: Batch, exc: InvalidMessageError) -> Iterator[SendResult]:
        for recipient in batch:
            yield self.refused(recipient.number, recipient.reference, exc)

    def _shared(self, recipients: Iterable[Recipient], layout: SharedTextLayout) -> Iterator[Draft]:
        # One text for everyone: no per-row objects; a chunk is the numbers joined
        # between fixed pieces (see SharedTextLayout).
        items = iter(recipients)
        size = self.options.batch_size
        while group := list(islice(items, size)):
            numbers = [recipient.number for recipient in group]
            references = [recipient.reference for recipient in group]
            del group
            draft = layout.draft(numbers, references)
            if draft is None:
                text, settings, params = layout.text, layout.settings, layout.params
                pairs = zip(numbers, references, strict=True)
                draft = build_batch_draft([Row(n, r, text, settings, params) for n, r in pairs])
            yield draft

    def _template_rows(
        self, batch: Batch, settings: Settings, params: RequestParams
    ) -> Iterator[Row | SendResult]:
        for recipient in batch:
            try:
                text = self.encode(batch.render(recipient), batch.options)
            except (InvalidMessageError, TemplateError) as exc:
                yield self.refused(recipient.number, recipient.reference, exc)
                continue
            yield Row(recipient.number, recipient.reference, text, settings, params)

    def _drafts(self, items: Iterable[Row | SendResult]) -> Iterator[Draft | SendResult]:
        size = self.options.batch_size
        pending: list[Row] = []
        for item in items:
            if isinstance(item, SendResult):
                yield item
                continue
            if pending and (
                len(pending) >= size
                or (item.params is not pending[0].params and item.params != pending[0].params)
            ):
                yield build_batch_draft(pending)
                pending = []
            pending.append(item)
        if pending:
            yield build_batch_draft(pending)


def encode_8bit(text: str) -> EncodedText:
    """An 8-bit body: hex octets, at most 140 (one part; the UDHI is always set).

    Raises:
        InvalidMessageError: ``field="body"``: not hex octets, or more than 140.
    """
    try:
        data = parse_hex(text)
        seg: BinarySegmentation = segment_binary(data)
    except ValueError as exc:
        raise InvalidMessageError(
            f"an 8-bit body is hex octets: {exc}", field="body", value=text[:80], provider=PROVIDER
        ) from None
    if len(data) > MAX_8BIT_OCTETS:
        raise InvalidMessageError(
            f"an 8-bit message is at most {MAX_8BIT_OCTETS} octets, not {len(data)}",
            field="body",
            value=len(data),
            provider=PROVIDER,
        )
    return EncodedText(data.hex().upper(), "8bit", seg.part_count)
