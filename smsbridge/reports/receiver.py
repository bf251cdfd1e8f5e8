"""The delivery-report receiver: a WSGI application with one route per provider.

Mount it in any WSGI framework (Flask, Django, ``wsgiref``) or run it with
:func:`smsbridge.reports.serve`. Routes, relative to where it is mounted:

* ``/{provider}/{token}``: a provider authenticated by a path token (:class:`TokenAuth`);
* ``/{provider}``: a provider authenticated by HTTP Basic (:class:`BasicAuth`), or one
  explicitly left :class:`Unauthenticated`.

Answers: 200 once the reports are recorded; 401 (no credentials) or 403 (wrong ones)
before the body is read; 404 for an unknown provider; 405 for methods other than GET and
POST; 413 for a body over the cap; 408 for a body that did not arrive in time; 400 for a
request the provider's parser refuses or a body shorter than announced; 409 for a report
about a message the outbox does not know that nothing ties to this deployment (see
:meth:`ReportReceiver.handle`); 503 when the outbox is busy, so that the provider
retries. Nothing is recorded unless the answer is 200. Paths are never logged: they
carry tokens. Parsed reports are redacted of the provider's and the route's secrets
before anything stores, logs or announces them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from smsbridge.credentials import Redactor
from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.outbox import ItemNotFoundError, OutboxError, ReportStore
from smsbridge.provider import Provider
from smsbridge.reports.auth import Auth, Verdict
from smsbridge.reports.combine import PartCombiner
from smsbridge.reports.redact import auth_secrets, redact_report
from smsbridge.results import DeliveryReport

if TYPE_CHECKING:
    from smsbridge.plugins import PluginManager

__all__ = ["DEFAULT_MAX_BODY", "REASONS", "Answer", "ReportReceiver"]

logger = logging.getLogger("smsbridge.reports")

#: Largest callback body read (bytes); real reports are a few hundred bytes.
DEFAULT_MAX_BODY = 64 * 1024
_MAX_FIELDS = 100
_METHODS = ("GET", "POST")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Answer = tuple[int, list[tuple[str, str]], bytes]
"""An answer: status code, extra headers, body."""
_BODY_REFUSALS = {
    413: ("body too large or length unreadable", b"too large\n"),
    408: ("body not received in time", b"request timeout\n"),
    400: ("body shorter than announced", b"bad request\n"),
}
#: The status line for each answer the receiver gives.
REASONS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    408: "408 Request Timeout",
    409: "409 Conflict",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


class ReportReceiver:
    """A WSGI application turning provider callbacks into recorded delivery reports.

    Args:
        providers: The providers whose callbacks it accepts, routed by ``name``.
        store: The outbox the reports are recorded in; ``None`` only passes them to
            hooks (and :attr:`on_report`).
        auth: Provider name to its :class:`Auth`. Every provider needs one: pass
            :class:`Unauthenticated` to accept unauthenticated callbacks knowingly.
        plugin_manager: Whose ``smsbridge_delivery_report`` hook sees each report.
        max_body_bytes: Larger bodies are refused with 413 without being read.
        clock: Seconds since the epoch, for the outbox's ``now``.
        combiner: Combines per-part reports (a fresh one by default).

    Raises:
        ConfigurationError: A provider without an auth entry, an auth entry for no
            provider, or two providers with one name.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        store: ReportStore | None,
        auth: Mapping[str, Auth],
        plugin_manager: PluginManager | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        clock: Callable[[], float] = time.time,
        combiner: PartCombiner | None = None,
    ) -> None:
        self._providers: dict[str, Provider] = {}
        for provider in providers:
            if provider.name in self._providers:
                raise ConfigurationError(f"two providers named {provider.name!r}")
            self._providers[provider.name] = provider
        missing = sorted(set(self._providers) - set(auth))
        if missing:
            raise ConfigurationError(
                f"delivery-report routes need authentication: no auth for {', '.join(missing)} "
                "(pass TokenAuth, BasicAuth, or Unauthenticated() to opt out)"
            )
        extra = sorted(set(auth) - set(self._providers))
        if extra:
            raise ConfigurationError(f"auth given for unknown provider(s) {', '.join(extra)}")
        if max_body_bytes < 1:
            raise ConfigurationError("max_body_bytes must be positive")
        self._auth = dict(auth)
        self._redactors = {
            name: Redactor([*provider.secrets(), *auth_secrets(self._auth[name])])
            for name, provider in self._providers.items()
        }
        self._store = store
        self._pm = plugin_manager
        self._max_body = max_body_bytes
        self._clock = clock
        self._combiner = combiner or PartCombiner()
        self.on_report: Callable[[DeliveryReport], None] | None = None
        """Called with every recorded report, after the hook (tests and simple apps)."""

    def __repr__(self) -> str:
        return f"<ReportReceiver {', '.join(sorted(self._providers))}>"

    @property
    def provider_names(self) -> tuple[str, ...]:
        """The routed provider names."""
        return tuple(sorted(self._providers))

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Serve one request (the WSGI entry point).

        Args:
            environ: The WSGI environment.
            start_response: The WSGI callable.

        Returns:
            The response body.
        """
        status, headers, body = self.handle(environ)
        headers = [*headers, ("Content-Type", "text/plain; charset=utf-8")]
        headers.append(("Content-Length", str(len(body))))
        start_response(REASONS[status], headers)
        return [body]

    def handle(self, environ: Mapping[str, Any]) -> Answer:
        """Decide the answer to one request.

        Authentication is decided from the path and headers alone, before a byte of the
        body is read. A report about a message the outbox does not hold (yet) is kept
        for later only when something ties it to this deployment: the report names the
        account and the provider checked it (:attr:`DeliveryReport.tenant_verified`,
        Clickatell's ``api_id``), or the route's authentication is this deployment's
        own (a :class:`TokenAuth` path token, handed out only with its own messages).
        Otherwise it is refused with 409 and nothing is stored: behind shared
        credentials (one Basic login for several API products) it may be anybody's.

        Args:
            environ: The WSGI environment.

        Returns:
            Status code, extra headers, and body.
        """
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        headers = _headers(environ)
        admitted = self.admit(str(environ.get("PATH_INFO", "")), method, headers)
        if not isinstance(admitted, str):
            return admitted
        body = self._read_body(environ)
        if isinstance(body, int):
            return self.refuse_body(admitted, body)
        return self.answer(admitted, method, str(environ.get("QUERY_STRING", "")), headers, body)

    # -- the steps every server shares (WSGI here, ASGI in smsbridge.reports.asgi) -------

    def admit(self, path: str, method: str, headers: Mapping[str, str]) -> str | Answer:
        """Route and authenticate a request from its path and headers, before its body.

        Args:
            path: The path relative to where the receiver is mounted.
            method: The HTTP method, upper-case.
            headers: Lower-case header names.

        Returns:
            The provider's name when the body should be read, or the answer (404,
            401/403, 405).
        """
        segments = [s for s in path.split("/") if s]
        if not 1 <= len(segments) <= 2 or segments[0] not in self._providers:
            return 404, [], b"not found\n"
        name, token = segments[0], (segments[1] if len(segments) == 2 else None)
        verdict = self._auth[name].check(token=token, headers=headers)
        if verdict is not Verdict.OK:
            logger.warning("refused %s callback: %s credentials", name, verdict.value)
            challenge = self._auth[name].challenge
            if verdict is Verdict.MISSING and challenge is not None:
                return 401, [("WWW-Authenticate", challenge)], b"authentication required\n"
            return (401 if verdict is Verdict.MISSING else 403), [], b"forbidden\n"
        if method not in _METHODS:
            return 405, [("Allow", ", ".join(_METHODS))], b"method not allowed\n"
        return name

    @property
    def max_body_bytes(self) -> int:
        """Largest body read; larger ones are answered 413."""
        return self._max_body

    def body_length(self, raw: str | None) -> int | None:
        """The announced ``Content-Length``, or None when it is unreadable or over the cap
        (answer 413 then); 0 when absent."""
        try:
            length = int(str(raw or "0").strip())
        except ValueError:
            return None
        return length if 0 <= length <= self._max_body else None

    def refuse_body(self, name: str, status: int) -> Answer:
        """The answer refusing a body: 413 (too large or unreadable length), 408 (not
        received in time), 400 (shorter than announced); logged without the request."""
        reason, answer = _BODY_REFUSALS[status]
        logger.warning("refused %s callback: %s", name, reason)
        return status, [], answer

    def answer(
        self, name: str, method: str, query_string: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        """Parse, record and announce an admitted request's reports (blocking: the
        outbox is written); the answer.

        Args:
            name: The provider, as :meth:`admit` returned it.
            method: The HTTP method, upper-case.
            query_string: The raw query string.
            headers: Lower-case header names (the ``Authorization`` header is dropped
                before the parser sees them).
            body: The whole body.
        """
        query = _query(query_string)
        if query is None:
            return 400, [], b"bad request\n"
        # Credentials are the receiver's business: the parser and raw never see them.
        visible = {k: v for k, v in headers.items() if k != "authorization"}
        return self._dispatch(name, method, query, visible, body)

    def _dispatch(
        self, name: str, method: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        provider = self._providers[name]
        try:
            reports = provider.parse_callback(
                method=method, query=query, headers=headers, body=body
            )
        except SmsBridgeError as exc:
            # The type and code only: a parser's message may quote the request.
            logger.warning(
                "unreadable %s callback (%s, code %s)", name, type(exc).__name__, exc.code
            )
            return 400, [], b"bad request\n"
        except Exception as exc:  # a parser bug must not leak the request into a traceback
            logger.error("%s callback parser failed with %s", name, type(exc).__name__)
            return 500, [], b"error\n"
        redact = self._redactors[name]
        reports = [redact_report(report, redact) for report in reports]
        route_identifies = getattr(self._auth[name], "identifies_tenant", False) is True
        try:
            for report in reports:
                self.record(report, park=route_identifies or report.tenant_verified)
        except ItemNotFoundError:
            logger.warning("refused %s report: unknown message and no tenant named", name)
            return 409, [], b"unknown message\n"
        except OutboxError as exc:
            logger.warning("could not record %s report (%s)", name, type(exc).__name__)
            return 503, [("Retry-After", "5")], b"busy, try again\n"
        return 200, [], b"OK\n"

    def record(self, report: DeliveryReport, *, park: bool = True) -> None:
        """Combine, store and announce one parsed report (also used by polling).

        Args:
            report: The report as the provider parsed it.
            park: Keep a report for a message the outbox does not hold yet, to apply
                when its submit result lands; when False such a report is refused.

        Raises:
            ItemNotFoundError: The message is unknown and ``park`` is False; the report
                was neither stored nor announced.
            OutboxError: The store failed; nothing later in the report's list was done.
        """
        for item in self._combiner.add(report):
            changed = False
            if self._store is not None:
                changed = self._store.record_report(item, now=self._clock(), park=park)
            logger.debug(
                "%s report %s (part %s/%s), %s",
                item.provider,
                item.status.value,
                item.part,
                item.parts,
                "applied" if changed else "stored",
            )
            self._announce(item)

    def _announce(self, report: DeliveryReport) -> None:
        # Hooks only observe: one that fails must not make the provider resend.
        try:
            if self._pm is not None:
                self._pm.hook.smsbridge_delivery_report(report=report)
            if self.on_report is not None:
                self.on_report(report)
        except Exception as exc:
            logger.error("a smsbridge_delivery_report hook failed with %s", type(exc).__name__)

    def _read_body(self, environ: Mapping[str, Any]) -> bytes | int:
        """The body, or the status refusing it: 413 (too large or unreadable length),
        408 (the server's deadline passed while reading), 400 (shorter than announced)."""
        length = self.body_length(environ.get("CONTENT_LENGTH"))
        if length is None:
            return 413
        if length == 0:
            return b""
        stream = environ["wsgi.input"]
        try:
            data = stream.read(length)
        except TimeoutError:
            return 408
        except OSError:
            return 400
        return data if isinstance(data, bytes) and len(data) == length else 400


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _query(text: str) -> dict[str, str] | None:
    try:
        try:
            pairs = parse_qsl(
                text, keep_blank_values=True, max_num_fields=_MAX_FIELDS, errors="strict"
            )
        except UnicodeDecodeError:
            # Not UTF-8: a sender using ISO-8859-1 as it declares (Clickatell's SOAP
            # callbacks). latin-1 keeps every octet as one character instead of U+FFFD.
            pairs = parse_qsl(
                text, keep_blank_values=True, max_num_fields=_MAX_FIELDS, encoding="latin-1"
            )
    except ValueError:
        return None
    query: dict[str, str] = {}
    for key, value in pairs:
        query.setdefault(key, value)
    return query
