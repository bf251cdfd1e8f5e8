"""The SMPP provider: options, capabilities, sending through the window, receipts.

The wire work lives in :mod:`.session` (socket, window, keep-alive), the text encoding in
:mod:`.protocol`, receipts in :mod:`.receipts` and the code table in :mod:`.codes`.
"""

from __future__ import annotations

import functools
import itertools
import logging
import ssl
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import attrs

from smsbridge import (
    DeliveryReport,
    InvalidMessageError,
    Kind,
    MalformedResponseError,
    Message,
    Provider,
    Scope,
    Secret,
    SendOptions,
    SendResult,
    Status,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.sdk import (
    Capabilities,
    EmulatedBy,
    ProviderOptions,
    is_loopback_host,
    provider_extras,
    secret_converter,
)

from . import protocol as p
from . import wire
from .codes import COMMAND_STATUSES, status_code
from .receipts import WAIT, Located, PartIndex, receipt_of, report_of
from .session import SessionSettings, SmppSession, SubmitOutcome

__all__ = ["SmppOptions", "SmppProvider"]

logger = logging.getLogger("smsbridge.smpp")

_DEFAULT_PORTS = {"smpp": 2775, "smpps": 3550}
_MAX_BUFFERED_REPORTS = 10_000
_RX_T_APPN, _RX_P_APPN = 0x64, 0x65


def _one_of(*allowed: Any) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            raise ValueError(f"{attribute.name} must be one of {allowed!r}, not {value!r}")

    return check


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be a number > 0, not {value!r}")


def _octet(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or value not in range(256)):
        raise ValueError(f"{attribute.name} must be 0-255, not {value!r}")


@attrs.frozen(kw_only=True, slots=True)
class SmppOptions(ProviderOptions):
    """Options of an SMPP 3.4 account.

    Args:
        base_url: ``smpp://host:port`` (plain; a host other than loopback needs
            ``allow_insecure``, as the password travels in clear) or ``smpps://host:port``
            (TLS, verified against ``ca_certs`` or the system store).
        system_id: The account's ``system_id``.
        password: The account's password.
        system_type: ``system_type`` sent on bind, when the SMSC wants one.
        bind: ``"transceiver"`` (submits and receipts on one connection) or
            ``"transmitter"`` (submits only; receipts are not received).
        window: Most ``submit_sm`` awaiting their response at once (``timeout`` is how
            long one may wait).
        enquire_interval: Quiet seconds after which ``enquire_link`` is sent.
        rebind_delay: First wait before binding again after a lost connection or a
            refused bind; it doubles up to ``max_rebind_delay``.
        max_rebind_delay: Longest wait between binds.
        throttle_pause: First pause after ``ESME_RTHROTTLED``/``ESME_RMSGQFUL``; doubles
            while throttling continues, up to ``max_throttle_pause``.
        max_throttle_pause: Longest pause.
        max_throttle_rounds: Sends of one PDU while throttled before the throttling
            status becomes its result.
        concatenation: Long texts as ``"udh"`` parts, ``"sar"`` TLV parts, or one
            ``"payload"`` (``message_payload``), as the account says.
        gsm7_packed: GSM-7 packed (7 bits per character) rather than one septet per
            octet, for SMSCs whose ``data_coding`` 0 means packed.
        latin1: Send text that needs UCS-2 but fits ISO-8859-1 as Latin-1
            (``data_coding`` 3), where the account supports it.
        registered_delivery: Ask for delivery receipts.
        source_addr_ton: Override the sender's TON (otherwise derived from its form).
        source_addr_npi: Override the sender's NPI.
        max_parts: Most parts one message may have (255 with an 8-bit UDH reference).
    """

    base_url: str
    system_id: Secret = attrs.field(converter=secret_converter)
    password: Secret = attrs.field(converter=secret_converter)
    system_type: str = ""
    bind: str = attrs.field(default="transceiver", validator=_one_of("transceiver", "transmitter"))
    window: int = attrs.field(default=10, validator=attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(1)))  # fmt: skip
    enquire_interval: float = attrs.field(default=30.0, validator=_positive)
    rebind_delay: float = attrs.field(default=1.0, validator=_positive)
    max_rebind_delay: float = attrs.field(default=60.0, validator=_positive)
    throttle_pause: float = attrs.field(default=0.2, validator=_positive)
    max_throttle_pause: float = attrs.field(default=5.0, validator=_positive)
    max_throttle_rounds: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    concatenation: str = attrs.field(default="udh", validator=_one_of(*p.CONCATENATION))
    gsm7_packed: bool = False
    latin1: bool = False
    registered_delivery: bool = True
    source_addr_ton: int | None = attrs.field(default=None, validator=_octet)
    source_addr_npi: int | None = attrs.field(default=None, validator=_octet)
    max_parts: int = attrs.field(default=255, validator=attrs.validators.in_(range(1, 256)))

    def __attrs_post_init__(self) -> None:
        self.address()  # validates base_url now, not at the first send

    def address(self) -> tuple[str, int, bool]:
        """``(host, port, tls)`` from ``base_url``.

        Raises:
            ValueError: Not an ``smpp://`` or ``smpps://`` URL with a host, or plain SMPP
                to a host other than loopback without ``allow_insecure``.
        """
        parts = urlsplit(self.base_url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                f"base_url must be smpp://host:port or smpps://host:port, not {self.base_url!r}"
            )
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ValueError(f"base_url has an invalid port: {self.base_url!r}") from None
        tls = parts.scheme == "smpps"
        if not tls and not self.allow_insecure and not is_loopback_host(parts.hostname):
            raise ValueError(
                f"plain SMPP to {parts.hostname} sends the password in clear: use smpps:// "
                "or set allow_insecure"
            )
        return parts.hostname, port, tls


class SmppProvider(Provider):
    """An SMSC spoken to over SMPP 3.4 (one bound session, windowed ``submit_sm``).

    Delivery receipts arrive on the session as ``deliver_sm``; set :attr:`report_sink`
    (e.g. to a :class:`~smsbridge.reports.ReportReceiver`'s ``record``) to record them in
    the outbox, or collect them with :meth:`reports`.

    Args:
        options: The :class:`SmppOptions`.
    """

    name = "smpp"
    emulated_by = EmulatedBy(".emulator:SmscEmulator", options=("system_id", "password"))
    # No lookup by client reference exists in SMPP 3.4 (query_sm takes the SMSC's id), so
    # query_by_reference stays False: an unanswered submit_sm is parked as unknown under
    # at-most-once, never resent elsewhere.
    capabilities = Capabilities(
        max_recipients_per_request=100,
        scheduling=True,
        unicode=True,
        max_parts=255,
        delivery_callbacks=True,
    )
    options_class = SmppOptions
    options: SmppOptions

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        wire.codec()  # a missing smpplib is a configuration error now, not at the first send
        opts = self.options
        host, port, tls = opts.address()
        context: ssl.SSLContext | None = None
        if tls:
            context = ssl.create_default_context(cafile=opts.ca_certs)
            if opts.allow_insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        settings = SessionSettings(
            host=host,
            port=port,
            tls=context,
            system_id=opts.system_id,
            password=opts.password,
            system_type=opts.system_type,
            bind=opts.bind,
            window=opts.window,
            response_timeout=opts.timeout,
            connect_timeout=opts.connect_timeout,
            enquire_interval=opts.enquire_interval,
            rebind_delay=opts.rebind_delay,
            max_rebind_delay=opts.max_rebind_delay,
            throttle_pause=opts.throttle_pause,
            max_throttle_pause=opts.max_throttle_pause,
            max_throttle_rounds=opts.max_throttle_rounds,
        )
        self.session = SmppSession(settings, self._on_deliver)
        self.parts = PartIndex()
        self.report_sink: Callable[[DeliveryReport], None] | None = None
        """Where receipts go; while None they are kept for :meth:`reports`."""
        self._buffer: deque[DeliveryReport] = deque(maxlen=_MAX_BUFFERED_REPORTS)
        self._refs = itertools.count(1)

    # -- sending ----------------------------------------------------------------------

    def send(self, message: Message) -> list[SendResult]:
        """Submit ``message`` to each recipient: one ``submit_sm`` per part, windowed.

        Raises:
            InvalidMessageError: The text, sender, schedule or validity cannot be sent.
            TransportError: Nothing could be written (no bind); ``UnknownOutcomeError``
                when every recipient's submission went unanswered.
            ProviderError: The SMSC refused the bind.
        """
        self._check_extras(message)
        return self._send([(number, message) for number in message.to])

    def _check_extras(self, message: Message) -> None:
        """Refuse an ``extra`` option meant for this provider: SMPP takes none (its
        settings are the account's options); a scoped one for another provider is fine."""
        provider_extras(message.options, provider=self.name, known=())

    def request_key(self, message: Message) -> Hashable:
        """Rows share the window, not a PDU: the key only keeps differently scheduled
        or timed rows apart, so one ``send_rows`` call carries one kind of message."""
        options = message.options
        return ("smpp", options.scheduled_at, options.validity, options.flash)

    def send_rows(self, messages: Sequence[Message]) -> list[SendResult]:
        """Submit one-recipient messages together through the window (one result each).

        Raises:
            As :meth:`send`.
        """
        refused: dict[int, SendResult] = {}
        rows: list[tuple[str, Message]] = []
        for index, message in enumerate(messages):
            try:
                self._check_extras(message)
            except InvalidMessageError as exc:
                # This row only: the others go out.
                refused[index] = SendResult(
                    message.to[0],
                    Status.REJECTED,
                    provider=self.name,
                    reference=message.reference,
                    error=exc.info(),
                )
                continue
            rows.append((message.to[0], message))
        sent = iter(self._send(rows) if rows else [])
        return [refused[i] if i in refused else next(sent) for i in range(len(messages))]

    def billable_parts(self, text: str, options: SendOptions, *, country: str | None) -> int:
        """Parts billed for ``text``: the segmented count, with Latin-1 where configured."""
        return p.billed_parts(
            text,
            encoding=options.encoding,
            transliterate=options.transliterate,
            latin1=self.options.latin1,
        )

    def _encode(self, message: Message) -> p.Encoded:
        opts, options = self.options, message.options
        limit = min(options.max_parts or opts.max_parts, opts.max_parts)
        return p.encode_text(
            message.body,
            encoding=options.encoding,
            transliterate=options.transliterate,
            packed=opts.gsm7_packed,
            latin1=opts.latin1 and not options.flash,
            concatenation=opts.concatenation,
            reference=next(self._refs) % 0xFFFF,
            max_parts=limit,
        )

    def _common(self, message: Message, encoded: p.Encoded) -> dict[str, Any]:
        options = message.options
        fields: dict[str, Any] = {
            "data_coding": encoded.data_coding | (0x10 if options.flash else 0),
            "registered_delivery": 1 if self.options.registered_delivery else 0,
        }
        if message.sender:
            ton, npi, addr = p.sender_address(message.sender)
            fields["source_addr_ton"] = self.options.source_addr_ton or ton
            fields["source_addr_npi"] = self.options.source_addr_npi or npi
            fields["source_addr"] = addr
        if options.scheduled_at is not None:
            fields["schedule_delivery_time"] = _absolute(options.scheduled_at)
        if options.validity is not None:
            fields["validity_period"] = _relative(options.validity)
        return fields

    def _send(self, rows: list[tuple[str, Message]]) -> list[SendResult]:
        plans: list[tuple[str, Message, int, int, int]] = []  # ..., first pdu, pdus, billed
        pdus: list[dict[str, Any]] = []
        hooks: list[Callable[[str], None] | None] = []
        for number, message in rows:
            encoded = self._encode(message)
            common = self._common(message, encoded)
            ton, npi, digits = p.address(number)
            plans.append((number, message, len(pdus), len(encoded.parts), encoded.billed))
            if len(encoded.parts) > 1:
                group = self.parts.group(len(encoded.parts))
                hooks.extend(
                    functools.partial(self._part_accepted, group, n)
                    for n in range(1, len(encoded.parts) + 1)
                )
            else:
                hooks.append(None)
            for part in encoded.parts:
                pdus.append(
                    {
                        **common,
                        "dest_addr_ton": ton,
                        "dest_addr_npi": npi,
                        "destination_addr": digits,
                        "esm_class": part.esm_class,
                        "short_message": part.short_message,
                        **part.tlvs,
                    }
                )
        outcomes = self.session.submit(pdus, hooks)
        results = [
            self._result(number, message, outcomes[start : start + count], billed)
            for number, message, start, count, billed in plans
        ]
        _raise_if_nothing_known(results, outcomes)
        return results

    def _result(
        self, number: str, message: Message, outcomes: Sequence[SubmitOutcome], billed: int
    ) -> SendResult:
        common: dict[str, Any] = {
            "provider": self.name,
            "reference": message.reference,
            "parts": billed,  # a message_payload is one PDU but billed as its parts
        }
        ids = [o.message_id if o.status == 0 else None for o in outcomes]
        first_id = ids[0]
        if all(o.status == 0 for o in outcomes):
            status = Status.SCHEDULED if message.options.scheduled_at else Status.ACCEPTED
            return SendResult(number, status, message_id=first_id, **common)
        unknown = next((o for o in outcomes if o.unknown), None)
        if unknown is not None:
            error = UnknownOutcomeError(
                f"submit_sm unanswered: {unknown.reason}", provider=self.name
            ).info()
            return SendResult(number, Status.UNKNOWN, message_id=first_id, error=error, **common)
        refused = next(o for o in outcomes if o.status != 0)
        if refused.status is None:
            info = TransportError(refused.reason or "not sent", provider=self.name).info()
            return SendResult(number, Status.REJECTED, error=info, **common)
        code = status_code(refused.status)
        outcome = COMMAND_STATUSES.lookup(code)
        if any(i is not None for i in ids):
            # Earlier parts went out: sending again anywhere would repeat them.
            info = outcome.info(code, "part refused after other parts were accepted")
            info = attrs.evolve(info, scope=Scope.RECIPIENT, kind=Kind.PERMANENT)
            return SendResult(
                number, Status.FAILED_PERMANENT, message_id=first_id, error=info, **common
            )
        return SendResult(number, outcome.status, error=outcome.info(code), **common)

    # -- receipts ---------------------------------------------------------------------

    def _on_deliver(self, pdu: Any) -> int:
        try:
            receipt = receipt_of(pdu)
        except MalformedResponseError:
            logger.warning("unreadable delivery receipt refused")
            return _RX_P_APPN  # never readable: the SMSC should not send it again
        if receipt is None:
            logger.debug("mobile-originated deliver_sm ignored")
            return 0
        located = self.parts.locate(receipt)
        if located == WAIT:
            return 0  # reported once its message's first part is answered
        self._emit(report_of(receipt, located if isinstance(located, tuple) else None))
        return 0

    def _emit(self, report: DeliveryReport) -> None:
        """Pass a report on; an exception from the sink reaches the session, which
        answers ``ESME_RX_T_APPN`` so that the SMSC delivers the receipt again."""
        sink = self.report_sink
        if sink is None:
            self._buffer.append(report)
        else:
            sink(report)

    def _part_accepted(self, group: Any, number: int, message_id: str) -> None:
        released: list[tuple[Any, Located]] = self.parts.accepted(group, number, message_id)
        for receipt, located in released:
            try:
                self._emit(report_of(receipt, located))
            except Exception as exc:  # already acknowledged: nothing to ask again
                logger.error("report sink failed with %s for a held receipt", type(exc).__name__)

    def attach_report_sink(self, sink: Callable[[DeliveryReport], None]) -> bool:
        """Receipts go to ``sink`` (an :class:`~smsbridge.SmsBridge` records them in its
        outbox), unless the application set :attr:`report_sink` itself; receipts kept
        while no sink was set are passed on now."""
        if self.report_sink is None:
            self.report_sink = sink
            for report in self.reports():
                sink(report)
        return True

    def reports(self) -> list[DeliveryReport]:
        """Receipts received while no :attr:`report_sink` was set (then forgotten)."""
        drained: list[DeliveryReport] = []
        while self._buffer:
            drained.append(self._buffer.popleft())
        return drained

    # -- lifecycle ------------------------------------------------------------------------

    def connect(self) -> None:
        """Bind now rather than at the first send (to receive receipts straight away).

        Raises:
            TransportError: The SMSC cannot be reached.
            ProviderError: The SMSC refused the bind.
        """
        self.session.ensure_bound()

    def close(self) -> None:
        """Unbind and close the connection. Safe to call twice."""
        self.session.close()


def _absolute(when: datetime) -> str:
    """SMPP absolute time in UTC: ``YYMMDDhhmmss`` then tenths, offset 00 and ``+``."""
    return f"{when.astimezone(UTC):%y%m%d%H%M%S}000+"


def _relative(span: timedelta) -> str:
    """SMPP relative time (``...R``), up to 99 days.

    Raises:
        InvalidMessageError: A validity longer than 99 days.
    """
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    if days > 99:
        raise InvalidMessageError(
            "validity must be at most 99 days for SMPP", field="validity", value=span
        )
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"0000{days:02d}{hours:02d}{minutes:02d}{secs:02d}000R"


def _raise_if_nothing_known(results: list[SendResult], outcomes: list[SubmitOutcome]) -> None:
    """Raise when no recipient got an answer: a request-level failure, as the router
    expects it (unknown when anything was written, plain transport otherwise)."""
    if any(o.status is not None for o in outcomes):
        return
    if all(r.status is Status.UNKNOWN for r in results):
        reason = next((o.reason for o in outcomes if o.unknown), None) or "no answer"
        raise UnknownOutcomeError(f"submit_sm unanswered: {reason}", provider="smpp")
    if not any(o.written for o in outcomes):
        reason = next((o.reason for o in outcomes if o.reason), None) or "not sent"
        raise TransportError(f"submit_sm not sent: {reason}", provider="smpp")
