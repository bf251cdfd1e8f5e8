"""One exception hierarchy for everything smsbridge raises.

The router decides what to do from two facts carried by every error, never from the
class name or the message text:

* ``scope``: how far the failure reaches. ``REQUEST`` means the input itself is bad and
  nothing was sent; ``RECIPIENT`` means this number only; ``PROVIDER`` means the account,
  the credit or the service (another provider may succeed).
* ``kind``: ``TRANSIENT`` when trying again later may succeed, ``PERMANENT`` when it
  will not.

Per-recipient outcomes of a send are data (:class:`smsbridge.SendResult`); exceptions are
for failures of a whole request.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = [
    "ConfigurationError",
    "ErrorInfo",
    "InvalidMessageError",
    "InvalidNumberError",
    "Kind",
    "MalformedResponseError",
    "MessageNotFoundError",
    "ProviderError",
    "Scope",
    "SmsBridgeError",
    "TemplateError",
    "TransportError",
    "UnknownOutcomeError",
    "UnsupportedOperationError",
]


class Scope(enum.Enum):
    """How far a failure reaches."""

    REQUEST = "request"
    """The request itself is wrong; nothing was sent and nothing else will take it."""
    RECIPIENT = "recipient"
    """This recipient only; the rest of a batch is unaffected."""
    PROVIDER = "provider"
    """The provider (account, credit, outage): another provider may succeed."""


class Kind(enum.Enum):
    """Whether trying again may help."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"


@attrs.frozen(slots=True)
class ErrorInfo:
    """What went wrong for one recipient, as data.

    Args:
        code: The provider's raw code (``"105"``, ``"E200028"``) or an smsbridge code
            such as ``"invalid-number"`` when the failure was found before sending.
        text: A human description. Never contains credentials.
        scope: How far the failure reaches.
        kind: Whether trying again may help.
    """

    code: str | None
    text: str
    scope: Scope = attrs.field(kw_only=True)
    kind: Kind = attrs.field(kw_only=True)

    @property
    def transient(self) -> bool:
        """True when a later attempt may succeed."""
        return self.kind is Kind.TRANSIENT


class SmsBridgeError(Exception):
    """Root of every error smsbridge raises.

    Args:
        message: Human description. Callers must not put secrets in it.
        scope: How far the failure reaches.
        kind: Whether trying again may help.
        code: The provider's raw code, when a provider gave one.
        provider: The provider's registered name, when one was involved.
        provider_text: The provider's own description of the error.
        retry_after: Seconds the provider asked us to wait before trying again.
    """

    default_scope: Scope = Scope.REQUEST
    default_kind: Kind = Kind.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        scope: Scope | None = None,
        kind: Kind | None = None,
        code: str | None = None,
        provider: str | None = None,
        provider_text: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.scope = scope if scope is not None else self.default_scope
        self.kind = kind if kind is not None else self.default_kind
        self.code = code
        self.provider = provider
        self.provider_text = provider_text
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when a later attempt may succeed."""
        return self.kind is Kind.TRANSIENT

    @property
    def outcome_unknown(self) -> bool:
        """True when the request may have been acted upon although no answer came back."""
        return False

    def info(self) -> ErrorInfo:
        """This error as per-recipient data for a :class:`~smsbridge.SendResult`."""
        return ErrorInfo(self.code, self.message, scope=self.scope, kind=self.kind)

    def __str__(self) -> str:
        where = f"[{self.provider}] " if self.provider else ""
        code = f" (code {self.code})" if self.code else ""
        return f"{where}{self.message}{code}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, scope={self.scope.value}, "
            f"kind={self.kind.value}, code={self.code!r}, provider={self.provider!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword-only attributes through pickling (multiprocessing workers).
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[SmsBridgeError], message: str, state: dict[str, Any]) -> SmsBridgeError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class InvalidMessageError(SmsBridgeError, ValueError):
    """The message or batch is malformed; it was never sent.

    Args:
        message: What is wrong.
        field: The name of the offending field (``"body"``, ``"to"``, ``"sender"``...).
        value: The offending value, already made safe to show (numbers are not secret to
            their sender, but credentials never reach here).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        scope: Scope | None = None,
        kind: Kind | None = None,
        code: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, scope=scope, kind=kind, code=code, provider=provider)
        self.field = field
        self.value = value


class InvalidNumberError(InvalidMessageError):
    """A recipient number is not a possible phone number. Only that recipient fails."""

    default_scope = Scope.RECIPIENT


class TemplateError(InvalidMessageError):
    """A template cannot be rendered for a recipient (missing or invalid variable).

    Args:
        variable: The placeholder name that could not be filled.
        recipient: The recipient it was rendered for, if known.
    """

    default_scope = Scope.RECIPIENT

    def __init__(
        self,
        message: str,
        *,
        variable: str | None = None,
        recipient: str | None = None,
        field: str | None = "variables",
        value: object = None,
        scope: Scope | None = None,
        code: str | None = "template",
    ) -> None:
        super().__init__(message, field=field, value=value, scope=scope, code=code)
        self.variable = variable
        self.recipient = recipient


class ConfigurationError(SmsBridgeError):
    """smsbridge or a provider is configured wrongly (bad option, missing credential)."""


class UnsupportedOperationError(SmsBridgeError):
    """The provider does not offer this operation (see its ``capabilities``)."""

    def __init__(self, operation: str, *, provider: str | None = None) -> None:
        super().__init__(
            f"{provider or 'this provider'} does not support {operation}",
            provider=provider,
        )
        self.operation = operation


class ProviderError(SmsBridgeError):
    """The provider answered and refused the request; ``code`` says why.

    Its scope and kind come from the provider's code table, so the router can act on it
    without knowing the provider.
    """

    default_scope = Scope.PROVIDER


class MessageNotFoundError(ProviderError):
    """The provider does not know the message asked about (by id or client reference).

    After an unknown outcome this is good news: the provider never took the message, so
    sending it again cannot duplicate it.
    """

    default_scope = Scope.RECIPIENT


class TransportError(SmsBridgeError):
    """The request could not be delivered to the provider (refused, DNS, TLS, reset
    before sending). Nothing was accepted, so failing over is safe."""

    default_scope = Scope.PROVIDER
    default_kind = Kind.TRANSIENT


class UnknownOutcomeError(TransportError):
    """The request left but no usable answer came back (read timeout, reset after
    sending, garbage body). The provider may have accepted it: reconcile before resending.
    """

    @property
    def outcome_unknown(self) -> bool:
        return True


class MalformedResponseError(UnknownOutcomeError):
    """The provider's answer could not be parsed.

    Args:
        excerpt: A short, redacted excerpt of the offending body for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        excerpt: str = "",
        provider: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, code=code)
        self.excerpt = excerpt
