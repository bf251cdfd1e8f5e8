"""The BulkSMS EAPI provider: sending, and the other operations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import tzinfo
from zoneinfo import ZoneInfo

import attrs

from smsbridge import (
    Batch,
    Cost,
    DeliveryReport,
    InvalidMessageError,
    Kind,
    Message,
    ProviderError,
    Scope,
    SendOptions,
    SendResult,
    Status,
    UnknownOutcomeError,
    UnsupportedOperationError,
)
from smsbridge.sdk import (
    Capabilities,
    EmulatedBy,
    HttpResponse,
    Provider,
    ProviderOptions,
)

from . import parsers, protocol
from .chunks import Chunk, Draft, RequestParams, Settings, build_sms_draft, sms_fields
from .codes import UPSTREAM_RETRY_CODES
from .options import MAX_BATCH_SIZE, BulkSmsOptions
from .pipeline import pipelined
from .planning import Planner
from .protocol import EncodedText
from .stopdup import InMemoryStopDupAllocator, StopDupAllocator

__all__ = ["BulkSmsOptions", "BulkSmsProvider"]

logger = logging.getLogger("smsbridge.bulksms")


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
    emulated_by = EmulatedBy(
        ".emulator:BulkSmsEmulator", options=("username", "password"), path="/eapi"
    )
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
        self._http = self.http_client(pool_size=1)
        self._lock = threading.Lock()
        self._upstream_failures = 0
        self._planner = Planner(opts, self._zone, self.name)

    # -- building requests --------------------------------------------------------------

    def settings_for(self, sender: str | None, options: SendOptions) -> Settings:
        """The per-message settings of a message's sender and options."""
        return self._planner.settings_for(sender, options)

    def params_for(self, options: SendOptions) -> RequestParams:
        """The request-level parameters of a message's options."""
        return self._planner.params_for(options)

    def request_key(self, message: Message) -> Hashable:
        """The request-level parameters of a row: what :meth:`plan_messages` keeps equal
        within one ``send_batch`` request.

        Text, sender and the other per-message settings are CSV columns of
        ``batch_data`` and may differ row by row, so they are not part of the key; the
        schedule, ``want_report`` and ``scheduling_description`` (and the provider's test
        mode) are request parameters. Rows are not sent through :meth:`send_rows`: the
        dispatcher stores and sends their chunks (:meth:`plan_messages`,
        :meth:`send_chunk`), whose ``stop_dup_id`` lets a lost answer be resent safely.

        Returns:
            The row's :class:`~.chunks.RequestParams`.
        """
        return self._planner.params_for(message.options)

    def encode(self, text: str, options: SendOptions) -> EncodedText:
        """Encode a body, enforcing ``options.max_parts``.

        Raises:
            InvalidMessageError: The text needs more parts than allowed, or cannot be
                sent in the forced encoding.
        """
        return self._planner.encode(text, options)

    def plan_batch(self, batch: Batch) -> Iterator[Chunk | SendResult]:
        """Cut a batch into encoded chunks, lazily; refused recipients come as results.

        Each chunk gets its ``stop_dup_id`` as it is produced; store the chunk to resend it
        later with :meth:`send_chunk`.
        """
        return self._numbered(self._planner.batch(batch))

    def plan_messages(self, messages: Iterable[Message]) -> Iterator[Chunk | SendResult]:
        """Like :meth:`plan_batch` for distinct messages, each with its own sender and
        options (per-message CSV columns); schedules split requests."""
        return self._numbered(self._planner.messages(messages))

    def _numbered(self, plan: Iterator[Draft | SendResult]) -> Iterator[Chunk | SendResult]:
        for item in plan:
            yield item if isinstance(item, SendResult) else item.numbered(self.allocator.allocate())

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
            draft = build_sms_draft(members, text, settings, params)
            results.extend(self.send_chunk(draft.numbered(self.allocator.allocate())))
        return results

    def send_batch(self, batch: Batch) -> Iterator[SendResult]:
        """Stream a batch through ``send_batch``, one chunk of ``batch_size`` at a time.

        The next chunk is built while the current one is on the wire (see
        :func:`pipelined`); requests still go one at a time, each only once the consumer
        has taken every result before it.
        """
        return pipelined(self._planner.batch(batch), self._send_draft)

    def send_messages(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        """Stream distinct messages through ``send_batch`` (per-message columns)."""
        return pipelined(self._planner.messages(messages), self._send_draft)

    def _send_draft(self, draft: Draft) -> list[SendResult]:
        # The id is taken only now, as the request goes out: ids follow the order of
        # requests, and a draft built ahead but never sent uses none.
        return self.send_chunk(draft.numbered(self.allocator.allocate()))

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
        prefix = reply.batch_id + ":"
        return SendResult.many(
            chunk.numbers,
            reply.outcome.status,
            provider=self.name,
            message_ids=[prefix + number.lstrip("+") for number in chunk.numbers],
            references=chunk.references,
            parts=chunk.parts,
            attempts=attempts,
        )

    def _submit(self, chunk: Chunk) -> parsers.SubmissionReply:
        response = self._post(chunk.path, chunk.body, effects=True)
        try:
            reply = parsers.parse_submission(self._text(response))
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
        rows = parsers.parse_report(self._text(response))
        return [parsers.report_from_row(row, str(batch_id)) for row in rows]

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
        return Cost(parsers.parse_credits(self._text(response)), "credits")

    def billable_parts(self, text: str, options: SendOptions, *, country: str | None) -> int:
        """Parts BulkSMS bills for ``text``, as it will be encoded on the wire.

        EAPI's 7-bit field is ISO-8859-1, which has no euro sign: GSM-7 text with one
        goes as 16-bit and is billed by UCS-2 rules, so plain segmentation would
        under-count it.
        """
        del country  # one rule for every destination
        return self.encode(text, options).parts

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
        return Cost(parsers.parse_quote(self._text(response)), "credits")

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
        return [parsers.parse_callback_query(query, zone=self._zone)]


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
