"""The report server against clients that never finish, over real loopback sockets:
one deadline per request (not per read), authentication before the body, a bounded
number of connections, and a stop that does not wait for anybody.

Waits here are hang guards (generous upper bounds), never performance assertions; the
timings are measured in ``bench/bench_report_server.py``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import pytest

from smsbridge.outbox import SqliteStore
from smsbridge.reports import Auth, BasicAuth, ReportReceiver, ReportServer, TokenAuth
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider

from .conftest import TOKEN

GUARD = 30.0  # seconds: only a hang makes a test wait this long


@pytest.fixture
def receiver(store: SqliteStore) -> Iterator[ReportReceiver]:
    providers: list[Any] = [
        ClickatellProvider.from_options(
            base_url="http://127.0.0.1:9", api_id="3141592", user="u", password="p"
        ),
        BulkSmsProvider.from_options(
            base_url="http://127.0.0.1:9/eapi", username="u", password="p"
        ),
    ]
    auth: dict[str, Auth] = {
        "clickatell": BasicAuth("cb-user", "cb-password-1"),
        "bulksms": TokenAuth(TOKEN),
    }
    yield ReportReceiver(providers, store=store, auth=auth)
    for provider in providers:
        provider.close()


def _connect(server: ReportServer) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.settimeout(GUARD)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (bounded by the guard)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _drip(sock: socket.socket, data: bytes, every: float) -> tuple[int, bytes]:
    """Send ``data`` a byte at a time until the server answers or closes; how many bytes
    went out, and the answer."""
    sent = 0
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        sent += 1
        sock.settimeout(every)
        try:
            first = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        sock.settimeout(GUARD)
        return sent, first + _answer(sock)
    sock.settimeout(GUARD)
    return sent, _answer(sock)


def test_a_dripping_request_line_is_cut_at_the_deadline(receiver: ReportReceiver) -> None:
    request = b"GET /bulksms/" + TOKEN.encode() + b"?msisdn=1 HTTP/1.1\r\n" + b"X: y\r\n" * 200
    with ReportServer(receiver, request_timeout=0.5) as server, _connect(server) as sock:
        # A byte every 0.05 s: each read is quick, only a total deadline can end it.
        sent, answer = _drip(sock, request, every=0.05)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert sent < len(request)


def test_a_dripping_body_is_cut_at_the_deadline(
    receiver: ReportReceiver, store: SqliteStore
) -> None:
    head = (
        f"POST /bulksms/{TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n"
    ).encode()
    with ReportServer(receiver, request_timeout=0.5) as server, _connect(server) as sock:
        sock.sendall(head)
        sent, answer = _drip(sock, b"msisdn=447700900301&" * 250, every=0.05)
    assert answer.startswith(b"HTTP/1.0 408 ") or answer.startswith(b"HTTP/1.1 408 ")
    assert sent < 5000
    assert sum(store.counts().values()) == 0


@pytest.mark.parametrize(
    ("target", "auth", "status"),
    [
        ("/clickatell", "", b"401"),
        ("/clickatell", "Authorization: Basic Y2ItdXNlcjp3cm9uZw==\r\n", b"403"),
        ("/bulksms/wrong-token-wrong-token", "", b"403"),
    ],
)
def test_authentication_is_decided_before_the_body_is_read(
    receiver: ReportReceiver, target: str, auth: str, status: bytes
) -> None:
    head = (
        f"POST {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
    ).encode()
    # A long deadline: if the server waited for the body, only the guard would end this.
    with ReportServer(receiver, request_timeout=GUARD * 2) as server, _connect(server) as sock:
        sock.sendall(head)  # and not a byte of the announced body
        answer = _answer(sock)
    assert answer.split(b" ", 2)[1] == status


def test_connections_beyond_the_limit_are_answered_503_at_once(
    receiver: ReportReceiver,
) -> None:
    with ExitStack() as stack:
        server = stack.enter_context(ReportServer(receiver, max_clients=3, request_timeout=60))
        holders = [stack.enter_context(_connect(server)) for _ in range(3)]
        for sock in holders:
            sock.sendall(b"GET /bulk")  # and never the rest
        deadline = time.monotonic() + GUARD
        while server.active < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.active == 3
        extra = stack.enter_context(_connect(server))
        answer = _answer(extra)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"Retry-After: 1" in answer


def test_stop_cuts_clients_that_never_finish(receiver: ReportReceiver) -> None:
    server = ReportServer(receiver, request_timeout=600, max_clients=50, grace=0.2).start()
    clients = [_connect(server) for _ in range(80)]  # 30 beyond the limit, answered 503
    try:
        for sock in clients:
            sock.sendall(b"POST /clickatell HTTP/1.1\r\nContent-Le")
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(GUARD)
        assert not stopper.is_alive()
        assert server.active == 0
        for sock in clients:
            _answer(sock)  # every connection was closed: this returns
    finally:
        for sock in clients:
            sock.close()
