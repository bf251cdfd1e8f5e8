"""Loopback HTTP emulators of SMS providers: a real server, a routing base class, records.

Tests talk to an emulator over real sockets with the same :class:`~smsbridge.http.HttpClient`
production uses, so connection handling, timeouts and error translation are exercised for
real. A provider emulator subclasses :class:`Emulator`, declares routes with :func:`route`
and calls :meth:`Emulator.record` whenever it accepts a submission, so that tests can assert
"accepted exactly once".
"""

from __future__ import annotations

import codecs
import contextlib
import http.server
import json as jsonlib
import logging
import random
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import urllib3

from smsbridge.http import redact_query
from smsbridge.testing import faults as f

__all__ = [
    "CallbackDelivery",
    "Emulator",
    "EmulatorFactory",
    "EmulatorRequest",
    "EmulatorResponse",
    "EmulatorServer",
    "LoopbackEmulator",
    "ManualClock",
    "Params",
    "RecordLog",
    "RequestRecord",
    "Submission",
    "SubmissionLog",
    "route",
]

logger = logging.getLogger("smsbridge.testing")

Clock = Callable[[], float]
T = TypeVar("T")
E = TypeVar("E", bound="Emulator")
_MAX_REQUEST_BODY = 16 * 1024 * 1024


def _read_only(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Params:
    """Query or form parameters: ordered pairs, repeats allowed, plus dict-like lookups."""

    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        return next((v for k, v in self.pairs if k == name), default)

    def getall(self, name: str) -> tuple[str, ...]:
        """Every value of ``name``, in order."""
        return tuple(v for k, v in self.pairs if k == name)

    def to_dict(self) -> dict[str, str]:
        """Name to first value."""
        return dict(reversed(self.pairs))

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            with contextlib.suppress(LookupError):
                return codecs.lookup(value.strip('"')).name
    return "utf-8"


@attrs.frozen(kw_only=True)
class EmulatorRequest:
    """One request as an emulator route sees it.

    ``form`` holds ``application/x-www-form-urlencoded`` fields, ``json`` the parsed body
    when the content type says JSON (None if absent or invalid), ``headers`` lower-case names.
    """

    method: str
    path: str
    query: Params = Params()
    headers: Mapping[str, str] = attrs.field(default=None, converter=_read_only)
    body: bytes = b""
    form: Params = Params()
    json: Any = None
    client: tuple[str, int] = ("127.0.0.1", 0)
    received_at: float = 0.0
    connection_id: int = 0

    @classmethod
    def parse(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, **extra: Any
    ) -> EmulatorRequest:
        """Build from the raw request line, headers and body (``extra``: the other fields)."""
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        parts = urlsplit(target)
        ctype = merged.get("content-type", "")
        form, parsed = Params(), None
        if ctype.lower().startswith("application/x-www-form-urlencoded"):
            text = body.decode("ascii", errors="replace")
            pairs = parse_qsl(
                text, keep_blank_values=True, encoding=_charset(ctype), errors="replace"
            )
            form = Params(tuple(pairs))
        elif "json" in ctype.lower():
            with contextlib.suppress(ValueError):
                parsed = jsonlib.loads(body)
        return cls(
            method=method.upper(),
            path=parts.path,
            query=Params(tuple(parse_qsl(parts.query, keep_blank_values=True))),
            headers=merged,
            body=body,
            form=form,
            json=parsed,
            **extra,
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        """A form field, else a query parameter (protocols that accept both)."""
        return self.form.get(name, self.query.get(name, default))

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 otherwise)."""
        return self.body.decode(_charset(self.headers.get("content-type", "")), "replace")


@attrs.frozen
class EmulatorResponse:
    """What a route answers. ``bytes_per_second`` drips the body (see ``SlowDrip``)."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = attrs.field(default=None, converter=_read_only, kw_only=True)
    content_type: str = attrs.field(default="text/plain; charset=utf-8", kw_only=True)
    bytes_per_second: float | None = attrs.field(default=None, kw_only=True)

    @classmethod
    def from_json(
        cls, value: object, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        """A JSON response."""
        body = jsonlib.dumps(value, separators=(",", ":"))
        return cls(status, body, headers=headers, content_type="application/json")

    def payload(self) -> bytes:
        """The body as bytes (text is UTF-8 encoded)."""
        return self.body.encode() if isinstance(self.body, str) else self.body


class RecordLog(Generic[T]):
    """A thread-safe, append-only record of what an emulator saw."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        """Add a record."""
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def snapshot(self) -> tuple[T, ...]:
        """Every record so far."""
        with self._changed:
            return tuple(self._items)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` records exist; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._items) >= count, timeout)

    def clear(self) -> None:
        """Forget every record."""
        with self._changed:
            self._items.clear()

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __getitem__(self, index: int) -> T:
        with self._changed:
            return self._items[index]


@attrs.frozen
class RequestRecord:
    """One request served: ``status`` is None when the connection was dropped instead."""

    method: str
    path: str
    status: int | None = attrs.field(kw_only=True)
    at: float = attrs.field(kw_only=True)
    connection_id: int = attrs.field(kw_only=True)
    request: EmulatorRequest = attrs.field(kw_only=True, repr=False)


@attrs.frozen(kw_only=True)
class Submission:
    """A submission the emulator accepted (one protocol command, maybe many recipients)."""

    command: str
    recipients: tuple[str, ...] = attrs.field(converter=_strings)
    message_ids: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    reference: str | None = None
    body: str | None = None
    parts: int = 1
    charge: Decimal | None = None
    fields: Mapping[str, str] = attrs.field(default=None, converter=_read_only)
    at: float = 0.0


class SubmissionLog(RecordLog[Submission]):
    """Accepted submissions, with the questions tests ask of them."""

    def accepted_recipients(self) -> Counter[str]:
        """How many times each recipient was accepted."""
        return Counter(r for s in self.snapshot() for r in s.recipients)

    def duplicates(self) -> dict[str, int]:
        """Recipients accepted more than once, with their counts (empty: exactly once)."""
        return {r: n for r, n in self.accepted_recipients().items() if n > 1}

    def by_reference(self, reference: str) -> tuple[Submission, ...]:
        """Submissions carrying a client reference."""
        return tuple(s for s in self.snapshot() if s.reference == reference)


class ManualClock:
    """A clock tests move by hand, to reach expiry windows without sleeping.

    Args:
        start: The initial time, in seconds since the epoch.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; returns the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump to ``now``."""
        with self._lock:
            self._now = now


App = Callable[[EmulatorRequest], "EmulatorResponse | None"]


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: EmulatorServer

    def process_request(self, request: Any, client_address: Any) -> None:
        # Threads are tracked so that stop() can join them: no thread outlives a test.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            daemon=True,
            name="smsbridge-emulator-connection",
        )
        threads = self.owner._threads
        threads[:] = [t for t in threads if t.is_alive()]
        threads.append(thread)
        thread.start()

    def finish_request(self, request: Any, client_address: Any) -> None:
        context = self.owner._tls
        if context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(5.0)
        try:
            wrapped = context.wrap_socket(request, server_side=True)
        except OSError as exc:  # the client refused our certificate: expected in TLS tests
            logger.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        with wrapped:
            super().finish_request(wrapped, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60.0  # idle keep-alive connections end on their own if stop() never comes
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's
        # algorithm holds the body until the client's delayed ACK (~40 ms per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection_id = self.server.owner._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._closed(self.connection_id)

    def _serve(self) -> None:
        owner = self.server.owner
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._write(EmulatorResponse(400, f"bad request framing: {exc}"))
            return
        request = EmulatorRequest.parse(
            self.command, self.path, self.headers.items(), body,
            client=self.client_address[:2], received_at=owner.clock(),
            connection_id=self.connection_id,
        )  # fmt: skip
        try:
            response = owner.app(request)
        except Exception:
            logger.exception("emulator app failed on %s %s", request.method, request.path)
            response = EmulatorResponse(500, "emulator error")
        owner.requests.append(RequestRecord(
            request.method, request.path, status=None if response is None else response.status,
            at=request.received_at, connection_id=self.connection_id, request=request,
        ))  # fmt: skip
        try:
            if response is None:
                self.close_connection = True
                # Linger 0: close with a reset, as a crashed or overloaded front end would.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            else:
                self._write(response)
        except OSError:  # the client went away first: nothing left to tell it
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= _MAX_REQUEST_BODY:
            raise ValueError(f"content-length {length}")
        return self.rfile.read(length)

    def _write(self, response: EmulatorResponse) -> None:
        payload = response.payload()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        rate = response.bytes_per_second
        if self.command == "HEAD":
            return
        if rate is None:
            self.wfile.write(payload)
            return
        step = max(1, int(rate / 20))
        for start in range(0, len(payload), step):
            self.wfile.write(payload[start : start + step])
            if self.server.owner.wait(step / rate):
                self.close_connection = True
                return

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry whatever credentials the client put in the query string.
        logger.debug("%s: %s", self.address_string(), redact_query(format % args))


class EmulatorServer:
    """A threaded HTTP/1.1 keep-alive server on 127.0.0.1, on an ephemeral port.

    Args:
        app: Answers each request; returning None drops the connection without answering.
        clock: Time source for ``received_at`` and the request log.
        certfile: Serve HTTPS with this certificate chain (PEM)...
        keyfile: ...and this private key.
    """

    def __init__(
        self,
        app: App,
        *,
        clock: Clock = time.time,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.requests: RecordLog[RequestRecord] = RecordLog()
        self.connections_opened = 0
        self.max_concurrent_connections = 0
        self._tls: ssl.SSLContext | None = None
        if certfile:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(certfile, keyfile)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: dict[int, socket.socket] = {}
        self._threads: list[threading.Thread] = []
        self._httpd: _HTTPServer | None = None
        self._loop: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT``, once started."""
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host!s}:{port}"

    @property
    def open_connections(self) -> int:
        """Connections currently open."""
        with self._lock:
            return len(self._sockets)

    def start(self) -> Self:
        """Bind and serve in a background thread. Returns self."""
        if self._httpd is not None or self._stopping.is_set():
            raise RuntimeError("an EmulatorServer starts once")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._loop = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="smsbridge-emulator",
        )
        self._loop.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections (idle keep-alive ones too) and join threads."""
        httpd, loop = self._httpd, self._loop
        if httpd is None or loop is None or self._stopping.is_set():
            return
        with self._lock:
            self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        loop.join(5.0)
        with self._lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5.0)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped meanwhile; True when stopping."""
        return self._stopping.wait(seconds)

    def _opened(self, sock: socket.socket) -> int:
        with self._lock:
            self.connections_opened += 1
            number = self.connections_opened
            self._sockets[number] = sock
            self.max_concurrent_connections = max(
                self.max_concurrent_connections, len(self._sockets)
            )
            stopping = self._stopping.is_set()
        if stopping:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return number

    def _closed(self, number: int) -> None:
        with self._lock:
            self._sockets.pop(number, None)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@attrs.frozen(kw_only=True)
class CallbackDelivery:
    """One callback POST the emulator made: ``status`` is None when it failed (``error``)."""

    url: str
    body: bytes = attrs.field(repr=False)
    status: int | None
    error: str | None
    at: float
    duplicate: bool = False


@attrs.frozen
class _Outgoing:
    url: str
    body: bytes
    headers: Mapping[str, str]
    duplicate: bool = False


class _CallbackSender:
    """One background thread posting callbacks, mistreated according to a CallbackPlan."""

    def __init__(self, plan: f.CallbackPlan, log: RecordLog[CallbackDelivery], clock: Clock):
        self._plan, self._log, self._clock = plan, log, clock
        self._rng = random.Random(plan.seed)
        self._changed = threading.Condition()
        self._pending: list[_Outgoing] = []
        self._unfinished = 0
        self._stop = threading.Event()
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(2.0, read=5.0))
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="smsbridge-emulator-callbacks"
        )
        self._thread.start()

    def submit(self, item: _Outgoing) -> None:
        with self._changed:
            self._pending.append(item)
            self._unfinished += 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(5.0)
        self._http.clear()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending) or self._stop.is_set())
            # Callbacks queued during the delay join this batch: late and reorderable.
            if self._stop.is_set() or self._stop.wait(self._plan.delay):
                return
            with self._changed:
                batch, self._pending = self._pending, []
            sends = list(batch)
            for item in batch:
                if self._rng.random() < self._plan.duplicate_fraction:
                    sends.append(attrs.evolve(item, duplicate=True))
            if self._plan.shuffle:
                self._rng.shuffle(sends)
            for item in sends:
                if not self._stop.is_set():
                    self._deliver(item)
            with self._changed:
                self._unfinished -= len(batch)
                self._changed.notify_all()

    def _deliver(self, item: _Outgoing) -> None:
        status, error = None, None
        try:
            reply = self._http.request(
                "POST", item.url, body=item.body, headers=dict(item.headers), redirect=False
            )
            status = reply.status
        except urllib3.exceptions.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._log.append(CallbackDelivery(
            url=item.url, body=item.body, status=status, error=error, at=self._clock(),
            duplicate=item.duplicate,
        ))  # fmt: skip


Handler = Callable[[EmulatorRequest], EmulatorResponse]
_ROUTES_ATTR = "__smsbridge_routes__"


def route(method: str, path: str) -> Callable[[Callable[..., EmulatorResponse]], Any]:
    """Mark an :class:`Emulator` method as the handler of ``method path`` (stackable)."""

    def mark(func: Callable[..., EmulatorResponse]) -> Any:
        routes = [*getattr(func, _ROUTES_ATTR, ()), (method.upper(), path)]
        setattr(func, _ROUTES_ATTR, routes)
        return func

    return mark


class Emulator:
    """Base class of provider emulators: routing, faults, records, callbacks.

    Route handlers run one at a time under :attr:`lock`, so emulator state needs no
    further locking; slow behaviour belongs in faults (``Delay``), not in handlers.

    Args:
        clock: Time source for records, sessions and schedules (see :class:`ManualClock`).
        seed: Seeds the fault plan, so random faults replay identically.
        certfile: Serve HTTPS with this certificate (PEM)...
        keyfile: ...and key.
        callback_plan: Duplication, shuffling and delay of pushed callbacks.
    """

    name: ClassVar[str] = "emulator"

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        seed: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
        callback_plan: f.CallbackPlan | None = None,
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.faults = f.FaultPlan(seed=seed)
        self.submissions = SubmissionLog()
        self.callbacks: RecordLog[CallbackDelivery] = RecordLog()
        self.callback_plan = callback_plan or f.CallbackPlan()
        self.server = EmulatorServer(self.handle, clock=clock, certfile=certfile, keyfile=keyfile)
        self._table: Mapping[tuple[str, str], Handler] = {}
        self._sender: _CallbackSender | None = None

    def __repr__(self) -> str:
        where = self.server.url if self.server._httpd else "not started"
        return f"{type(self).__name__}({where})"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        return self.server.url

    @property
    def requests(self) -> RecordLog[RequestRecord]:
        """Every request served, in arrival order."""
        return self.server.requests

    def start(self) -> Self:
        """Start serving. Returns self."""
        self._table = dict(self.routes())
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and sending callbacks; returns promptly even with open connections."""
        if self._sender is not None:
            self._sender.close()
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def routes(self) -> Mapping[tuple[str, str], Handler]:
        """``(METHOD, path) -> handler``: methods marked with :func:`route`, overridable."""
        table: dict[tuple[str, str], Handler] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                for key in getattr(value, _ROUTES_ATTR, ()):
                    table[key] = getattr(self, attr)
        return table

    def fallback(self, request: EmulatorRequest) -> EmulatorResponse:
        """The answer for an unknown path: 404."""
        return EmulatorResponse(404, f"no route for {request.method} {request.path}")

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """The provider's "temporarily unavailable" reply, for ``TransientCode``: 503 here."""
        return EmulatorResponse(
            503, "service temporarily unavailable", headers={"Retry-After": "1"}
        )

    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Act out the request's fault, if any, around normal processing.

        Returns:
            The response, or None to drop the connection without answering.
        """
        fault = self.faults.pick(request)
        if isinstance(fault, f.Delay):
            self.server.wait(fault.seconds)
        elif isinstance(fault, f.ConnectionReset):
            return None
        elif isinstance(fault, f.HttpStatus):
            extra = {} if fault.retry_after is None else {"Retry-After": _retry(fault.retry_after)}
            return EmulatorResponse(fault.status, fault.body, headers=extra)
        elif isinstance(fault, f.TransientCode):
            with self.lock:
                return self.transient_error_response(request)
        elif isinstance(fault, f.Garbage) and not fault.process:
            return EmulatorResponse(200, fault.body)
        response = self._process(request)
        if isinstance(fault, f.AcceptThenDrop):
            return None
        if isinstance(fault, f.Garbage):
            return EmulatorResponse(200, fault.body)
        if isinstance(fault, f.SlowDrip):
            return attrs.evolve(response, bytes_per_second=fault.bytes_per_second)
        return response

    def _process(self, request: EmulatorRequest) -> EmulatorResponse:
        handler = self._table.get((request.method, request.path))
        with self.lock:
            if handler is not None:
                return handler(request)
            allowed = sorted(m for m, p in self._table if p == request.path)
            if allowed:
                return EmulatorResponse(
                    405, "method not allowed", headers={"Allow": ", ".join(allowed)}
                )
            return self.fallback(request)

    def record(self, command: str, recipients: Iterable[str], **details: Any) -> Submission:
        """Record an accepted submission (call it exactly when the provider would accept).

        Args:
            command: The protocol operation (``"sendmsg"``, ``"batch"``...).
            recipients: The accepted numbers.
            details: The other :class:`Submission` fields (``message_ids``, ``reference``,
                ``body``, ``parts``, ``charge``, ``fields``).

        Returns:
            The record, stamped with the emulator's clock.
        """
        submission = Submission(command=command, recipients=recipients, at=self.clock(), **details)
        self.submissions.append(submission)
        return submission

    def post_callback(
        self,
        url: str,
        *,
        form: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        json: object = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a POST to ``url`` (a delivery report), sent from a background thread.

        Outcomes land in :attr:`callbacks`; :meth:`wait_for_callbacks` waits for them.
        """
        sent_headers = dict(headers or {})
        if form is not None:
            body = urlencode(list(form.items() if isinstance(form, Mapping) else form)).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        with self.lock:
            if self._sender is None:
                self._sender = _CallbackSender(self.callback_plan, self.callbacks, self.clock)
        self._sender.submit(_Outgoing(url, body or b"", _read_only(sent_headers)))

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Block until every queued callback was attempted; False on timeout."""
        return self._sender is None or self._sender.wait_idle(timeout)


def _retry(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


class LoopbackEmulator(Emulator):
    """Answers every request with :attr:`response` and logs it in :attr:`requests`.

    For quick tests of HTTP behaviour, and as the receiving end of pushed callbacks.
    """

    name = "loopback"

    def __init__(self, *, response: EmulatorResponse | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.response = response or EmulatorResponse(200, "OK")

    def fallback(self, request: EmulatorRequest) -> EmulatorResponse:
        return self.response


class EmulatorFactory:
    """Starts emulators and stops every one of them on :meth:`close`."""

    def __init__(self) -> None:
        self._started: list[Emulator] = []

    def __call__(self, emulator_class: type[E], /, **kwargs: Any) -> E:
        """Construct ``emulator_class(**kwargs)``, start it and return it."""
        emulator = emulator_class(**kwargs)
        emulator.start()
        self._started.append(emulator)
        return emulator

    @property
    def started(self) -> tuple[Emulator, ...]:
        """Emulators started and not yet stopped by :meth:`close`."""
        return tuple(self._started)

    def close(self) -> None:
        """Stop every emulator, the last started first."""
        while self._started:
            self._started.pop().stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
