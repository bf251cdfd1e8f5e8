"""The Clickatell provider: options, capabilities, and the calls of the legacy HTTP API.

Authentication lives in :mod:`.session`, the message and account queries in
:mod:`.queries`, batches in :mod:`.batch`; the provider's methods delegate to them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from smsbridge import (
    Batch,
    BinarySegmentation,
    Cost,
    DeliveryReport,
    ErrorInfo,
    InvalidMessageError,
    Kind,
    Message,
    Scope,
    Segmentation,
    SendOptions,
    SendResult,
    SmsBridgeError,
    Status,
    segment,
)
from smsbridge.sdk import (
    Capabilities,
    Coverage,
    EmulatedBy,
    Provider,
    ProviderOptions,
    Secret,
    raw_params,
    secret_converter,
)

from . import features, queries, rows
from . import protocol as p
from .callbacks import parse_callback
from .codes import ERRORS
from .session import ClickatellSession

__all__ = ["ClickatellOptions", "ClickatellProvider"]


def _feature(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        features.check_value(attribute.name, value)


def _one_of(*allowed: Any) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            raise ValueError(f"{attribute.name} must be one of {allowed!r}")

    return check


@attrs.frozen(kw_only=True, slots=True)
class ClickatellOptions(ProviderOptions):
    """Options of the Clickatell legacy HTTP API provider.

    Args:
        base_url: The gateway (``https://api.clickatell.com``).
        api_id: The HTTP API product's id.
        user: The account's username.
        password: The account's password.
        auth_mode: ``"session"`` (``auth`` once, then ``session_id``; re-authenticates on
            error 003) or ``"per_call"`` (credentials in every request body).
        session_idle_limit: Seconds of inactivity after which the gateway drops a
            session (15 minutes); a session older than this is renewed before use.
        ping_interval: Idle seconds after which :meth:`ClickatellProvider.keep_alive`
            pings (the spec suggests every 10 minutes).
        callback: ``callback`` value (0-7) sent with every message.
        deliv_ack: ``deliv_ack`` sent with every message.
        mo: ``mo`` (1: route so that replies come back).
        queue: ``queue`` (1 highest priority, 3 default).
        escalate: ``escalate`` (1: escalate to another route when queued).
        max_credits: ``max_credits`` cap per message: one of the profile values 0.8, 1,
            1.5, 2, 2.5, 3 (spec 5.1).
        req_feat: ``req_feat``: a :class:`~.features.RequiredFeature` combination.
        msg_type: ``msg_type`` sent with every message.
        bypass_dnc_check: ``bypass_dnc_check`` (1: skip the do-not-contact lookup).
        pool_size: Connections kept to the gateway; raise it with the sender's
            concurrency (more threads than connections wait for one).
    """

    base_url: str = "https://api.clickatell.com"
    api_id: Secret = attrs.field(converter=secret_converter)
    user: Secret = attrs.field(converter=secret_converter)
    password: Secret = attrs.field(converter=secret_converter)
    auth_mode: str = attrs.field(default="session", validator=_one_of("session", "per_call"))
    session_idle_limit: float = 900.0
    pool_size: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    ping_interval: float = 600.0
    callback: int | None = attrs.field(default=None, validator=_one_of(None, *range(8)))
    deliv_ack: int | None = None
    mo: int | None = attrs.field(default=None, validator=_one_of(None, 0, 1))
    queue: int | None = attrs.field(default=None, validator=_one_of(None, 1, 2, 3))
    escalate: int | None = attrs.field(default=None, validator=_one_of(None, 0, 1))
    max_credits: str | None = attrs.field(default=None, validator=_feature)
    req_feat: int | None = attrs.field(default=None, validator=_feature)
    msg_type: str | None = None
    bypass_dnc_check: int | None = attrs.field(default=None, validator=_one_of(None, 0, 1))

    def send_defaults(self) -> dict[str, str | int]:
        """The per-message parameters configured here (see ``protocol.SEND_EXTRAS``)."""
        values = {name: getattr(self, name) for name in p.SEND_EXTRAS}
        return {k: v for k, v in values.items() if v is not None}


# What the provider writes itself: a raw parameter must not replace any of it.
_RESERVED = frozenset(
    {
        "api_id",
        "user",
        "password",
        "session_id",
        "to",
        "text",
        "template",
        "unicode",
        "concat",
        "from",
        "climsgid",
        "scheduled_time",
        "validity",
        "batch_id",
    }
    | features.KNOWN_EXTRAS
)


class ClickatellProvider(Provider):
    """Clickatell's legacy HTTP API (``/http/...``), spec v2.6.

    Args:
        options: The :class:`ClickatellOptions`.
        clock: Seconds, monotonic; decides when a session is idle (tests inject one).
    """

    name = "clickatell"
    capabilities = Capabilities(
        max_recipients_per_request=p.MAX_DESTINATIONS,
        templates=True,
        scheduling=True,
        max_schedule_ahead=p.MAX_SCHEDULE_AHEAD,
        cancel=True,
        query_by_id=True,
        query_by_reference=True,
        balance=True,
        coverage=True,
        quote=True,
        unicode=True,
        max_parts=p.MAX_CONCAT,
        idempotency_key=False,
        delivery_callbacks=True,
        shared_row_reference=True,
    )
    options_class = ClickatellOptions
    emulated_by = EmulatedBy(".emulator:ClickatellEmulator", options=("api_id", "user", "password"))
    options: ClickatellOptions

    def __init__(
        self, options: ProviderOptions, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(options)
        self._clock = clock
        self._http = self.http_client(pool_size=self.options.pool_size)
        self._session = ClickatellSession(self._http, self.options, clock)

    # -- plumbing ---------------------------------------------------------------------

    def call(self, path: str, fields: list[tuple[str, str]], *, effects: bool = False) -> str:
        """POST one command with authentication and return the response text.

        A session that the gateway says has expired (error 003) is renewed and the
        command repeated once: 003 is checked before anything else, so nothing was done.

        Raises:
            ProviderError: For a non-2xx status.
            TransportError: The request did not get through (``UnknownOutcomeError`` when
                it may have been processed and ``effects`` is set).
        """
        return self._session.call(path, fields, effects=effects)

    def keep_alive(self) -> bool:
        """Ping the gateway when the session has been idle for ``ping_interval``.

        Call it periodically from a long-lived process; a lapsed session is renewed.

        Returns:
            True when a ping was sent.
        """
        return self._session.keep_alive()

    def segmentation(self, body: str, options: SendOptions) -> Segmentation | BinarySegmentation:
        """Encode and split ``body`` as it will travel, enforcing ``max_parts``.

        A message whose options ask for binary (``binary``/``udh``, see
        :func:`.features.binary_payload`) is split into 8-bit parts instead.

        Raises:
            InvalidMessageError: The encoding cannot carry the text, a binary payload is
                not hex octets, or it needs more parts than ``options.max_parts`` (or the
                gateway's 35).
        """
        seg: Segmentation | BinarySegmentation | None
        seg = features.binary_payload(body, self.wire_extras(options))
        if seg is None:
            try:
                seg = segment(body, encoding=options.encoding, transliterate=options.transliterate)
            except ValueError as exc:
                raise InvalidMessageError(str(exc), field="encoding", provider=self.name) from None
        limit = min(options.max_parts or p.MAX_CONCAT, p.MAX_CONCAT)
        if seg.part_count > limit:
            raise InvalidMessageError(
                f"the text needs {seg.part_count} parts, more than the {limit} allowed",
                field="max_parts",
                value=seg.part_count,
                provider=self.name,
            )
        return seg

    def wire_extras(self, options: SendOptions) -> dict[str, str]:
        """The checked option values of a message (see :func:`.features.wire_extras`).

        Raises:
            InvalidMessageError: An unknown option or a value the spec does not allow.
        """
        return features.wire_extras(options, self.options.send_defaults())

    def raw_fields(self, options: SendOptions) -> list[tuple[str, str]]:
        """The message's ``SendOptions.raw["clickatell"]`` parameters, as given.

        Raises:
            InvalidMessageError: A raw name this provider sets itself.
        """
        return raw_params(options, provider=self.name, reserved=_RESERVED)

    def check_options(self, options: SendOptions, now: datetime) -> None:
        """Refuse what the gateway would silently get wrong.

        Raises:
            InvalidMessageError: A schedule more than 7 days ahead (the gateway would send
                it at once), ``flash`` without a ``msg_type`` (not in the spec), an
                option Clickatell does not know or a value the spec does not allow.
        """
        extras = self.wire_extras(options)
        self.raw_fields(options)
        if options.scheduled_at is not None and options.scheduled_at - now > p.MAX_SCHEDULE_AHEAD:
            raise InvalidMessageError(
                "Clickatell schedules at most 7 days ahead",
                field="scheduled_at",
                value=options.scheduled_at,
                provider=self.name,
            )
        if options.flash and "msg_type" not in extras:
            raise InvalidMessageError(
                "the legacy HTTP API documents no flash message type; "
                "pass extra={'msg_type': ...} if your account has one",
                field="flash",
                value=True,
                provider=self.name,
            )

    def message_fields(
        self,
        seg: Segmentation | BinarySegmentation,
        options: SendOptions,
        *,
        sender: str | None,
        reference: str | None,
        text_field: str = "text",
        concat: int | None = None,
    ) -> list[tuple[str, str]]:
        """The message parameters for ``sendmsg``/``startbatch`` (no auth, no ``to``),
        then the message's raw parameters."""
        fields = p.message_fields(
            seg,
            sender=sender,
            client_id=p.client_message_id(reference) if reference else None,
            options=options,
            extras=self.wire_extras(options),
            now=datetime.now(UTC),
            text_field=text_field,
            concat=concat,
        )
        fields.extend(self.raw_fields(options))
        return fields

    def line_result(
        self,
        number: str,
        line: p.SendLine | None,
        *,
        reference: str | None,
        parts: int,
        scheduled: bool,
    ) -> SendResult:
        """One recipient's :class:`SendResult` from its line of a send answer."""
        common: dict[str, Any] = {"provider": self.name, "reference": reference, "parts": parts}
        if line is None:
            return SendResult(
                number,
                Status.UNKNOWN,
                error=ErrorInfo(
                    None,
                    "the gateway's answer did not mention this destination",
                    scope=Scope.PROVIDER,
                    kind=Kind.TRANSIENT,
                ),
                **common,
            )
        if line.code is not None:
            outcome = ERRORS.lookup(line.code)
            return SendResult(
                number, outcome.status, error=outcome.info(line.code, line.text), **common
            )
        status = Status.SCHEDULED if scheduled else Status.ACCEPTED
        return SendResult(number, status, message_id=line.message_id, **common)

    # -- sending ----------------------------------------------------------------------

    def send(self, message: Message) -> list[SendResult]:
        """Send ``message`` with ``sendmsg``, up to 300 destinations per request.

        Raises:
            InvalidMessageError: Too many parts, an impossible encoding or schedule.
            SmsBridgeError: The first request failed as a whole. A later chunk's failure
                becomes the results of its (and every later) recipient instead, so that
                the ids already issued are not lost.
        """
        now = datetime.now(UTC)
        self.check_options(message.options, now)
        seg = self.segmentation(message.body, message.options)
        fields = self.message_fields(
            seg, message.options, sender=message.sender, reference=message.reference
        )
        scheduled = any(name in p.SCHEDULING for name, _ in fields)
        results: list[SendResult] = []
        numbers = list(message.to)
        for start in range(0, len(numbers), p.MAX_DESTINATIONS):
            chunk = numbers[start : start + p.MAX_DESTINATIONS]
            wire = [p.wire_number(n) for n in chunk]
            try:
                text = self.call("/http/sendmsg", [("to", ",".join(wire)), *fields], effects=True)
                lines = p.parse_send(text, wire)
            except SmsBridgeError as exc:
                if not results:
                    raise
                status = Status.UNKNOWN if exc.outcome_unknown else Status.REJECTED
                results.extend(
                    SendResult(
                        n,
                        status,
                        provider=self.name,
                        reference=message.reference,
                        error=exc.info(),
                        parts=seg.part_count,
                    )
                    for n in numbers[start:]
                )
                break
            results.extend(
                self.line_result(
                    n,
                    line,
                    reference=message.reference,
                    parts=seg.part_count,
                    scheduled=scheduled,
                )
                for n, line in zip(chunk, lines, strict=True)
            )
        return results

    def request_key(self, message: Message) -> Hashable:
        """The text, sender and options one ``sendmsg`` carries for all its destinations.

        Never the number or the reference: rows that differ only in those share a request.

        Returns:
            A :class:`~.rows.RowKey`.
        """
        return rows.request_key(message)

    def send_rows(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send rows with equal request keys as one ``sendmsg`` of up to 300 destinations.

        ``climsgid`` is the first row's reference (see :mod:`.rows`), so a later
        ``query(reference=<first row's reference>)`` finds the request; one row goes
        exactly as :meth:`send` sends it.

        Returns:
            One result per row, in order, each with its own reference and API message id.

        Raises:
            InvalidMessageError: Rows that cannot go together (more than one recipient,
                more than 300, different keys), or a text/option every row shares and the
                gateway cannot take: nothing was sent.
            SmsBridgeError: The request failed as a whole (transport, authentication,
                credit); ``outcome_unknown`` says whether it may have been taken.
        """
        return rows.send_rows(self, messages)

    def send_batch(self, batch: Batch) -> Iterator[SendResult]:
        """Send a batch through ``startbatch``: ``senditem`` per recipient for a template,
        ``quicksend`` (300 at a time) for a shared body. Streams the recipients."""
        from .batch import send_batch

        return send_batch(self, batch)

    # -- queries ------------------------------------------------------------------------

    def query(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        """The status of a message, by API message id or by client reference (``querymsg``).

        Raises:
            MessageNotFoundError: 103/104 when the gateway knows no such message.
        """
        return queries.query(self, message_id=message_id, reference=reference)

    def charge(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        """Status and charge of a message (``getmsgcharge``); the charge is ``cost``."""
        return queries.charge(self, message_id=message_id, reference=reference)

    def cancel(
        self, message_id: str | None = None, *, reference: str | None = None
    ) -> DeliveryReport:
        """Stop a scheduled or queued message (``delmsg``)."""
        return queries.cancel(self, message_id=message_id, reference=reference)

    def balance(self) -> Cost:
        """The account's credit (``getbalance``)."""
        return queries.balance(self)

    def token_pay(self, token: str | Secret) -> str:
        """Spend a 16-digit voucher on the account (``token_pay``); see
        :func:`.queries.token_pay`."""
        return queries.token_pay(self, token)

    def coverage(self, number: str) -> Coverage:
        """Whether ``number``'s prefix is routed, and the charge per part."""
        return queries.coverage(self, number)

    def billable_parts(self, text: str, options: SendOptions, *, country: str | None) -> int:
        """Parts the gateway bills for ``text``: 8-bit parts for a binary message
        (140 octets, 134 per part when concatenated), text parts otherwise.

        Raises:
            InvalidMessageError: As :meth:`segmentation` (a ``ValueError``).
        """
        del country  # one rule for every destination
        return self.segmentation(text, options).part_count

    def quote(self, message: Message) -> Cost:
        """The charge per part of each recipient's route times the message's parts.

        Raises:
            ProviderError: Code 114 for a recipient the gateway does not route.
        """
        return queries.quote(self, message)

    def parse_callback(
        self,
        *,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[DeliveryReport]:
        """Read an HTTP/XML/SOAP status callback (GET or POST) into a report."""
        return parse_callback(
            method=method, query=query, headers=headers, body=body, api_id=self.options.api_id
        )

    # -- lifecycle ----------------------------------------------------------------------
