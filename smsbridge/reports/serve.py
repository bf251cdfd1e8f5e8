"""A small threaded HTTP server for the receiver, for deployments without a web framework.

Built on :mod:`wsgiref`, hardened against clients that never finish:

* each connection has one **total deadline** for its request line, headers and body
  (``request_timeout``), however slowly the bytes drip in; past it the request is answered
  408 (headers) or refused by the receiver (body), and the connection closed;
* at most ``max_clients`` connections are served at once, each by a daemon thread; one
  more is answered 503 with ``Retry-After`` at once, without a thread;
* :meth:`ReportServer.stop` returns within ``grace`` seconds plus a fraction of one,
  whatever clients do: connections still sending their request line or headers are cut
  at once, requests already in the application get ``grace`` seconds to finish, then
  their sockets are shut down too.

Request lines are kept out of the logs (callback paths carry tokens). Put it behind a
TLS-terminating proxy when it faces the internet.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any, Self, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from smsbridge.reports.receiver import ReportReceiver

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_CLIENTS",
    "DEFAULT_REQUEST_TIMEOUT",
    "ReportServer",
    "serve",
]

logger = logging.getLogger("smsbridge.reports")

#: Seconds a client has to send its whole request (request line, headers and body).
DEFAULT_REQUEST_TIMEOUT = 10.0
#: Connections served at once; one more is answered 503 without a thread.
DEFAULT_MAX_CLIENTS = 64
#: Seconds :meth:`ReportServer.stop` lets requests in progress finish.
DEFAULT_GRACE = 2.0

_REFUSAL_LOG_EVERY = 10.0
_LINGER_SECONDS = 0.5
_LINGER_BYTES = 256 * 1024
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n"
)
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 16\r\nConnection: close\r\n\r\nrequest timeout\n"
)


class _DeadlineReader(io.RawIOBase):
    """Socket reads bounded, all together, by one deadline: a client dripping a byte
    at a time cannot hold its thread past it (a per-read timeout would never fire)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _QuietServerHandler(ServerHandler):
    def log_exception(self, exc_info: Any) -> None:
        # wsgiref prints the traceback, whose frames may hold the request: type only.
        logger.error("report request failed with %s", exc_info[0].__name__)


class _Handler(WSGIRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        deadline = time.monotonic() + self.server.request_timeout
        # Closing the stock reader releases its hold on the socket, or closing the
        # connection would wait for the garbage collector.
        self.rfile.close()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def handle(self) -> None:
        # wsgiref's own handle(), with the deadline's timeout answered and no traceback.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.parse_request():
                return
        except TimeoutError:
            logger.warning("report client too slow: no complete request in time")
            self._answer(_TIMED_OUT)
            return
        except OSError:
            return  # the client went away
        self.server.started(self.connection)
        handler = _QuietServerHandler(
            self.rfile, cast("IO[bytes]", self.wfile), sys.stderr, self.get_environ(),
            multithread=True,
        )  # fmt: skip
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref logs through it
        handler.run(self.server.get_app())  # type: ignore[arg-type]  # typeshed: no None

    def _answer(self, data: bytes) -> None:
        try:
            self.connection.settimeout(1.0)
            self.connection.sendall(data)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The default message quotes the request line, which names the token.
        super().send_error(code)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line names the token: log the method and answer only.
        logger.debug("%s %s from %s", self.command, code, self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        # wsgiref formats messages with the request line, which names the token.
        logger.debug("report server message suppressed (%s)", format.split(" ", 1)[0])


class _Server(WSGIServer):
    """One daemon thread per connection, at most ``max_clients`` of them."""

    # socketserver's 5 makes a burst of connections wait seconds for SYN retries.
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], *, request_timeout: float, max_clients: int
    ) -> None:
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_clients)
        # Connections being served; True once their request reached the application.
        self._active: dict[socket.socket, bool] = {}
        self._idle = threading.Condition()
        self._refused = 0
        self._refusal_logged = -_REFUSAL_LOG_EVERY
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refused += 1
            if time.monotonic() - self._refusal_logged >= _REFUSAL_LOG_EVERY:
                # One line per interval: a flood must not flood the log as well.
                self._refusal_logged = time.monotonic()
                logger.warning(
                    "report server busy: %d connection(s) refused with 503 so far",
                    self._refused,
                )
            try:
                request.setblocking(False)
                request.send(_BUSY)
            except OSError:
                pass
            self.close_request(request)  # no lingering here: this is the accept loop
            return
        with self._idle:
            self._active[request] = False
        thread = threading.Thread(
            target=self._serve_one,
            args=(request, client_address),
            name="smsbridge-report-request",
            daemon=True,
        )
        try:
            thread.start()
        except RuntimeError:  # the interpreter is shutting down, or out of threads
            self._done(request)

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self._done(request)

    def _done(self, request: Any) -> None:
        self.shutdown_request(request)
        with self._idle:
            self._active.pop(request, None)
            self._idle.notify_all()
        self._slots.release()

    def shutdown_request(self, request: Any) -> None:
        # A lingering close: a socket closed with unread bytes (a body refused before it
        # was read) is reset, and the reset can destroy the answer before the client
        # reads it. Read what is left for a moment, as web servers do.
        try:
            request.shutdown(socket.SHUT_WR)
            until = time.monotonic() + _LINGER_SECONDS
            drained = 0
            while drained < _LINGER_BYTES and (left := until - time.monotonic()) > 0:
                request.settimeout(left)
                chunk = request.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; its frames may quote the request.
        logger.warning("report connection failed with %s", sys.exc_info()[0].__name__)  # type: ignore[union-attr]

    def active(self) -> int:
        """Connections being served."""
        with self._idle:
            return len(self._active)

    def drain(self, grace: float) -> int:
        """Cut connections still sending their request head, wait up to ``grace``
        seconds for requests in the application, then shut down the sockets of the
        rest so that their threads end; how many were cut."""
        with self._idle:
            # Clients still sending their request line or headers have nothing to lose.
            unstarted = [sock for sock, started in self._active.items() if not started]
        self._cut(unstarted)
        deadline = time.monotonic() + grace
        with self._idle:
            while self._active and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)
            stragglers = list(self._active)
        self._cut(stragglers)
        with self._idle:
            self._idle.wait_for(lambda: not self._active, timeout=0.5)
        return len(unstarted) + len(stragglers)

    def started(self, request: socket.socket) -> None:
        """The request reached the application: a stop gives it ``grace`` to finish."""
        with self._idle:
            if request in self._active:
                self._active[request] = True

    @staticmethod
    def _cut(socks: list[socket.socket]) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ReportServer:
    """Serves a :class:`ReportReceiver` on ``host:port`` in a background thread.

    Args:
        receiver: The WSGI application.
        host: The address to bind (``127.0.0.1`` by default).
        port: The port; 0 picks a free one (see :attr:`url`).
        request_timeout: Seconds each connection has for its whole request (request
            line, headers and body together).
        max_clients: Connections served at once; more are answered 503 at once.
        grace: Seconds :meth:`stop` lets requests in progress finish.

    Raises:
        ValueError: A limit is not positive (``grace`` may be 0).
        OSError: The address cannot be bound.
    """

    def __init__(
        self,
        receiver: ReportReceiver,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        if not request_timeout > 0 or max_clients < 1 or not grace >= 0:
            raise ValueError("request_timeout and max_clients must be > 0, grace >= 0")
        self._httpd = _Server(
            (host, port), request_timeout=request_timeout, max_clients=max_clients
        )
        self._httpd.set_app(receiver)
        self._grace = grace
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8080``."""
        address = self._httpd.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        port = self._httpd.server_port
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def active(self) -> int:
        """Connections being served right now."""
        return self._httpd.active()

    def start(self) -> Self:
        """Start serving in a background thread.

        Returns:
            Self.

        Raises:
            RuntimeError: When started twice.
        """
        if self._thread is not None:
            raise RuntimeError("a ReportServer starts once")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="smsbridge-report-server",
            daemon=True,
        )
        self._thread.start()
        logger.info("serving delivery reports on %s", self.url)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` is called (from another thread or a signal handler).

        Args:
            timeout: Most seconds to wait.

        Returns:
            True when stopped.
        """
        return self._stopped.wait(timeout)

    def stop(self) -> None:
        """Stop accepting, cut clients still sending their request head, give requests
        in the application ``grace`` seconds, cut the rest, close the socket.

        Returns within about ``grace + 1`` seconds. Idempotent; a call made while
        another is stopping the server returns at once."""
        # Not blocking: a signal handler calling stop() while stop() runs returns at once.
        if not self._stop_lock.acquire(blocking=False):
            return
        try:
            if self._stopped.is_set():
                return
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join()
            self._httpd.server_close()
            cut = self._httpd.drain(self._grace)
            if cut:
                logger.warning("report server stopped: %d unfinished request(s) cut", cut)
            self._stopped.set()
        finally:
            self._stop_lock.release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    receiver: ReportReceiver,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_clients: int = DEFAULT_MAX_CLIENTS,
    grace: float = DEFAULT_GRACE,
) -> ReportServer:
    """Start serving ``receiver`` on ``host:port``; stop it with :meth:`ReportServer.stop`.

    Args:
        receiver: The WSGI application.
        host: The address to bind.
        port: The port (0: any free one).
        request_timeout: Seconds each connection has for its whole request.
        max_clients: Connections served at once; more are answered 503.
        grace: Seconds :meth:`ReportServer.stop` lets requests in progress finish.

    Returns:
        The running server.

    Raises:
        OSError: The address cannot be bound.
        ValueError: A limit is not positive.
    """
    return ReportServer(
        receiver,
        host,
        port,
        request_timeout=request_timeout,
        max_clients=max_clients,
        grace=grace,
    ).start()
