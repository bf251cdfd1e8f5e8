"""The loopback HTTP/1.1 server under every emulator: threads, connections, TLS, drips."""

from __future__ import annotations

import contextlib
import http.server
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from smsbridge.http import redact_query
from smsbridge.testing.records import (
    Clock,
    EmulatorRequest,
    EmulatorResponse,
    RecordLog,
    RequestRecord,
)

__all__ = ["App", "EmulatorServer"]

logger = logging.getLogger("smsbridge.testing")

_MAX_REQUEST_BODY = 16 * 1024 * 1024

App = Callable[[EmulatorRequest], "EmulatorResponse | None"]


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 resets a burst of new connections (a client opening
    # its pool at once, a thousand concurrent async sends); providers' servers take them.
    request_queue_size = 256
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
    def started(self) -> bool:
        """Whether :meth:`start` has run, so :attr:`url` is known (it stays known after
        :meth:`stop`)."""
        return self._httpd is not None

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
