"""The Huawei MSGSMS provider: options, sending through approved templates, callbacks.

Send answers are read into per-recipient results in :mod:`.results`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge import (
    Batch,
    DeliveryReport,
    MalformedResponseError,
    Message,
    ProviderError,
    Scope,
    SendOptions,
    SendResult,
    SmsBridgeError,
    Status,
    UnknownOutcomeError,
)
from smsbridge.sdk import (
    Capabilities,
    EmulatedBy,
    HttpResponse,
    Provider,
    ProviderOptions,
    Secret,
    secret_converter,
)

from . import batch as planning
from . import rows
from .numbers import normalise_number
from .protocol import (
    BATCH_PATH,
    DIFF_PATH,
    MAX_NUMBERS,
    batch_send_fields,
    diff_send_body,
    extend_for,
    parse_status_report,
)
from .results import interpret, match, unknown
from .templates import CHINESE_MAINLAND, INTERNATIONAL, parts_for
from .wsse import wsse_headers

__all__ = ["DEFAULT_BASE_URL", "HuaweiOptions", "HuaweiProvider"]

DEFAULT_BASE_URL = "https://smsapi.ap-southeast-1.myhuaweicloud.com:443"
"""The international (Singapore) APP access address; the Chinese mainland one is
``https://smsapi.cn-north-4.myhuaweicloud.com:443``. Use your application's own."""


def _readonly(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _attributes(value: Mapping[str, Iterable[str]] | None) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in (value or {}).items()})


@attrs.frozen(kw_only=True, slots=True)
class HuaweiOptions(ProviderOptions):
    """Options of the Huawei provider.

    Args:
        base_url: The application's APP access address (no path).
        app_key: The application key (X-WSSE ``Username``).
        app_secret: The application secret (hashed into the digest, never sent).
        channel: The channel number sent as ``from`` (the signature's channel number for
            the Chinese mainland, the international channel number otherwise).
        signature: Signature name, required by Chinese mainland *generic* templates and
            counted in the billed length of Chinese mainland messages.
        status_callback: URL status reports are posted to (``SendOptions.callback_url``
            overrides it per message).
        templates: Free text -> approved template id, for Messages and body Batches whose
            text is exactly a variable-less template.
        variable_attributes: Template id -> attribute of each variable (``PHONE``,
            ``CHARDIGIT``, ``DATETIME``, ``MONEY``, ``TEXT``, ``DEFAULT``, ``NUM_<n>``),
            for the checks made before sending. Without it the attribute comes from the
            variable name (``phone``, ``money_total``...), else the default rule.
        window: Recipients read ahead to group identical values (at most 500).
    """

    base_url: str = DEFAULT_BASE_URL
    app_key: Secret = attrs.field(converter=secret_converter)
    app_secret: Secret = attrs.field(converter=secret_converter)
    channel: str = attrs.field()
    signature: str | None = None
    status_callback: str | None = None
    templates: Mapping[str, str] = attrs.field(factory=dict, converter=_readonly)
    variable_attributes: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_attributes
    )
    window: int = attrs.field(default=MAX_NUMBERS)

    @channel.validator
    def _check_channel(self, _a: attrs.Attribute[Any], value: str) -> None:
        if not isinstance(value, str) or not 1 <= len(value) <= 21:
            raise ValueError("channel (from) is 1-21 characters")

    @window.validator
    def _check_window(self, _a: attrs.Attribute[Any], value: int) -> None:
        if not 1 <= value <= MAX_NUMBERS:
            raise ValueError(f"window must be within 1..{MAX_NUMBERS}")


class HuaweiProvider(Provider):
    """Huawei Cloud Message & SMS: approved templates only, X-WSSE authentication.

    Messages and batches map onto approved templates (see :mod:`smsbridge_huawei`);
    batchSendSms carries one parameter set, batchSendDiffSms groups with their own.
    There is no idempotency key: a request whose outcome is unknown is reported as such
    and never resent here.
    """

    name = "huawei"
    capabilities = Capabilities(
        max_recipients_per_request=MAX_NUMBERS,
        templates=True,
        template_only=True,
        unicode=True,
        idempotency_key=False,
        delivery_callbacks=True,
        shared_row_reference=True,
    )
    options_class = HuaweiOptions
    emulated_by = EmulatedBy(
        ".emulator:HuaweiEmulator", options=("app_key", "app_secret", "channel")
    )

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        assert isinstance(options, HuaweiOptions)
        self.options: HuaweiOptions = options
        self._http = self.http_client()

    # -- sending -----------------------------------------------------------------------

    def send(self, message: Message) -> list[SendResult]:
        """Send a Message through the template it maps onto (see the package docs).

        Raises:
            InvalidMessageError: No template mapping for the text.
            ProviderError: A request-level refusal (``ClockSkewError`` for E000110).
            UnknownOutcomeError: The request left and no usable answer came back.
        """
        opts = self.options
        plan = planning.plan_message(
            message, templates=opts.templates, configured=opts.variable_attributes
        )
        raw = planning.check_options(message.options)
        extend = extend_for(message.reference) if message.reference else None
        # The reference Huawei echoes is what reports will carry: show it when mapped.
        shown = extend if extend is not None else message.reference
        entries = [
            planning.prepare(
                plan, number, shown, {}, options=message.options, signature=opts.signature
            )
            for number in message.to
        ]
        results: dict[str, list[SendResult]] = {}
        items = [e for e in entries if isinstance(e, planning.Item)]
        for start in range(0, len(items), MAX_NUMBERS):
            chunk = items[start : start + MAX_NUMBERS]
            # Until a request was answered, an unknown outcome is raised (the router
            # reconciles); afterwards the accepted results must not be lost with it.
            for result in self._send_window(
                chunk,
                plan.template_id,
                message.options.callback_url,
                extend,
                raise_unknown=start == 0,
                raw=raw,
            ):
                results.setdefault(result.recipient, []).append(result)
        return [
            entry if isinstance(entry, SendResult) else results[entry.number].pop(0)
            for entry in entries
        ]

    def request_key(self, message: Message) -> Hashable | None:
        """The template id and status callback URL of a row (see :mod:`.rows`).

        Returns:
            A :class:`~.rows.RowKey`, or None for a message that maps onto no approved
            template (:meth:`send` refuses it, naming the missing option).
        """
        opts = self.options
        return rows.request_key(message, opts.templates, opts.status_callback)

    def send_rows(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send rows with equal request keys as one request: batchSendSms when every row
        has the same values, else batchSendDiffSms with a group per value tuple.

        Rows may differ in their template values; each is checked on its own first, and a
        row refused then (missing or invalid value, ``max_parts``) gets a REJECTED result
        and stays off the wire. ``extend`` is the first row's reference. Only when the
        rows' values would make the JSON body exceed 64 KB are they cut into more than
        one request; a failure of any request after the first becomes its rows' results.

        Returns:
            One result per row, in order, each with its own reference and ``smsMsgId``.

        Raises:
            InvalidMessageError: Rows that cannot go together (see
                :func:`~.rows.check_rows`); nothing was sent.
            UnknownOutcomeError: The (first) request left and no usable answer came back:
                there is no idempotency key and no lookup, so it must not be resent.
            ProviderError: A provider-scope refusal of the (first) request.
        """
        if not messages:
            return []
        opts = self.options
        key = rows.check_rows(messages, opts.templates, opts.status_callback)
        reference = messages[0].reference
        extend = extend_for(reference) if reference else None
        entries = rows.prepare_rows(
            messages,
            templates=opts.templates,
            configured=opts.variable_attributes,
            signature=opts.signature,
        )
        items = [entry for entry in entries if isinstance(entry, planning.Item)]
        sent: list[SendResult] = []
        for index, window in enumerate(planning.windows(items, signature=opts.signature)):
            chunk = [entry for entry in window if isinstance(entry, planning.Item)]
            try:
                sent.extend(
                    self._send_window(
                        chunk,
                        key.template_id,
                        key.status_callback,
                        extend,
                        raise_unknown=True,
                        raw=key.raw,
                    )
                )
            except SmsBridgeError as exc:
                if index == 0:
                    raise
                # The ids of earlier requests must not be lost with this one's failure.
                status = Status.UNKNOWN if exc.outcome_unknown else Status.REJECTED
                sent.extend(
                    SendResult(
                        item.number,
                        status,
                        provider=self.name,
                        reference=item.reference,
                        error=exc.info(),
                    )
                    for item in chunk
                )
        results = iter(sent)
        return [entry if isinstance(entry, SendResult) else next(results) for entry in entries]

    @classmethod
    def normalise_number(
        cls, number: str, *, region: str | None = None, strict: bool = False
    ) -> str:
        """A number under the Group SMS Assistant's import rules (:mod:`.numbers`).

        11 digits starting with 1 get ``+86``, 13 digits starting with 86 get ``+``,
        anything else without ``+`` is invalid whatever ``region`` says: the platform
        knows no other national numbers.

        Args:
            number: The number as written.
            region: Ignored: the platform's rules name their own region.
            strict: Also require a number assigned in its numbering plan.

        Raises:
            InvalidNumberError: Naming the number and the rule it breaks.
        """
        del region
        return normalise_number(number, strict=strict)

    def accepts(self, message: Message) -> bool:
        """True when the message maps onto an approved template and nothing is scheduled.

        A message maps when it carries a Template with ``provider_ids['huawei']``, a
        template id in ``options.extra``, or a text listed in the ``templates`` option.
        """
        if message.options.scheduled_at is not None:
            return False
        if message.template is not None and message.template.provider_ids.get(self.name):
            return True
        extra = message.options.extra
        return bool(extra.get(planning.EXTRA_TEMPLATE_ID)) or message.body in self.options.templates

    def send_batch(self, batch: Batch) -> Iterator[SendResult]:
        """Send a batch, streaming: one window (at most 500 recipients) at a time.

        A window whose recipients share their values goes as one batchSendSms request;
        otherwise as one batchSendDiffSms request with a group per value tuple. A window
        whose outcome is unknown yields UNKNOWN results and is not resent.

        Raises:
            InvalidMessageError: The batch does not map onto an approved template.
            ProviderError: A provider-scope refusal (authentication, whitelist, limits).
            TransportError: The service could not be reached.
        """
        opts = self.options
        plan = planning.plan_batch(
            batch, templates=opts.templates, configured=opts.variable_attributes
        )
        extend = extend_for(batch.reference) if batch.reference else None
        entries = (
            planning.prepare(
                plan,
                recipient.number,
                recipient.reference,
                recipient.variables,
                options=batch.options,
                signature=opts.signature,
            )
            for recipient in batch
        )
        # Each recipient is refused on its own for a bad option (prepare), so this
        # never raises for a batch that reaches a window.
        raw = tuple(batch.options.raw.get(self.name, {}).items())
        for window in planning.windows(entries, size=opts.window, signature=opts.signature):
            items = [e for e in window if isinstance(e, planning.Item)]
            sent = iter(
                self._send_window(
                    items, plan.template_id, batch.options.callback_url, extend, raw=raw
                )
            )
            for entry in window:
                yield entry if isinstance(entry, SendResult) else next(sent)

    def _send_window(
        self,
        items: Sequence[planning.Item],
        template_id: str,
        callback: str | None,
        extend: str | None,
        *,
        raise_unknown: bool = False,
        raw: Sequence[tuple[str, str]] = (),
    ) -> list[SendResult]:
        if not items:
            return []
        opts = self.options
        callback = callback or opts.status_callback
        groups = planning.split(items, template_id, opts.signature)
        try:
            if len(groups) == 1:
                fields = batch_send_fields(
                    channel=opts.channel,
                    numbers=groups[0].to,
                    template_id=template_id,
                    params=groups[0].params,
                    signature=opts.signature,
                    status_callback=callback,
                    extend=extend,
                )
                response = self._post(BATCH_PATH, fields=[*fields, *raw])
            else:
                body = diff_send_body(
                    channel=opts.channel,
                    groups=groups,
                    status_callback=callback,
                    extend=extend,
                    raw=raw,
                )
                response = self._post(DIFF_PATH, json=body)
            numbers = interpret(response, provider=self.name)
        except UnknownOutcomeError as exc:
            if raise_unknown:
                raise
            # No idempotency key: the platform may have sent these. Say so, never resend.
            return [unknown(item, exc.info(), provider=self.name) for item in items]
        except ProviderError as exc:
            if exc.scope is not Scope.REQUEST:
                raise
            # This window's request was refused as malformed; the next may be fine.
            return [
                SendResult(
                    item.number,
                    Status.REJECTED,
                    provider=self.name,
                    reference=item.reference,
                    error=exc.info(),
                )
                for item in items
            ]
        return match(items, numbers, provider=self.name)

    def _post(self, path: str, **body: Any) -> HttpResponse:
        opts = self.options
        headers = wsse_headers(opts.app_key, opts.app_secret, now=datetime.now(UTC))
        return self._http.request("POST", path, headers=headers, **body)

    # -- callbacks ---------------------------------------------------------------------

    def parse_callback(
        self,
        *,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[DeliveryReport]:
        """Parse a status report POSTed to ``statusCallback`` (one per part).

        Raises:
            MalformedResponseError: Not a form-encoded status report.
        """
        if method.upper() != "POST":
            raise MalformedResponseError(
                f"Huawei status reports are POSTed, not sent with {method}", provider=self.name
            )
        return [parse_status_report(body)]

    # -- lifecycle ---------------------------------------------------------------------

    def billable_parts(self, text: str, options: SendOptions, *, country: str | None) -> int:
        """Parts Huawei bills for ``text`` (a filled template) sent to ``country``.

        For the Chinese mainland the signature counts towards the length.
        """
        region = CHINESE_MAINLAND if country == "CN" else INTERNATIONAL
        return parts_for(text, (), self.options.signature, region, encoding=options.encoding)
