"""The delivery-report receiver as an ASGI application, for FastAPI, Starlette and uvicorn.

:class:`AsgiReceiver` wraps a :class:`~smsbridge.reports.ReportReceiver` and answers
exactly as it does over WSGI: the same routes, the same authentication before a byte of
the body is read, the same body cap, parsers, redaction, outbox rules and answers (see
:mod:`smsbridge.reports.receiver`). What a WSGI server gives the receiver, it does itself:

* **one deadline** (``request_timeout``) for the whole body, however slowly it drips:
  past it the request is answered 408 and nothing is recorded;
* **bounded clients**: at most ``max_clients`` requests in the application at once; one
  more is answered 503 with ``Retry-After: 1`` at once;
* **the event loop stays free**: parsing and the outbox write run on a worker thread.

The request line and headers are the ASGI server's to bound (uvicorn's
``--limit-concurrency``, ``--timeout-keep-alive``; a proxy in front). Mount it::

    app.mount("/reports", AsgiReceiver(receiver))   # FastAPI or Starlette
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from smsbridge.reports.receiver import REASONS, Answer, ReportReceiver
from smsbridge.reports.serve import DEFAULT_MAX_CLIENTS, DEFAULT_REQUEST_TIMEOUT

__all__ = ["AsgiReceiver"]

logger = logging.getLogger("smsbridge.reports")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_BUSY: Answer = (503, [("Retry-After", "1")], b"busy\n")
_GONE = object()


class AsgiReceiver:
    """An ASGI 3 application serving a :class:`ReportReceiver`.

    Args:
        receiver: The receiver whose routes, authentication and rules apply.
        request_timeout: Seconds a request has to deliver its whole body.
        max_clients: Requests in the application at once; more are answered 503.

    Raises:
        ValueError: A limit is not positive.
    """

    def __init__(
        self,
        receiver: ReportReceiver,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        if not request_timeout > 0 or max_clients < 1:
            raise ValueError("request_timeout and max_clients must be > 0")
        self.receiver = receiver
        self.request_timeout = request_timeout
        self.max_clients = max_clients
        self._active = 0

    def __repr__(self) -> str:
        return f"<AsgiReceiver {', '.join(self.receiver.provider_names)}>"

    @property
    def active(self) -> int:
        """Requests in the application right now."""
        return self._active

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"AsgiReceiver serves http, not {scope['type']!r}")
        if self._active >= self.max_clients:
            await _respond(send, _BUSY, close=True)
            return
        self._active += 1
        try:
            answer, read = await self._answer(scope, receive)
        finally:
            self._active -= 1
        if answer is not None:
            # A body left unread would be taken for the next request on the connection.
            await _respond(send, answer, close=not read)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[Answer | None, bool]:
        """The answer, and whether the whole body was read."""
        receiver = self.receiver
        method = str(scope.get("method", "GET")).upper()
        headers = _headers(scope)
        admitted = receiver.admit(_route_path(scope), method, headers)
        if not isinstance(admitted, str):
            return admitted, False
        announced = receiver.body_length(headers.get("content-length"))
        if announced is None:
            return receiver.refuse_body(admitted, 413), False
        try:
            async with asyncio.timeout(self.request_timeout):
                body = await _read_body(receive, receiver.max_body_bytes)
        except TimeoutError:
            return receiver.refuse_body(admitted, 408), False
        if body is _GONE:
            return None, False  # the client went away: nobody to answer, nothing recorded
        if body is None:
            return receiver.refuse_body(admitted, 413), False
        assert isinstance(body, bytes)
        if "content-length" in headers and len(body) != announced:
            return receiver.refuse_body(admitted, 400), True
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        # Parsing and the outbox write block: a worker thread, never the loop.
        answer = await asyncio.to_thread(receiver.answer, admitted, method, query, headers, body)
        return answer, True


async def _read_body(receive: Receive, limit: int) -> bytes | object | None:
    """The whole body; None once it grows past ``limit``; ``_GONE`` if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _GONE
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _route_path(scope: Scope) -> str:
    """The path below where the app is mounted (``root_path``), as Starlette routes it."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1").lower()
        value = bytes(raw_value).decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def _respond(send: Send, answer: Answer, *, close: bool = False) -> None:
    status, extra, body = answer
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
    if close:
        headers.append((b"connection", b"close"))
    headers.append((b"content-type", b"text/plain; charset=utf-8"))
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    assert status in REASONS, status
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: acknowledge both, so servers do not warn."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
