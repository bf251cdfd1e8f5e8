"""A small threaded HTTP server for the receiver, for deployments without a web framework.

Built on :mod:`wsgiref`: one thread per connection, a read timeout against clients that
never finish, and request lines kept out of the logs (callback paths carry tokens). Put
it behind a TLS-terminating proxy when it faces the internet.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from types import TracebackType
from typing import Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from smsbridge.reports.receiver import ReportReceiver

__all__ = ["ReportServer", "serve"]

logger = logging.getLogger("smsbridge.reports")


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    # Non-daemon threads joined on close: stop() returns once every request is answered.
    daemon_threads = False
    block_on_close = True


class _Handler(WSGIRequestHandler):
    timeout = 10.0  # a client that stalls mid-request is dropped instead of holding a thread

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line names the token: log the method and answer only.
        logger.debug("%s %s from %s", self.command, code, self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        # wsgiref formats messages with the request line, which names the token.
        logger.debug("report server message suppressed (%s)", format.split(" ", 1)[0])


class ReportServer:
    """Serves a :class:`ReportReceiver` on ``host:port`` in a background thread.

    Args:
        receiver: The WSGI application.
        host: The address to bind (``127.0.0.1`` by default).
        port: The port; 0 picks a free one (see :attr:`url`).
    """

    def __init__(self, receiver: ReportReceiver, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = make_server(
            host, port, receiver, server_class=_Server, handler_class=_Handler
        )
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8080``."""
        address = self._httpd.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        port = self._httpd.server_port
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

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
        """Stop accepting, finish the requests in progress, close the socket. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(receiver: ReportReceiver, host: str = "127.0.0.1", port: int = 8080) -> ReportServer:
    """Start serving ``receiver`` on ``host:port``; stop it with :meth:`ReportServer.stop`.

    Args:
        receiver: The WSGI application.
        host: The address to bind.
        port: The port (0: any free one).

    Returns:
        The running server.

    Raises:
        OSError: The address cannot be bound.
    """
    return ReportServer(receiver, host, port).start()
