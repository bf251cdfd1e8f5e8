"""The interface every provider implements, and the capabilities it declares.

A provider is one class. It declares :class:`Capabilities` and implements only what
they promise; every operation it does not offer raises
:class:`~smsbridge.errors.UnsupportedOperationError` from this base class, never a silent
no-op. Its options are a frozen attrs class deriving from :class:`ProviderOptions`, so
``get_provider(name, **options)`` can validate them before anything is sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Self

import attrs

from smsbridge.credentials import Secret
from smsbridge.emulator_wiring import EmulatedBy
from smsbridge.encoding.national import resolve_languages
from smsbridge.errors import (
    ConfigurationError,
    SmsBridgeError,
    TemplateError,
    UnsupportedOperationError,
)
from smsbridge.http import HttpClient
from smsbridge.model import Batch, Message
from smsbridge.numbers import NumberNormaliser
from smsbridge.results import Cost, DeliveryReport, SendResult
from smsbridge.status import Status

if TYPE_CHECKING:
    from smsbridge.testing.emulator import Emulator

__all__ = ["Capabilities", "Coverage", "Provider", "ProviderOptions"]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def _languages(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _check_languages(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Every code names a TS 23.038 national language; the message names the bad one."""
    if value is not None:
        try:
            resolve_languages(value)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{attribute.name}: {exc}") from None


@attrs.frozen(kw_only=True, slots=True)
class Capabilities:
    """What a provider can do; the bridge and router plan with it.

    Args:
        max_recipients_per_request: How many numbers one submission may carry.
        templates: Server-side templates with per-recipient values in one request.
        template_only: Only pre-approved templates can be sent (no free text).
        scheduling: Sending at a later time is done by the provider.
        max_schedule_ahead: How far ahead the provider accepts a schedule.
        cancel: A scheduled or queued message can be cancelled.
        query_by_id: Status can be asked by the provider's message id.
        query_by_reference: Status can be asked by the client reference.
        balance: The account balance can be asked.
        coverage: Whether a number is routable can be asked.
        quote: The provider can price a message before sending.
        unicode: UCS-2 text can be sent.
        max_parts: Most parts one message may have (``None``: no documented limit).
        idempotency_key: The provider de-duplicates retried submissions by a key.
        delivery_callbacks: The provider pushes delivery reports to a URL.
        max_connections: Most simultaneous connections the provider allows.
        lookup_horizon: Seconds after a request left from which a lookup by reference
            answering "not found" can be trusted to mean "never received". Before that
            the request may still be in the provider's hands (a slow answer the client
            stopped waiting for), so "not found" only means "ask again later". The
            default is deliberately long; a provider documents a shorter one.
        shared_row_reference: Rows of one :meth:`Provider.send_rows` request share one
            client reference on the wire (the first row's); a lookup by that reference
            answers for the whole request, not per row. Delivery reports of every row
            then carry the first row's reference too (with their own message id and,
            where the protocol says, their recipient), so they must be matched by message
            id, or by reference *and* recipient, never by reference alone.
        national_languages: ISO 639-1 codes of the 3GPP TS 23.038 national language
            tables the provider's route applies on its own, so that parts are counted as
            it bills them. No bundled provider documents any; the ``national_languages``
            provider option says it for one account.
    """

    max_recipients_per_request: int = 1
    templates: bool = False
    template_only: bool = False
    scheduling: bool = False
    max_schedule_ahead: timedelta | None = None
    cancel: bool = False
    query_by_id: bool = False
    query_by_reference: bool = False
    balance: bool = False
    coverage: bool = False
    quote: bool = False
    unicode: bool = True
    max_parts: int | None = None
    idempotency_key: bool = False
    delivery_callbacks: bool = False
    max_connections: int | None = None
    lookup_horizon: float = 300.0
    shared_row_reference: bool = False
    national_languages: tuple[str, ...] = attrs.field(default=(), converter=_languages)

    def __attrs_post_init__(self) -> None:
        if self.max_recipients_per_request < 1:
            raise ConfigurationError("max_recipients_per_request must be at least 1")
        if self.max_parts is not None and self.max_parts < 1:
            raise ConfigurationError("max_parts must be at least 1")
        if self.lookup_horizon < 0:
            raise ConfigurationError("lookup_horizon must not be negative")
        try:
            _check_languages(
                self, attrs.fields(Capabilities).national_languages, self.national_languages
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def as_dict(self) -> dict[str, Any]:
        """The capabilities as plain data (for ``smsbridge providers --json``)."""
        data = attrs.asdict(self)
        ahead = data["max_schedule_ahead"]
        data["max_schedule_ahead"] = None if ahead is None else ahead.total_seconds()
        data["national_languages"] = list(self.national_languages)
        return data


def _seconds(*, zero: bool) -> Any:
    """A validator for a duration option: a finite number of seconds, above zero (or
    at least zero when ``zero``), ``None`` passing through. The message names the
    option and the value (durations are never secret)."""

    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            fits = False
        else:
            fits = math.isfinite(value) and (value >= 0 if zero else value > 0)
        if not fits:
            bound = ">= 0" if zero else "> 0"
            raise ValueError(f"{attribute.name} must be a number of seconds {bound}, not {value!r}")

    return check


@attrs.frozen(kw_only=True, slots=True)
class ProviderOptions:
    """Options every provider accepts. Providers subclass this with their credentials.

    Credentials are :class:`~smsbridge.credentials.Secret` fields so that no repr, log
    line or error shows them.

    Args:
        base_url: Where the provider's API lives (emulators and proxies need it).
        timeout: Read timeout in seconds.
        connect_timeout: Connect timeout in seconds.
        allow_insecure: Permit plain HTTP to a non-loopback host or TLS without
            verification. Off by default.
        ca_certs: A CA bundle to verify the provider's certificate with.
        lookup_horizon: Overrides the provider's
            :attr:`Capabilities.lookup_horizon` (seconds), e.g. for an account whose
            gateway is known to answer lookups sooner or later than documented.
        national_languages: Overrides :attr:`Capabilities.national_languages`: the
            TS 23.038 national language tables this account's route applies
            (``["tr", "es"]``), so that quotes and prices count parts with them.
    """

    base_url: str
    timeout: float = attrs.field(default=15.0, validator=_seconds(zero=False))
    connect_timeout: float = attrs.field(default=5.0, validator=_seconds(zero=False))
    allow_insecure: bool = False
    ca_certs: str | None = None
    lookup_horizon: float | None = attrs.field(default=None, validator=_seconds(zero=True))
    national_languages: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(_languages),
        validator=_check_languages,
    )

    def secrets(self) -> tuple[Secret, ...]:
        """Every credential among the options, for redaction."""
        return tuple(
            value for value in attrs.astuple(self, recurse=False) if isinstance(value, Secret)
        )


@attrs.frozen(slots=True)
class Coverage:
    """Whether a number can be reached through a provider, and at what price."""

    number: str
    routable: bool
    charge: Cost | None = attrs.field(default=None, kw_only=True)
    text: str | None = attrs.field(default=None, kw_only=True)


class Provider:
    """Base class for providers.

    Subclasses set :attr:`name`, :attr:`capabilities` and :attr:`options_class`, and
    implement :meth:`send` plus whatever else their capabilities declare.

    The bridge hands providers messages whose numbers are already in E.164 form and
    whose client reference is set; providers never see an invalid number.
    """

    name: ClassVar[str]
    """The registered name, lower-case (``"clickatell"``)."""
    capabilities: ClassVar[Capabilities]
    """What this provider can do."""
    options_class: ClassVar[type[ProviderOptions]] = ProviderOptions
    """The frozen attrs class of the options this provider accepts."""
    emulated_by: ClassVar[EmulatedBy | None] = None
    """Where this provider's loopback emulator lives and which of its attributes are
    the provider's options; ``None`` when it ships none."""

    def __init__(self, options: ProviderOptions) -> None:
        if not isinstance(options, self.options_class):
            raise ConfigurationError(
                f"{self.name} needs {self.options_class.__name__}, not {type(options).__name__}",
                provider=self.name,
            )
        self.options = options
        self._http_clients: list[HttpClient] = []

    def http_client(self, **overrides: Any) -> HttpClient:
        """An :class:`~smsbridge.http.HttpClient` set up from this provider's options.

        Base URL, timeouts, CA bundle, ``allow_insecure`` and the credentials to redact
        come from :attr:`options`; ``overrides`` (``pool_size=1``, ``user_agent=...``)
        go on top. The provider keeps it: :meth:`close` closes it and
        :meth:`drain_idle` drains it, so a subclass writes neither.

        Raises:
            ConfigurationError: For a base URL the client refuses.
        """
        opts = self.options
        settings: dict[str, Any] = {
            "base_url": opts.base_url,
            "provider": self.name,
            "secrets": opts.secrets(),
            "timeout": opts.timeout,
            "connect_timeout": opts.connect_timeout,
            "ca_certs": opts.ca_certs,
            "allow_insecure": opts.allow_insecure,
        }
        client = HttpClient(**{**settings, **overrides})
        self._http_clients.append(client)
        return client

    @classmethod
    def from_options(cls, **options: Any) -> Self:
        """Build the provider from keyword options.

        Raises:
            ConfigurationError: Naming the unknown or missing option, never its value.
        """
        known = {field.name for field in attrs.fields(cls.options_class)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(
                f"{cls.name} has no option(s) {', '.join(unknown)}; "
                f"it accepts {', '.join(sorted(known))}",
                provider=cls.name,
            )
        try:
            opts = cls.options_class(**options)
        except TypeError as exc:
            # attrs' message names the missing argument, never a value.
            raise ConfigurationError(f"{cls.name}: {exc}", provider=cls.name) from None
        except (ValueError, SmsBridgeError) as exc:
            raise ConfigurationError(f"{cls.name}: {exc}", provider=cls.name) from None
        return cls(opts)

    # -- sending ---------------------------------------------------------------------

    def send(self, message: Message) -> list[SendResult]:
        """Submit one message to each of its recipients.

        Returns:
            One :class:`SendResult` per recipient, in ``message.to`` order. Per-recipient
            refusals are results, not exceptions.

        Raises:
            SmsBridgeError: When the whole request failed (transport, authentication,
                credit, malformed response); its ``scope``/``kind`` tell the router what
                to do and ``outcome_unknown`` whether the request may have been taken.
        """
        raise UnsupportedOperationError("send", provider=self.name)

    def send_batch(self, batch: Batch) -> Iterator[SendResult]:
        """Submit a batch, yielding a result per recipient as each request completes.

        The default sends one request per recipient through :meth:`send`; providers with
        bulk or template endpoints override it. Implementations must stream: never
        materialise the whole recipient list.
        """
        for recipient in batch:
            try:
                body = batch.render(recipient)
            except TemplateError as exc:
                yield SendResult(
                    recipient.number,
                    Status.REJECTED,
                    provider=self.name,
                    reference=recipient.reference,
                    error=exc.info(),
                    attempts=0,
                )
                continue
            message = Message(
                recipient.number,
                body,
                batch.sender,
                recipient.reference,
                options=batch.options,
                template=batch.template,
                variables=recipient.variables,
            )
            yield from self.send(message)

    def request_key(self, message: Message) -> Hashable | None:
        """The request-level settings of a one-recipient message.

        Messages whose keys are equal (and not None) may be sent together through
        :meth:`send_rows`, up to ``capabilities.max_recipients_per_request`` rows. The
        key holds what one request of the protocol carries once for all its recipients
        (the shared text, sender, schedule, validity... whatever the provider's wire
        format cannot vary per row), and never the number, the client reference or
        per-row template values. It is computed for every row, so it must be cheap and
        must not raise for a message the provider would refuse: a message that cannot be
        grouped gets None.

        Args:
            message: A message with exactly one recipient (E.164) and its own reference.

        Returns:
            A hashable key, or None (the default): never grouped, sent through
            :meth:`send`.
        """
        return None

    def send_rows(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send one-recipient messages with equal request keys as ONE request.

        Args:
            messages: One-recipient messages whose :meth:`request_key` values are equal
                and not None, at most ``capabilities.max_recipients_per_request`` of them.

        Returns:
            One :class:`SendResult` per message, in order, each carrying that message's
            reference and recipient. Per-row refusals are results, not exceptions.

        Raises:
            SmsBridgeError: When the request fails as a whole, with ``scope``/``kind``/
                ``outcome_unknown`` exactly as :meth:`send` sets them, so that the caller
                treats every row of the request alike.
            UnsupportedOperationError: The default: the provider groups no rows this way
                (it may still declare a :meth:`request_key` for a grouping path of its
                own, such as BulkSMS's stored chunks).
        """
        raise UnsupportedOperationError("send_rows", provider=self.name)

    @classmethod
    def normalise_number(
        cls, number: str, *, region: str | None = None, strict: bool = False
    ) -> str:
        """A recipient number in E.164, normalised and checked the way this provider will.

        Callers that prepare numbers long before sending them to a known provider (a
        task bound to a provider imports its file days ahead) call it, so that a number
        the provider would delete is an invalid line now, not a failure later. The
        default applies smsbridge's own rules (``phonenumbers``, national numbers need
        ``region``); a provider whose platform has rules of its own overrides it. A
        class method: no credentials are needed to check a number.

        Args:
            number: The number as written (a file cell, a form field).
            region: Region of national numbers, for providers that honour one.
            strict: Also require a number assigned in its numbering plan.

        Returns:
            The number in E.164.

        Raises:
            InvalidNumberError: Naming the number and the rule it breaks.
        """
        return NumberNormaliser(region, strict)(number)

    def accepts(self, message: Message) -> bool:
        """Whether this provider can carry ``message`` at all, so the router can skip it.

        The default refuses a scheduled message without provider-side scheduling and any
        free text on a template-only platform; providers refine it.
        """
        caps = self.capabilities
        if caps.template_only:
            return False
        return message.options.scheduled_at is None or caps.scheduling

    def attach_report_sink(self, sink: Callable[[DeliveryReport], None]) -> bool:
        """Say where delivery reports go that arrive on the provider's own connection
        (SMPP's ``deliver_sm``), rather than as callbacks to a URL or answers to polling.

        :class:`~smsbridge.SmsBridge` attaches one that records them in its outbox.

        Args:
            sink: Called once per report, from whichever thread received it.

        Returns:
            True when the provider pushes reports this way and will call ``sink``; the
            default (HTTP providers) returns False and never calls it.
        """
        return False

    @property
    def national_languages(self) -> tuple[str, ...]:
        """The national language tables this provider's route applies (the option when
        set, else the capability); see ``docs/segmentation.md``."""
        configured = getattr(self.options, "national_languages", None)
        if configured is None:
            return self.capabilities.national_languages
        return tuple(configured)

    @property
    def lookup_horizon(self) -> float:
        """Seconds after a request left from which "not found" on a lookup by reference
        means "never received" (the option when set, else the capability)."""
        configured = getattr(self.options, "lookup_horizon", None)
        return self.capabilities.lookup_horizon if configured is None else float(configured)

    # -- optional operations ------------------------------------------------------------

    def query(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        """Ask for a message's current status by provider id or client reference."""
        raise UnsupportedOperationError("query", provider=self.name)

    def cancel(self, message_id: str) -> DeliveryReport:
        """Stop a scheduled or queued message."""
        raise UnsupportedOperationError("cancel", provider=self.name)

    def balance(self) -> Cost:
        """The account's remaining balance."""
        raise UnsupportedOperationError("balance", provider=self.name)

    def coverage(self, number: str) -> Coverage:
        """Whether ``number`` is routable, and the charge for one part."""
        raise UnsupportedOperationError("coverage", provider=self.name)

    def quote(self, message: Message) -> Cost:
        """What sending ``message`` to all its recipients would cost."""
        raise UnsupportedOperationError("quote", provider=self.name)

    def parse_callback(
        self,
        *,
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[DeliveryReport]:
        """Turn a delivery-report callback request into reports (used by the receiver)."""
        raise UnsupportedOperationError("delivery callbacks", provider=self.name)

    # -- lifecycle ------------------------------------------------------------------------

    @classmethod
    def emulator_class(cls) -> type[Emulator] | None:
        """The class of this provider's loopback emulator, if it ships one.

        Raises:
            ConfigurationError: When :attr:`emulated_by` names no importable emulator.
        """
        return None if cls.emulated_by is None else cls.emulated_by.emulator_class(cls)

    @classmethod
    def emulator_options(cls, emulator: Emulator) -> dict[str, Any]:
        """Options that point this provider at a running emulator (base_url, credentials).

        Raises:
            ConfigurationError: When ``emulator`` is not this provider's emulator.
        """
        if cls.emulated_by is None:
            return {"base_url": emulator.url}
        return cls.emulated_by.provider_options(cls, emulator)

    def secrets(self) -> Iterable[Secret]:
        """Credentials to redact from anything this provider logs or raises."""
        return self.options.secrets()

    def drain_idle(self, *, wait: float = 2.0) -> None:
        """Close idle connections and wait for the provider's server to close its side.

        Called by cluster-wide connection limits before a connection slot goes to another
        worker (:class:`~smsbridge.limits.SharedLimitBoard`). The clients made by
        :meth:`http_client` are drained; a provider with connections of its own
        overrides this.

        Args:
            wait: The longest wait, in seconds, per client.
        """
        for client in getattr(self, "_http_clients", ()):
            client.drain_idle(wait=wait)

    def close(self) -> None:
        """Release connections (every client made by :meth:`http_client`). Safe to call
        twice."""
        for client in getattr(self, "_http_clients", ()):
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.options!r}>"
