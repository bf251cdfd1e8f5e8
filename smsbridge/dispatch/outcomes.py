"""The errors the dispatcher records on its own, for what no provider answered."""

from __future__ import annotations

from smsbridge.errors import ErrorInfo, Kind, Scope

__all__ = [
    "INTERRUPTED",
    "NOT_REBUILT",
    "NO_CARRIER",
    "NO_PROVIDER",
    "no_result_error",
]


def no_result_error() -> ErrorInfo:
    """The error recorded when a provider's answer left a recipient out."""
    return ErrorInfo(
        "no-result",
        "the provider returned no result for the recipient",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
    )


NO_PROVIDER = ErrorInfo(
    "no-provider",
    "no provider may take the message now (breakers open)",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)

NO_CARRIER = ErrorInfo(
    "no-provider",
    "no configured provider can carry this message (template-only platforms need an "
    "approved template, scheduling needs a provider that schedules)",
    scope=Scope.REQUEST,
    kind=Kind.PERMANENT,
)

INTERRUPTED = ErrorInfo(
    "interrupted",
    "the attempt was interrupted before its outcome was recorded",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)

NOT_REBUILT = ErrorInfo(
    "chunk-changed",
    "the stored request could not be rebuilt byte for byte; not resending",
    scope=Scope.PROVIDER,
    kind=Kind.PERMANENT,
)
