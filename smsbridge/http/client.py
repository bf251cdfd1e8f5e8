"""The client side of :mod:`smsbridge.http`: one urllib3 pool per provider, safe defaults."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json as jsonlib
import logging
import math
import socket
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Self
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import ReadTimeoutError

from smsbridge.credentials import Redactor, Secret
from smsbridge.errors import ConfigurationError, Kind
from smsbridge.http.connection import (
    MarkingHTTPConnectionPool,
    MarkingHTTPSConnectionPool,
    request_state,
)
from smsbridge.http.errors import BodyTooLarge, DeadlineExceeded, translate
from smsbridge.http.redaction import redact_query
from smsbridge.http.response import HttpResponse

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "FieldValue",
    "Fields",
    "HttpClient",
    "is_loopback_host",
]

#: Seconds to wait for each read; 15 s as provider integrations commonly use.
DEFAULT_READ_TIMEOUT = 15.0
#: Seconds to wait for the TCP (and TLS) connection.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Seconds a whole request may take, so a server dripping bytes cannot hang a sender.
DEFAULT_TOTAL_TIMEOUT = 60.0
#: Largest response body read; provider answers are small, garbage can be huge.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

_REDACTORS_KEPT = 16
"""Per-request redactors a client keeps (one per set of request credentials)."""

#: A form or query value; a Secret is revealed only on the wire.
FieldValue = str | int | Secret
#: Form or query fields, as a mapping or as ordered pairs (repeated names allowed).
Fields = Mapping[str, FieldValue] | Sequence[tuple[str, FieldValue]]

logger = logging.getLogger("smsbridge.http")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CHUNK = 64 * 1024
# The router owns retries; an explicit object also spares a log line per request.
_NO_RETRIES = urllib3.Retry(False, redirect=False)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1, where plain HTTP cannot be intercepted."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpClient:
    """A provider's connection pool to one base URL.

    Args:
        base_url: ``https://host[:port][/prefix]``; request paths are appended to it.
        provider: The provider's name, used in errors and logs.
        secrets: Credentials to hide (every spelling :func:`~smsbridge.credentials.secret_forms`
            lists) in logs, errors, reprs and in every response body and header before
            anyone reads them. :class:`~smsbridge.Secret` values passed to
            :meth:`request` are added for that request automatically.
        timeout: Read timeout per socket read in seconds, or a full ``urllib3.Timeout``.
        connect_timeout: Connect timeout when ``timeout`` is a number.
        total_timeout: Deadline from sending to the last body byte, so a server dripping
            bytes cannot hold a request forever (waiting for a free pooled connection counts
            too; the status line and headers are bounded by the read timeout per read).
        pool_size: Most connections open at once; callers beyond it wait for one.
        ca_certs: A CA bundle to trust instead of the system store.
        verify: Verify TLS certificates and host names.
        allow_insecure: Permit ``verify=False`` or plain HTTP to a non-loopback host.
        user_agent: The ``User-Agent`` header.
        max_body_bytes: Largest response body accepted.

    Raises:
        ConfigurationError: The URL or options are invalid or insecure.
    """

    def __init__(
        self,
        *,
        base_url: str,
        provider: str,
        secrets: Iterable[Secret | str] = (),
        timeout: float | urllib3.Timeout = DEFAULT_READ_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        pool_size: int = 4,
        ca_certs: str | None = None,
        verify: bool = True,
        allow_insecure: bool = False,
        user_agent: str = "smsbridge",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._secrets = tuple(secrets)
        self._redact = Redactor(self._secrets)
        # Redactors for requests that carry secrets of their own (credentials as form
        # fields), by those values: building one costs more than the request itself.
        self._redactors: dict[tuple[str, ...], Redactor] = {}
        self.provider = provider
        shown = self._redact(redact_query(base_url))
        try:
            url = urllib3.util.parse_url(base_url)
        except urllib3.exceptions.LocationParseError:
            raise ConfigurationError(f"base_url {shown!r} is not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(f"base_url must be an http(s) URL, not {shown!r}")
        if url.auth:
            raise ConfigurationError("base_url must not carry credentials; use headers")
        if not allow_insecure:
            if url.scheme == "http" and not is_loopback_host(url.host):
                raise ConfigurationError(
                    f"{provider}: plain http to {url.host} would expose credentials; "
                    "use https or pass allow_insecure=True"
                )
            if not verify:
                raise ConfigurationError(
                    f"{provider}: verify=False disables TLS checks; pass allow_insecure=True"
                )
        if pool_size < 1 or max_body_bytes < 1 or total_timeout <= 0:
            raise ConfigurationError("pool_size, max_body_bytes and total_timeout must be > 0")
        self.base_url = base_url
        self._prefix = (url.path or "").rstrip("/")
        self._origin = f"{url.scheme}://{url.netloc}"
        self._total_timeout = total_timeout
        self._max_body = max_body_bytes
        if isinstance(timeout, urllib3.Timeout):
            self._timeout = timeout
            read = timeout.read_timeout
            self._read_limit = read if isinstance(read, int | float) else total_timeout
        else:
            self._timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)
            self._read_limit = timeout
        try:
            context = ssl.create_default_context(cafile=ca_certs)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"{provider}: cannot load ca_certs: {exc}") from None
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._manager = urllib3.PoolManager(
            num_pools=2,
            maxsize=pool_size,
            block=True,
            retries=False,
            timeout=self._timeout,
            ssl_context=context,
            cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
        )
        self._manager.pool_classes_by_scheme = {
            "http": MarkingHTTPConnectionPool,
            "https": MarkingHTTPSConnectionPool,
        }
        self._user_agent = user_agent
        self._closed = False
        self._shown_url = shown
        logger.debug("%s: pool of %d to %s", provider, pool_size, shown)

    def __repr__(self) -> str:
        return f"HttpClient(provider={self.provider!r}, base_url={self._shown_url!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        fields: Fields | None = None,
        body: bytes | None = None,
        json: object | None = None,
        headers: Mapping[str, str | Secret] | None = None,
        query: Fields | None = None,
        sent_marker: bool = True,
    ) -> HttpResponse:
        """Send one request and read the whole response.

        Args:
            method: ``GET``, ``POST``...
            path: Appended to the base URL's path; may carry a query string.
            fields: Form fields: the query string for GET/DELETE, a form body otherwise.
            body: A raw body (set ``Content-Type`` in ``headers``).
            json: A value sent as a JSON body.
            headers: Extra headers; :class:`Secret` values are revealed and redacted.
            query: Parameters added to the query string whatever the method.
            sent_marker: True for requests with effects (a send): failures after the
                request left raise :class:`UnknownOutcomeError`. False for reads (status,
                balance), where an unanswered request changed nothing and every failure is
                a plain, retryable :class:`TransportError`.

        Returns:
            The response, whatever its status (see :func:`raise_for_transport_status`),
            with the client's and this request's secrets already redacted from its body
            and headers.

        Raises:
            TransportError: The request did not leave, or (``sent_marker=False``) no answer.
            UnknownOutcomeError: The request left; no complete answer came back.
            MalformedResponseError: The body exceeded ``max_body_bytes``.
            ConfigurationError: The client is closed.
            ValueError: More than one body was given.
        """
        if self._closed:
            raise ConfigurationError(f"{self.provider}: HTTP client is closed", kind=Kind.PERMANENT)
        method = method.upper()
        found_secrets: list[Secret] = []
        send_headers = {k: self._wire(v, found_secrets) for k, v in (headers or {}).items()}
        params = [*self._pairs(query, found_secrets)]
        if fields is not None and method not in _BODY_METHODS:
            params.extend(self._pairs(fields, found_secrets))
            fields = None
        if sum(x is not None for x in (fields, body, json)) > 1:
            raise ValueError("give at most one of fields, body and json")
        content_type = None
        if fields is not None:
            body = urlencode(list(self._pairs(fields, found_secrets))).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            content_type = "application/json"
        given = {k.lower() for k in send_headers}
        if content_type and "content-type" not in given:
            send_headers["Content-Type"] = content_type
        if "user-agent" not in given:
            send_headers["User-Agent"] = self._user_agent
        target = f"{self._prefix}/{path.lstrip('/')}"
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        redact = self._redactor_for(found_secrets) if found_secrets else self._redact
        shown = redact(redact_query(target))
        where = f"{method} {shown if len(shown) <= 160 else shown[:160] + '...'}"
        request_state.redactor, request_state.sent = redact, False
        started = time.monotonic()
        try:
            status, resp_headers, data = self._exchange(method, target, body, send_headers)
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException,
                BodyTooLarge, DeadlineExceeded) as exc:  # fmt: skip
            error = translate(
                exc,
                sent=bool(request_state.sent),
                effects=sent_marker,
                where=where,
                provider=self.provider,
                redact=redact,
                total_timeout=self._total_timeout,
            )
            logger.debug("%s failed after %.3fs: %s", where, time.monotonic() - started, error)
            raise error from None
        finally:
            request_state.redactor = None
        elapsed = time.monotonic() - started
        # The one place every answer passes: a provider that echoes the request (error
        # texts quoting ``password=...``) must not carry a credential into results,
        # exceptions, logs or the outbox, and no parser can forget to redact it.
        data = redact.redact_bytes(data)
        resp_headers = {name: redact(value) for name, value in resp_headers.items()}
        logger.debug(
            "%s -> %d in %.3fs (sent %d bytes, received %d bytes)",
            where, status, elapsed, len(body or b""), len(data),
        )  # fmt: skip
        return HttpResponse(
            status,
            resp_headers,
            body=data,
            elapsed=elapsed,
            url_path=shown,
            provider=self.provider,
            redactor=redact,
        )

    def _redactor_for(self, found: Sequence[Secret]) -> Redactor:
        key = tuple(sorted({secret.reveal() for secret in found}))
        redactor = self._redactors.get(key)
        if redactor is None:
            if len(self._redactors) >= _REDACTORS_KEPT:
                self._redactors.clear()
            redactor = self._redactors[key] = Redactor([*self._secrets, *found])
        return redactor

    def _exchange(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + self._total_timeout
        pool = self._manager.connection_from_url(self._origin)
        response = pool.urlopen(
            method,
            target,
            body=body,
            headers=headers,
            retries=_NO_RETRIES,
            redirect=False,
            timeout=self._timeout,
            pool_timeout=math.ceil(self._total_timeout),
            preload_content=False,
            decode_content=True,
        )
        clean = False
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_body:
                raise BodyTooLarge(f"response declares {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeadlineExceeded
                sock = getattr(response.connection, "sock", None)
                if sock is not None:
                    sock.settimeout(min(self._read_limit, remaining))
                try:
                    chunk = response.read1(_CHUNK)
                except ReadTimeoutError:
                    if time.monotonic() >= deadline - 0.01:
                        raise DeadlineExceeded from None
                    raise
                if not chunk:
                    break
                size += len(chunk)
                if size > self._max_body:
                    raise BodyTooLarge(f"response body exceeds {self._max_body} bytes")
                chunks.append(chunk)
            clean = True
            merged = dict(response.headers.itermerged())
            return response.status, merged, b"".join(chunks)
        finally:
            if not clean:
                # A half-read connection cannot be reused; closing it before handing it
                # back keeps the pool's capacity (block=True would otherwise starve).
                response.close()
            response.release_conn()

    @staticmethod
    def _wire(value: FieldValue, found: list[Secret]) -> str:
        if isinstance(value, Secret):
            found.append(value)
            return value.reveal()
        return str(value)

    def _pairs(self, items: Fields | None, found: list[Secret]) -> Iterable[tuple[str, str]]:
        pairs = items.items() if isinstance(items, Mapping) else (items or ())
        return [(name, self._wire(value, found)) for name, value in pairs]

    def drain_idle(self, *, wait: float = 2.0) -> None:
        """Close the idle pooled connections and wait until the server has closed its side.

        A provider allowing one connection per account counts a connection until *it*
        has closed it, so a worker handing the account's slot to another must not leave
        its idle keep-alive connection behind. Each idle socket is half-closed
        (``SHUT_WR``) and read until the server's close arrives, at most ``wait`` seconds
        in all; then the pools are emptied. The client stays usable: the next request
        opens a new connection.

        Args:
            wait: The longest wait, in seconds, for the server to close its sides.
        """
        sockets: list[socket.socket] = []
        for key in list(self._manager.pools.keys()):
            pool = self._manager.pools.get(key)
            # urllib3 keeps a pool's idle connections in a LifoQueue (``pool.pool``).
            idle = getattr(pool, "pool", None)
            for conn in list(getattr(idle, "queue", ())):
                sock = getattr(conn, "sock", None)
                if isinstance(sock, socket.socket):
                    sockets.append(sock)
        deadline = time.monotonic() + wait
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
                while (left := deadline - time.monotonic()) > 0:
                    sock.settimeout(left)
                    if not sock.recv(4096):
                        break
        self._manager.clear()

    def close(self) -> None:
        """Close every pooled connection. Further requests raise ``ConfigurationError``."""
        self._closed = True
        self._manager.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
