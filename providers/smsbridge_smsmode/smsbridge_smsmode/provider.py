"""The smsmode provider: options, capabilities, and the calls of the HTTP API 1.6."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from smsbridge import (
    Cost,
    DeliveryReport,
    InvalidMessageError,
    Message,
    SendResult,
    SmsBridgeError,
    Status,
)
from smsbridge.sdk import (
    Capabilities,
    EmulatedBy,
    Provider,
    ProviderOptions,
    Secret,
    extras_key,
    provider_extras,
    raise_for_transport_status,
    raw_params,
    secret_converter,
)

from . import protocol as p
from .codes import STATUSES

__all__ = ["RowKey", "SmsmodeOptions", "SmsmodeProvider"]

_MAX_CALLBACK_BODY = 64 * 1024


def _optional_secret(value: str | Secret | None) -> Secret | None:
    return None if value is None else secret_converter(value)


def _zone(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{attribute.name}: unknown time zone {value!r}") from None


@attrs.frozen(kw_only=True, slots=True)
class SmsmodeOptions(ProviderOptions):
    """Options of the smsmode HTTP API 1.6 provider.

    Give either ``access_token`` (an API key from the account's settings) or the legacy
    ``pseudo`` and ``password`` pair, never both.

    Args:
        base_url: The platform (``https://api.smsmode.com``).
        access_token: The API key, sent as ``accessToken``.
        pseudo: The legacy login, sent as ``pseudo``.
        password: The legacy password, sent as ``pass``.
        notification_url: Where smsmode reports delivery statuses (a message's
            ``SendOptions.callback_url`` takes precedence).
        stop: ``1`` or ``2`` to append the STOP mention (``stop``), None to leave it out.
        timezone: The zone of ``date_envoi`` and of reports' ``date_reception``; smsmode is
            a French platform and its documentation shows local times.

    Raises:
        ValueError: No credentials, both kinds, an incomplete legacy pair, an unknown
            zone or a ``stop`` other than 1 or 2.
    """

    base_url: str = "https://api.smsmode.com"
    access_token: Secret | None = attrs.field(default=None, converter=_optional_secret)
    pseudo: Secret | None = attrs.field(default=None, converter=_optional_secret)
    password: Secret | None = attrs.field(default=None, converter=_optional_secret)
    notification_url: str | None = None
    stop: int | None = attrs.field(default=None, validator=attrs.validators.in_((None, 1, 2)))
    timezone: str = attrs.field(default="Europe/Paris", validator=_zone)

    def __attrs_post_init__(self) -> None:
        legacy = (self.pseudo is not None, self.password is not None)
        if self.access_token is not None and any(legacy):
            raise ValueError("give access_token or pseudo and password, not both")
        if self.access_token is None and not all(legacy):
            raise ValueError("give access_token, or both pseudo and password")

    def auth_fields(self) -> list[tuple[str, Secret]]:
        """The credential fields of every request."""
        if self.access_token is not None:
            return [("accessToken", self.access_token)]
        assert self.pseudo is not None and self.password is not None
        return [("pseudo", self.pseudo), ("pass", self.password)]


#: ``sendSMS`` parameters the provider writes itself: a raw parameter may not replace them.
RAW_RESERVED = frozenset(
    {"pseudo", "pass", "accessToken", "numero", "message", "classe_msg", "nbr_msg"}
    | {"emetteur", "date_envoi", "refClient", "notification_url", "stop"}
)


class RowKey(NamedTuple):
    """What one ``sendSMS`` carries once for all its numbers (see
    :meth:`SmsmodeProvider.request_key`)."""

    body: str
    sender: str | None
    scheduled_at: datetime | None
    encoding: str | None
    transliterate: bool
    max_parts: int | None
    notification_url: str | None
    extras: tuple[tuple[str, str], ...] = ()


class SmsmodeProvider(Provider):
    """smsmode's HTTP API 1.6 (``/http/1.6/<command>.do``).

    Args:
        options: The :class:`SmsmodeOptions`.
    """

    name = "smsmode"
    capabilities = Capabilities(
        max_recipients_per_request=p.MAX_RECIPIENTS,
        scheduling=True,
        cancel=True,
        query_by_id=True,
        balance=True,
        unicode=True,
        max_parts=p.MAX_PARTS,
        delivery_callbacks=True,
        shared_row_reference=True,
    )
    options_class = SmsmodeOptions
    emulated_by = EmulatedBy(".emulator:SmsmodeEmulator", options=("access_token",))
    options: SmsmodeOptions

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        self.zone = ZoneInfo(self.options.timezone)
        self._http = self.http_client()

    def call(
        self, path: str, fields: list[tuple[str, str]], *, charset: str = "utf-8",
        effects: bool = False,
    ) -> str:  # fmt: skip
        """POST one command with the credentials in the form body; the answer's text.

        The body is encoded here rather than by ``HttpClient(fields=...)`` because smsmode
        reads classe-2 text as ISO-8859-15 whatever the ``Content-Type`` says.

        Raises:
            ProviderError: For a non-2xx status.
            TransportError: The request did not get through (``UnknownOutcomeError`` when
                it may have been processed and ``effects`` is set).
        """
        auth = [(name, secret.reveal()) for name, secret in self.options.auth_fields()]
        response = self._http.request(
            "POST",
            path,
            body=p.encode_form([*auth, *fields], charset),
            headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
            sent_marker=effects,
        )
        raise_for_transport_status(response)
        return response.text()

    # -- sending ----------------------------------------------------------------------

    def message_fields(self, message: Message, encoded: p.Encoded) -> list[tuple[str, str]]:
        """``sendSMS`` parameters but the credentials and ``numero``, then the message's
        ``SendOptions.raw["smsmode"]`` parameters as given.

        Raises:
            InvalidMessageError: An ``extra`` option (smsmode takes none: its parameters
                are the message's own fields), or a raw parameter set here already.
        """
        options = message.options
        provider_extras(options, provider=self.name, known=())
        raw = raw_params(options, provider=self.name, reserved=RAW_RESERVED)
        fields = [
            ("message", encoded.segmentation.text),
            ("classe_msg", encoded.classe_msg),
            ("nbr_msg", str(max(encoded.segmentation.part_count, 1))),
        ]
        if message.sender:
            fields.append(("emetteur", p.check_sender(message.sender)))
        if options.scheduled_at is not None:
            fields.append(("date_envoi", p.schedule_field(options.scheduled_at, self.zone)))
        if message.reference:
            fields.append(("refClient", p.ref_client(message.reference)))
        url = options.callback_url or self.options.notification_url
        if url:
            fields.append(("notification_url", url))
        if self.options.stop is not None:
            fields.append(("stop", str(self.options.stop)))
        fields.extend(raw)
        return fields

    def send(self, message: Message) -> list[SendResult]:
        """Send ``message`` with ``sendSMS``, up to 300 numbers per request.

        All numbers of one request share its ``smsID`` (smsmode calls it a campaign);
        per-recipient outcomes arrive later as reports.

        Raises:
            InvalidMessageError: Too many parts, an impossible encoding or sender.
            SmsBridgeError: The first request failed as a whole. A later chunk's failure
                becomes the results of its (and every later) recipient instead, so that
                the ids already issued are not lost.
        """
        encoded = p.encode_text(message.body, message.options)
        fields = self.message_fields(message, encoded)
        status = Status.SCHEDULED if message.options.scheduled_at else Status.ACCEPTED
        parts = encoded.segmentation.part_count
        common: dict[str, Any] = {"provider": self.name, "reference": message.reference}
        results: list[SendResult] = []
        numbers = list(message.to)
        for start in range(0, len(numbers), p.MAX_RECIPIENTS):
            chunk = numbers[start : start + p.MAX_RECIPIENTS]
            numero = ",".join(p.wire_number(n) for n in chunk)
            try:
                text = self.call(
                    p.SEND_PATH, [("numero", numero), *fields], charset=encoded.charset,
                    effects=True,
                )  # fmt: skip
                sms_id = p.parse_send(text)
            except SmsBridgeError as exc:
                if not results:
                    raise
                failed = Status.UNKNOWN if exc.outcome_unknown else Status.REJECTED
                results.extend(
                    SendResult(n, failed, error=exc.info(), parts=parts, **common)
                    for n in numbers[start:]
                )
                break
            results.extend(
                SendResult(n, status, message_id=sms_id, parts=parts, **common) for n in chunk
            )
        return results

    def request_key(self, message: Message) -> Hashable:
        """The text, sender and options one ``sendSMS`` carries for all its numbers.

        ``sendSMS`` has one ``message``, ``emetteur``, ``date_envoi``, ``refClient`` and
        ``notification_url`` per request; only the numbers vary. The key keeps the raw
        values (no encoding work), so it is cheap per row; the reference is left out
        because rows share the first row's ``refClient``.

        Returns:
            A :class:`RowKey`.
        """
        options = message.options
        return RowKey(
            message.body,
            message.sender,
            options.scheduled_at,
            options.encoding,
            options.transliterate,
            options.max_parts,
            options.callback_url or self.options.notification_url,
            # Options and raw parameters decide the request (or its refusal) too.
            extras_key(options, provider=self.name),
        )

    def send_rows(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send rows with equal request keys as one ``sendSMS`` of up to 300 numbers.

        smsmode gives one request one ``smsID`` and takes one ``refClient``: every row's
        result carries that ``smsID`` (reports tell the rows apart by ``numero``), and
        ``refClient`` is the first row's reference (``shared_row_reference``). A single
        row goes exactly as :meth:`send` sends it.

        Returns:
            One result per row, in order, each with its own reference.

        Raises:
            InvalidMessageError: Rows that cannot go together (other than one recipient,
                more than 300, different keys), or a text, sender or schedule every row
                shares and smsmode cannot take: nothing was sent.
            SmsBridgeError: The request failed as a whole, as for :meth:`send`.
        """
        if not messages:
            return []
        self._check_rows(messages)
        first = messages[0]
        if len(messages) == 1:
            return self.send(first)
        encoded = p.encode_text(first.body, first.options)
        fields = self.message_fields(first, encoded)
        numero = ",".join(p.wire_number(message.to[0]) for message in messages)
        text = self.call(
            p.SEND_PATH, [("numero", numero), *fields], charset=encoded.charset, effects=True
        )
        sms_id = p.parse_send(text)
        status = Status.SCHEDULED if first.options.scheduled_at else Status.ACCEPTED
        parts = encoded.segmentation.part_count
        return [
            SendResult(
                message.to[0],
                status,
                provider=self.name,
                reference=message.reference,
                message_id=sms_id,
                parts=parts,
            )
            for message in messages
        ]

    def _check_rows(self, messages: Sequence[Message]) -> None:
        if len(messages) > p.MAX_RECIPIENTS:
            raise InvalidMessageError(
                f"one sendSMS carries at most {p.MAX_RECIPIENTS} rows",
                field="messages",
                value=len(messages),
                provider=self.name,
            )
        key = self.request_key(messages[0])
        for message in messages:
            if len(message.to) != 1:
                raise InvalidMessageError(
                    "a row has exactly one recipient",
                    field="to",
                    value=len(message.to),
                    provider=self.name,
                )
            if self.request_key(message) != key:
                raise InvalidMessageError(
                    "rows sent together need equal request keys (text, sender, options)",
                    field="messages",
                    value=message.reference,
                    provider=self.name,
                )

    # -- queries ------------------------------------------------------------------------

    def _report(self, message_id: str, code: str, **extra: Any) -> DeliveryReport:
        outcome = STATUSES.lookup(code)
        return DeliveryReport(
            provider=self.name,
            message_id=message_id,
            status=outcome.status,
            provider_code=code,
            provider_text=outcome.description,
            received_at=datetime.now(UTC),
            error=outcome.info(code) if outcome.is_error else None,
            **extra,
        )

    def delivery_reports(self, message_id: str) -> list[DeliveryReport]:
        """Every recipient's report of ``message_id`` (``compteRendu``; last 30 days).

        Returns:
            One report per recipient that has one; empty while none has arrived.

        Raises:
            MessageNotFoundError: smsmode knows no such message (code 61).
        """
        text = self.call(p.REPORT_PATH, [("smsID", message_id)])
        return [
            self._report(message_id, line.status, recipient=f"+{line.number}")
            for line in p.parse_report(text)
        ]

    def query(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        """A message's status by ``smsID``: its recipient's report when it has one
        recipient, else the campaign's status (``smsStatus``).

        Raises:
            UnsupportedOperationError: Asked by reference (smsmode cannot look one up).
            MessageNotFoundError: smsmode knows no such message.
        """
        if message_id is None:
            return super().query(message_id=message_id, reference=reference)
        reports = self.delivery_reports(message_id)
        if len(reports) == 1:
            return reports[0]
        code, text = p.parse_status(self.call(p.STATUS_PATH, [("smsID", message_id)]))
        return attrs.evolve(self._report(message_id, code), provider_text=text or None)

    def cancel(self, message_id: str) -> DeliveryReport:
        """Delete a scheduled message (``deleteSMS``).

        Raises:
            MessageNotFoundError: No such message, or it can no longer be deleted.
        """
        p.parse_answer(self.call(p.DELETE_PATH, [("smsID", message_id)], effects=True), "delete")
        return DeliveryReport(
            provider=self.name,
            message_id=message_id,
            status=Status.CANCELLED,
            provider_code="0",
            provider_text="deleted",
            received_at=datetime.now(UTC),
        )

    def balance(self) -> Cost:
        """The account's credit (``credit.do``)."""
        return Cost(p.parse_credit(self.call(p.CREDIT_PATH, [])), "credits")

    def parse_callback(
        self,
        *,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[DeliveryReport]:
        """Read a ``notification_url`` call: a GET query string (as documented) or the
        same fields in a form body.

        Raises:
            MalformedResponseError: A required field is missing or unreadable.
        """
        fields = dict(query)
        if body and method.upper() == "POST":
            if len(body) > _MAX_CALLBACK_BODY:
                raise p.malformed("notification_url", "body too large")
            text = body.decode("utf-8", errors="replace")
            fields.update(parse_qsl(text, keep_blank_values=True))
        return [p.callback_report(fields, self.zone)]

    # -- lifecycle ----------------------------------------------------------------------
