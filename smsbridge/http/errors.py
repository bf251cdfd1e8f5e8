"""Transport error translation for :mod:`smsbridge.http`: the only place it happens."""

from __future__ import annotations

import ssl

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)

from smsbridge.credentials import Redactor
from smsbridge.errors import (
    Kind,
    MalformedResponseError,
    SmsBridgeError,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.http.redaction import redact_query

__all__ = ["BodyTooLarge", "DeadlineExceeded", "translate"]


class BodyTooLarge(Exception):
    """The response body exceeded the client's ``max_body_bytes``."""


class DeadlineExceeded(Exception):
    """No complete response arrived within the client's ``total_timeout``."""


def _find_cause(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: list[BaseException] = [exc]
    for item in seen:
        if isinstance(item, kinds):
            return True
        nested = [*item.args, item.__cause__, item.__context__]
        seen.extend(n for n in nested if isinstance(n, BaseException) and n not in seen)
        if len(seen) > 16:
            break
    return False


# Failures that happen before any byte of the request is written, whatever sent_marker says.
_BEFORE_SENDING: tuple[tuple[type[Exception], str], ...] = (
    (EmptyPoolError, "no free connection"),
    (NameResolutionError, "could not resolve host"),
    (NewConnectionError, "could not connect"),
    (ConnectTimeoutError, "connect timed out"),
)


def translate(
    exc: BaseException,
    *,
    sent: bool,
    effects: bool,
    where: str,
    provider: str,
    redact: Redactor,
    total_timeout: float,
) -> SmsBridgeError:
    """Map any transport-level exception to an smsbridge error: the only place that does."""
    if isinstance(exc, BodyTooLarge):
        return MalformedResponseError(f"{where}: {exc}", provider=provider)
    detail = ""
    if not isinstance(exc, DeadlineExceeded):
        detail = f" ({redact(redact_query(f'{type(exc).__name__}: {exc}'))})"

    def transport(what: str, kind: Kind = Kind.TRANSIENT) -> TransportError:
        return TransportError(f"{where}: {what}{detail}", kind=kind, provider=provider)

    if _find_cause(exc, (ssl.SSLCertVerificationError, ssl.CertificateError)):
        return transport("TLS certificate verification failed", Kind.PERMANENT)
    for kinds, what in _BEFORE_SENDING:
        if isinstance(exc, kinds):
            return transport(what)
    if not sent:
        handshake = isinstance(exc, urllib3.exceptions.SSLError)
        return transport("TLS handshake failed" if handshake else "request not sent")
    if isinstance(exc, DeadlineExceeded):
        what = f"no complete response within {total_timeout:g}s"
    elif isinstance(exc, ReadTimeoutError):
        what = "read timed out"
    else:
        what = "connection broken"
    if not effects:
        return transport(what)
    return UnknownOutcomeError(
        f"{where}: {what} after the request was sent; its outcome is unknown{detail}",
        provider=provider,
    )
