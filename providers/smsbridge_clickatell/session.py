"""Authenticated calls to Clickatell's legacy HTTP API: credentials or a shared session.

In ``session`` mode one session id, obtained with ``auth``, serves every thread; it is
renewed before use once idle for ``session_idle_limit``, and renewed and the call repeated
once when the gateway answers error 003 (session expired). In ``per_call`` mode the
credentials travel in every request body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from smsbridge.sdk import HttpClient, Secret, raise_for_transport_status

from . import protocol as p
from .codes import SESSION_EXPIRED

if TYPE_CHECKING:
    from .provider import ClickatellOptions

__all__ = ["ClickatellSession"]


class ClickatellSession:
    """Sends commands with authentication attached, keeping the session alive.

    Args:
        http: The provider's HTTP client.
        options: The provider's options (credentials, ``auth_mode``, idle limits).
        clock: Seconds, monotonic; decides when a session is idle.
    """

    def __init__(
        self, http: HttpClient, options: ClickatellOptions, clock: Callable[[], float]
    ) -> None:
        self._http = http
        self.options = options
        self._clock = clock
        self._lock = threading.Lock()
        self._session: Secret | None = None
        self._last_used = 0.0

    def _credentials(self) -> list[tuple[str, str | int | Secret]]:
        o = self.options
        return [("api_id", o.api_id), ("user", o.user), ("password", o.password)]

    def _authenticate(self) -> Secret:
        response = self._http.request(
            "POST", "/http/auth", fields=self._credentials(), sent_marker=False
        )
        raise_for_transport_status(response)
        session = p.parse_ok(response.text(), "auth")
        if not session.isalnum():
            raise p.malformed("auth", "OK: <no session id>")
        self._session, self._last_used = Secret(session), self._clock()
        return self._session

    def _auth_fields(self, *, renew: bool) -> list[tuple[str, str | int | Secret]]:
        if self.options.auth_mode == "per_call":
            return self._credentials()
        with self._lock:
            session = self._session
            idle = self._clock() - self._last_used
            if session is None or renew or idle >= self.options.session_idle_limit:
                session = self._authenticate()
        return [("session_id", session)]

    def _forget(self, session: object) -> None:
        with self._lock:
            if self._session is session:
                self._session = None

    def call(self, path: str, fields: list[tuple[str, str]], *, effects: bool = False) -> str:
        """POST one command with authentication and return the response text.

        A session that the gateway says has expired (error 003) is renewed and the
        command repeated once: 003 is checked before anything else, so nothing was done.

        Raises:
            ProviderError: For a non-2xx status.
            TransportError: The request did not get through (``UnknownOutcomeError`` when
                it may have been processed and ``effects`` is set).
        """
        for attempt in (0, 1):
            auth = self._auth_fields(renew=attempt == 1)
            response = self._http.request(
                "POST", path, fields=[*auth, *fields], sent_marker=effects
            )
            raise_for_transport_status(response)
            text = response.text()
            if (
                attempt == 0
                and self.options.auth_mode == "session"
                and text.lstrip().startswith("ERR")
                and p.error_code(text) == SESSION_EXPIRED
            ):
                self._forget(auth[0][1])
                continue
            self._last_used = self._clock()
            return text
        raise AssertionError("unreachable")  # pragma: no cover

    def keep_alive(self) -> bool:
        """Ping the gateway when the session has been idle for ``ping_interval``.

        Returns:
            True when a ping was sent.
        """
        if self.options.auth_mode != "session" or self._session is None:
            return False
        if self._clock() - self._last_used < self.options.ping_interval:
            return False
        p.parse_ok(self.call("/http/ping", []), "ping")
        return True
