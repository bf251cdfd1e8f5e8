"""Authentication of delivery-report callbacks.

A callback URL is reachable by anyone who learns it, and a forged report could mark an
undelivered OTP as delivered. Every route therefore needs an :class:`Auth` unless the
deployment says otherwise with :class:`Unauthenticated`. Secrets are compared with
:func:`hmac.compare_digest` so that timing tells nothing about how much of a guess was right.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import secrets
from collections.abc import Mapping
from typing import ClassVar, Protocol, runtime_checkable

import attrs

from smsbridge.credentials import Secret, secret_converter

__all__ = [
    "Auth",
    "BasicAuth",
    "TokenAuth",
    "Unauthenticated",
    "Verdict",
    "new_token",
]


class Verdict(enum.Enum):
    """What an :class:`Auth` decided about a request."""

    OK = "ok"
    """Authenticated."""
    MISSING = "missing"
    """No credentials at all: answered 401 with a challenge."""
    WRONG = "wrong"
    """Credentials given and wrong: answered 403."""


@runtime_checkable
class Auth(Protocol):
    """Decides whether a callback request comes from the provider.

    An implementation may also set a class attribute ``identifies_tenant = True`` when a
    request it accepts can only come from messages this deployment sent (a secret it
    handed out with them), so that a report for a message the outbox does not know yet
    may be kept for later; without it such reports are refused (see
    :meth:`~smsbridge.reports.ReportReceiver.handle`).
    """

    def check(self, *, token: str | None, headers: Mapping[str, str]) -> Verdict:
        """Judge one request.

        Args:
            token: The path segment after the provider name, or ``None``.
            headers: Request headers with lower-case names.

        Returns:
            The verdict.
        """
        ...

    @property
    def challenge(self) -> str | None:
        """The ``WWW-Authenticate`` value sent with a 401, if any."""
        ...


def _same(given: str, expected: Secret) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.reveal().encode("utf-8"))


def new_token() -> str:
    """A fresh random path token (256 bits, URL-safe) for :class:`TokenAuth`.

    Returns:
        The token text.
    """
    return secrets.token_urlsafe(32)


@attrs.frozen(slots=True)
class TokenAuth:
    """A secret token as the last path segment: ``/huawei/<token>``.

    For providers that cannot authenticate their pushes. The URL is the secret, so the
    receiver never logs paths; keep it out of proxies' access logs too.

    Args:
        token: The token (at least 16 characters; see :func:`new_token`).
    """

    token: Secret = attrs.field(converter=secret_converter)
    identifies_tenant: ClassVar[bool] = True
    """The token is this deployment's own: only its messages carry the URL."""

    def __attrs_post_init__(self) -> None:
        if len(self.token.reveal()) < 16:
            raise ValueError("a callback token needs at least 16 characters")

    @property
    def challenge(self) -> str | None:
        """No challenge: a token cannot be prompted for."""
        return None

    def check(self, *, token: str | None, headers: Mapping[str, str]) -> Verdict:
        """OK when the path token matches.

        Args:
            token: The path token.
            headers: Unused.

        Returns:
            The verdict.
        """
        if not token:
            return Verdict.MISSING
        return Verdict.OK if _same(token, self.token) else Verdict.WRONG


@attrs.frozen(slots=True)
class BasicAuth:
    """HTTP Basic credentials, as Clickatell sends when its callback username and
    password are set in the account.

    Args:
        username: The expected user name.
        password: The expected password.
        realm: The realm named in the 401 challenge.
    """

    username: Secret = attrs.field(converter=secret_converter)
    password: Secret = attrs.field(converter=secret_converter)
    realm: str = "smsbridge delivery reports"
    identifies_tenant: ClassVar[bool] = False
    """One login may serve several API products of an account: it names no tenant."""

    @property
    def challenge(self) -> str | None:
        """``Basic realm="..."``."""
        return f'Basic realm="{self.realm}"'

    def check(self, *, token: str | None, headers: Mapping[str, str]) -> Verdict:
        """OK when the ``Authorization`` header carries the expected pair.

        Args:
            token: Must be absent: Basic routes have no token segment.
            headers: Request headers with lower-case names.

        Returns:
            The verdict.
        """
        header = headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            return Verdict.MISSING
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return Verdict.WRONG
        user, sep, password = decoded.partition(":")
        # Both comparisons always run, so the time taken does not reveal which one failed.
        user_ok = _same(user, self.username)
        password_ok = _same(password, self.password)
        return Verdict.OK if sep and user_ok and password_ok and token is None else Verdict.WRONG


@attrs.frozen(slots=True)
class Unauthenticated:
    """Accept every request: only for a receiver behind something that authenticates
    (a VPN, an authenticating proxy). It must be chosen explicitly."""

    identifies_tenant: ClassVar[bool] = False
    """Anybody may call: nothing ties a request to this deployment."""

    @property
    def challenge(self) -> str | None:
        """No challenge."""
        return None

    def check(self, *, token: str | None, headers: Mapping[str, str]) -> Verdict:
        """Always OK, as long as no token segment is given.

        Args:
            token: Must be absent.
            headers: Unused.

        Returns:
            The verdict.
        """
        return Verdict.OK if token is None else Verdict.WRONG
