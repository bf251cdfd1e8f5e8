"""The BulkSMS EAPI provider: options and the provider class."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from smsbridge import (
    Batch,
    Capabilities,
    ConfigurationError,
    Cost,
    DeliveryReport,
    InvalidMessageError,
    Kind,
    Message,
    Provider,
    ProviderError,
    ProviderOptions,
    Scope,
    Secret,
    SendOptions,
    SendResult,
    Status,
    TemplateError,
    UnknownOutcomeError,
    UnsupportedOperationError,
    secret_converter,
)
from smsbridge.http import HttpClient, HttpResponse

from . import protocol
from .chunks import (
    STOP_DUP_MAX,
    Chunk,
    InMemoryStopDupAllocator,
    RequestParams,
    Row,
    Settings,
    StopDupAllocator,
    build_batch_chunk,
    build_sms_chunk,
    sms_fields,
)
from .codes import UPSTREAM_RETRY_CODES
from .protocol import EncodedText, encode_text

if TYPE_CHECKING:
    from smsbridge.testing import Emulator

__all__ = ["BulkSmsOptions", "BulkSmsProvider"]

logger = logging.getLogger("smsbridge.bulksms")

MAX_BATCH_SIZE = 30_000
"""The smaller of the two documented ``send_batch`` maxima (30,000 and 50,000)."""


def _in_range(low: int, high: int) -> Any:
    return attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(low), attrs.validators.le(high)
    )


def _zone(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"account_timezone {value!r} is not a known time zone") from None


@attrs.frozen(kw_only=True, slots=True)
class BulkSmsOptions(ProviderOptions):
    """Options of the BulkSMS EAPI provider.

    Args:
        base_url: The EAPI base, ending in ``/eapi`` (regional hosts serve the same API).
        username: The BulkSMS account name.
        password: The account password (sent in POST bodies only).
        batch_size: Messages per ``send_batch`` request (1..30,000).
        unknown_outcome_retries: Resends of a request whose outcome is unknown (same
            bytes, same ``stop_dup_id``) before giving up with ``UnknownOutcomeError``.
        upstream_retry_limit: Consecutive 26/28 refusals reported as transient; past it
            they are reported permanent so that the router fails over.
        stop_dup_start: First ``stop_dup_id`` of the in-memory counter (clock-derived
            when None).
        routing_group: Default ``routing_group`` (1, 2 or 3); the account's when None.
        want_report: Ask for delivery reports.
        account_timezone: The account's time zone (IANA name). When set, schedules go as
            ``send_time`` in that zone; otherwise as ``send_time_unixtime``.
        dry_run: ``"succeed"`` or ``"fail"``: validate only (``test_always_succeed`` /
            ``test_always_fail``); nothing is sent.
    """

    base_url: str = "https://bulksms.vsms.net/eapi"
    username: Secret = attrs.field(converter=secret_converter)
    password: Secret = attrs.field(converter=secret_converter)
    batch_size: int = attrs.field(default=10_000, validator=_in_range(1, MAX_BATCH_SIZE))
    unknown_outcome_retries: int = attrs.field(default=1, validator=_in_range(0, 10))
    upstream_retry_limit: int = attrs.field(default=3, validator=_in_range(0, 100))
    stop_dup_start: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_in_range(1, STOP_DUP_MAX))
    )
    routing_group: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_in_range(1, 3))
    )
    want_report: bool = True
    account_timezone: str | None = attrs.field(default=None, validator=_zone)
    dry_run: Literal["succeed", "fail"] | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(("succeed", "fail")))
    )


_EXTRA_SETTINGS = ("routing_group", "source_id", "repliable", "msg_class")


class BulkSmsProvider(Provider):
    """BulkSMS over the legacy EAPI (``send_batch``, ``send_sms``, reports, credits, quotes).

    Args:
        options: The :class:`BulkSmsOptions`.
        stop_dup_allocator: Where ``stop_dup_id`` values come from; an in-memory counter
            by default (a durable outbox passes its own).
    """

    name = "bulksms"
    capabilities = Capabilities(
        max_recipients_per_request=MAX_BATCH_SIZE,
        scheduling=True,
        query_by_id=True,
        balance=True,
        quote=True,
        unicode=True,
        idempotency_key=True,
        delivery_callbacks=True,
        max_connections=1,
    )
    options_class = BulkSmsOptions
    options: BulkSmsOptions

    def __init__(
        self, options: ProviderOptions, *, stop_dup_allocator: StopDupAllocator | None = None
    ) -> None:
        super().__init__(options)
        opts = self.options
        self.allocator: StopDupAllocator = stop_dup_allocator or InMemoryStopDupAllocator(
            opts.stop_dup_start
        )
        self._zone: tzinfo | None = (
            ZoneInfo(opts.account_timezone) if opts.account_timezone else None
        )
        # The documentation asks for one connection and no parallel requests: a pool of
        # one connection, kept alive, that other threads wait for.
        self._http = HttpClient(
            base_url=opts.base_url,
            provider=self.name,
            secrets=opts.secrets(),
            timeout=opts.timeout,
            connect_timeout=opts.connect_timeout,
            pool_size=1,
            ca_certs=opts.ca_certs,
            allow_insecure=opts.allow_insecure,
        )
        self._lock = threading.Lock()
        self._upstream_failures = 0

    # -- building requests --------------------------------------------------------------

    def settings_for(self, sender: str | None, options: SendOptions) -> Settings:
        """The per-message settings of a message's sender and options."""
        extra = {k: options.extra[k] for k in _EXTRA_SETTINGS if options.extra.get(k) is not None}
        routing = extra.get("routing_group", self.options.routing_group)
        repliable = extra.get("repliable")
        if isinstance(repliable, bool):
            repliable = int(repliable)
        return Settings(
            sender=sender,
            msg_class=str(extra["msg_class"])
            if "msg_class" in extra
            else ("0" if options.flash else None),
            routing_group=None if routing is None else str(routing),
            source_id=None if "source_id" not in extra else str(extra["source_id"]),
            repliable=None if repliable is None else str(repliable),
        )

    def params_for(self, options: SendOptions) -> RequestParams:
        """The request-level parameters of a message's options."""
        send_time, unixtime = None, None
        if options.scheduled_at is not None:
            if self._zone is not None:
                send_time = protocol.format_send_time(options.scheduled_at, self._zone)
            else:
                unixtime = int(options.scheduled_at.timestamp())
        description = options.extra.get("scheduling_description")
        return RequestParams(
            want_report=bool(options.extra.get("want_report", self.options.want_report)),
            send_time=send_time,
            send_time_unixtime=unixtime,
            scheduling_description=None if description is None else str(description),
            test_mode=self.options.dry_run,
        )

    def encode(self, text: str, options: SendOptions) -> EncodedText:
        """Encode a body, enforcing ``options.max_parts``.

        Raises:
            InvalidMessageError: The text needs more parts than allowed, or cannot be
                sent in the forced encoding.
        """
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

    def plan_batch(self, batch: Batch) -> Iterator[Chunk | SendResult]:
        """Cut a batch into encoded chunks, lazily; refused recipients come as results.

        Each chunk gets its ``stop_dup_id`` here; store the chunk to resend it later with
        :meth:`send_chunk`.
        """
        settings = self.settings_for(batch.sender, batch.options)
        params = self.params_for(batch.options)
        shared: EncodedText | InvalidMessageError | None = None
        if batch.body is not None:
            try:
                shared = self.encode(batch.body, batch.options)
            except InvalidMessageError as exc:
                shared = exc

        def rows() -> Iterator[Row | SendResult]:
            for recipient in batch:
                try:
                    if isinstance(shared, InvalidMessageError):
                        raise shared
                    text = shared or self.encode(batch.render(recipient), batch.options)
                except (InvalidMessageError, TemplateError) as exc:
                    yield self._refused(recipient.number, recipient.reference, exc)
                    continue
                yield Row(recipient.number, recipient.reference, text, settings, params)

        return self._chunks(rows())

    def plan_messages(self, messages: Iterable[Message]) -> Iterator[Chunk | SendResult]:
        """Like :meth:`plan_batch` for distinct messages, each with its own sender and
        options (per-message CSV columns); schedules split requests."""

        def rows() -> Iterator[Row | SendResult]:
            for message in messages:
                settings = self.settings_for(message.sender, message.options)
                params = self.params_for(message.options)
                try:
                    text = self.encode(message.body, message.options)
                except InvalidMessageError as exc:
                    for number in message.to:
                        yield self._refused(number, message.reference, exc)
                    continue
                for number in message.to:
                    yield Row(number, message.reference, text, settings, params)

        return self._chunks(rows())

    def _chunks(self, items: Iterable[Row | SendResult]) -> Iterator[Chunk | SendResult]:
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
                yield build_batch_chunk(pending, self.allocator.allocate())
                pending = []
            pending.append(item)
        if pending:
            yield build_batch_chunk(pending, self.allocator.allocate())

    def _refused(self, number: str, reference: str | None, exc: InvalidMessageError) -> SendResult:
        return SendResult(
            number,
            Status.REJECTED,
            provider=self.name,
            reference=reference,
            error=exc.info(),
            attempts=0,
        )

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: Message) -> list[SendResult]:
        """Send one text with ``send_sms`` (several recipients share one request).

        Raises:
            InvalidMessageError: More parts than ``max_parts``, or an impossible encoding.
            ProviderError: A failure code, or an HTTP status other than 200 (transient).
            UnknownOutcomeError: No usable answer even after resending the same request.
        """
        text = self.encode(message.body, message.options)
        settings = self.settings_for(message.sender, message.options)
        params = self.params_for(message.options)
        results: list[SendResult] = []
        size = self.options.batch_size
        for start in range(0, len(message.to), size):
            members = [(n, message.reference) for n in message.to[start : start + size]]
            chunk = build_sms_chunk(members, text, settings, params, self.allocator.allocate())
            results.extend(self.send_chunk(chunk))
        return results

    def send_batch(self, batch: Batch) -> Iterator[SendResult]:
        """Stream a batch through ``send_batch``, one chunk of ``batch_size`` at a time."""
        for item in self.plan_batch(batch):
            if isinstance(item, SendResult):
                yield item
            else:
                yield from self.send_chunk(item)

    def send_messages(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        """Stream distinct messages through ``send_batch`` (per-message columns)."""
        for item in self.plan_messages(messages):
            if isinstance(item, SendResult):
                yield item
            else:
                yield from self.send_chunk(item)

    def send_chunk(self, chunk: Chunk) -> list[SendResult]:
        """Send a chunk; resend the same bytes while its outcome is unknown.

        Safe to call again with a stored chunk: its ``stop_dup_id`` makes the gateway
        answer a repeat within its window with the original batch id.

        Returns:
            One ACCEPTED or SCHEDULED result per recipient; ``message_id`` is
            ``"<batch_id>:<msisdn>"``.

        Raises:
            ProviderError: A failure code, or an HTTP status other than 200 (transient).
            UnknownOutcomeError: Still no usable answer after ``unknown_outcome_retries``.
        """
        attempts = 0
        while True:
            attempts += 1
            try:
                reply = self._submit(chunk)
                break
            except UnknownOutcomeError as exc:
                if attempts > self.options.unknown_outcome_retries:
                    raise
                logger.debug("bulksms: resending stop_dup_id=%d after %s", chunk.stop_dup_id, exc)
        status = reply.outcome.status
        return [
            SendResult(
                member.number,
                status,
                provider=self.name,
                message_id=f"{reply.batch_id}:{member.number.lstrip('+')}",
                reference=member.reference,
                parts=member.parts,
                attempts=attempts,
            )
            for member in chunk.recipients
        ]

    def _submit(self, chunk: Chunk) -> protocol.SubmissionReply:
        response = self._post(chunk.path, chunk.body, effects=True)
        try:
            reply = protocol.parse_submission(self._text(response))
        except ProviderError as exc:
            raise self._capped(exc) from None
        with self._lock:
            self._upstream_failures = 0
        return reply

    def _capped(self, exc: ProviderError) -> ProviderError:
        if exc.code not in UPSTREAM_RETRY_CODES:
            return exc
        with self._lock:
            self._upstream_failures += 1
            exhausted = self._upstream_failures > self.options.upstream_retry_limit
        if exhausted:
            exc.kind = Kind.PERMANENT
            exc.message += f" (still after {self.options.upstream_retry_limit} retries)"
        return exc

    def _post(self, path: str, body: bytes, *, effects: bool) -> HttpResponse:
        credentials = protocol.encode_form(
            [
                ("username", self.options.username.reveal()),
                ("password", self.options.password.reveal()),
            ]
        )
        # The pool of one (blocking) serialises requests from threads sharing this provider.
        return self._http.request(
            "POST",
            path,
            body=credentials + b"&" + body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            sent_marker=effects,
        )

    def _text(self, response: HttpResponse) -> str:
        # Any status but 200 is transient, whatever it is (the documentation says so).
        if response.status != 200:
            raise ProviderError(
                f"HTTP {response.status} from BulkSMS",
                scope=Scope.PROVIDER,
                kind=Kind.TRANSIENT,
                code=f"HTTP {response.status}",
                provider=self.name,
                provider_text=response.excerpt(),
                retry_after=response.retry_after(),
            )
        return response.body.decode(protocol.CHARSET)

    # -- other operations -------------------------------------------------------------------

    def report(self, batch_id: str, *, msisdn: str | None = None) -> list[DeliveryReport]:
        """Per-recipient delivery reports of a batch (``get_report``).

        Args:
            batch_id: The batch id from a send.
            msisdn: Restrict to one recipient (E.164 or digits).

        Raises:
            ProviderError: A failure code or a non-200 status.
            MalformedResponseError: An unreadable answer.
        """
        fields = [("batch_id", str(batch_id))]
        if msisdn:
            fields.append(("msisdn", msisdn.lstrip("+")))
        response = self._post(protocol.REPORT_PATH, protocol.encode_form(fields), effects=False)
        rows = protocol.parse_report(self._text(response))
        return [protocol.report_from_row(row, str(batch_id)) for row in rows]

    def query(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        """The status of ``"<batch_id>:<msisdn>"``, or of a whole batch by ``batch_id``
        (the least advanced of its recipients).

        Raises:
            UnsupportedOperationError: Asked by reference (EAPI cannot look one up).
            InvalidMessageError: A malformed message id.
        """
        if message_id is None:
            raise UnsupportedOperationError("query by reference", provider=self.name)
        batch_id, _, msisdn = message_id.partition(":")
        if not batch_id.isdigit() or (msisdn and not msisdn.lstrip("+").isdigit()):
            raise InvalidMessageError(
                "a BulkSMS message id is <batch_id> or <batch_id>:<msisdn>",
                field="message_id",
                value=message_id,
            )
        reports = self.report(batch_id, msisdn=msisdn or None)
        if not reports:
            # Unknown batches and scheduled messages not yet sent both report no rows.
            return DeliveryReport(
                provider=self.name,
                message_id=message_id,
                status=Status.UNKNOWN,
                provider_text="no report yet",
            )
        if len(reports) == 1:
            return attrs.evolve(reports[0], message_id=message_id)
        worst = min(reports, key=lambda r: _RANK.get(r.status, 99))
        return attrs.evolve(worst, message_id=message_id, recipient=None)

    def balance(self) -> Cost:
        """Remaining credits (``get_credits``)."""
        response = self._post(protocol.CREDITS_PATH, b"", effects=False)
        return Cost(protocol.parse_credits(self._text(response)), "credits")

    def quote(self, message: Message) -> Cost:
        """What sending ``message`` would cost, in credits (``quote_sms``)."""
        text = self.encode(message.body, message.options)
        fields = sms_fields(
            message.to,
            text,
            self.settings_for(message.sender, message.options),
            attrs.evolve(self.params_for(message.options), test_mode=None),
        )
        response = self._post(protocol.QUOTE_PATH, protocol.encode_form(fields), effects=False)
        return Cost(protocol.parse_quote(self._text(response)), "credits")

    def parse_callback(
        self,
        *,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[DeliveryReport]:
        """Turn an HTTP-push status report (a GET with query parameters) into a report.

        Raises:
            MalformedResponseError: A push without a valid msisdn, batch_id and status.
        """
        return [protocol.parse_callback_query(query, zone=self._zone)]

    @classmethod
    def emulator_class(cls) -> type[Emulator]:
        from .emulator import BulkSmsEmulator

        return BulkSmsEmulator

    @classmethod
    def emulator_options(cls, emulator: Emulator) -> dict[str, Any]:
        from .emulator import BulkSmsEmulator

        if not isinstance(emulator, BulkSmsEmulator):
            raise ConfigurationError("a BulkSmsEmulator is needed", provider=cls.name)
        return {
            "base_url": f"{emulator.url}/eapi",
            "username": emulator.username,
            "password": emulator.password,
        }

    def close(self) -> None:
        """Close the connection. Safe to call twice."""
        self._http.close()


# A batch is as far along as its least advanced recipient: pending states first.
_RANK = {
    Status.UNKNOWN: 0,
    Status.ACCEPTED: 1,
    Status.SCHEDULED: 2,
    Status.QUEUED: 3,
    Status.SENT: 4,
    Status.FAILED_TEMPORARY: 5,
    Status.EXPIRED: 6,
    Status.FAILED_PERMANENT: 7,
    Status.INVALID_NUMBER: 8,
    Status.REJECTED: 9,
    Status.CANCELLED: 10,
    Status.DELIVERED: 11,
}
