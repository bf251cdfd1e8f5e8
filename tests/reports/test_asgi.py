"""The receiver as an ASGI app, served by a real uvicorn over loopback sockets.

It answers every request as the WSGI receiver does (one table, both servers), records
reports a provider's emulator posts to it mounted in a Starlette app, bounds the body by
one deadline and the clients by ``max_clients``. Waits are hang guards, never timings.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import urllib3
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from smsbridge import SmsBridge, Status
from smsbridge.outbox import SqliteStore
from smsbridge.reports import AsgiReceiver, Auth, BasicAuth, ReportReceiver, TokenAuth
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

from .conftest import TOKEN, Serve

GUARD = 30.0  # seconds: only a hang makes a test wait this long
Serving = Callable[[Any], str]


@pytest.fixture
def uvicorn_app() -> Iterator[Serving]:
    """``serve(app)`` runs ``app`` under uvicorn on a free loopback port; its base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: Any) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        # No access log: callback paths carry tokens.
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        for _ in range(int(GUARD / 0.01)):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(GUARD)


def providers() -> list[Any]:
    return [
        ClickatellProvider.from_options(
            base_url="http://127.0.0.1:9", api_id="3141592", user="u", password="p"
        ),
        BulkSmsProvider.from_options(
            base_url="http://127.0.0.1:9/eapi", username="u", password="p"
        ),
    ]


def auth() -> dict[str, Auth]:
    return {"clickatell": BasicAuth("cb-user", "cb-password-1"), "bulksms": TokenAuth(TOKEN)}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


GOOD = basic("cb-user", "cb-password-1")
MESSAGE_ID = "0123456789abcdef0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# (method, path, headers, body): every kind of answer the receiver gives. (An unreadable
# Content-Length never reaches an ASGI app: the server answers it 400 itself.)
REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/nobody", {}, b""),
    ("GET", "/clickatell/a/b", GOOD, b""),
    ("POST", "/clickatell", {}, b"x=1"),
    ("POST", "/clickatell", basic("cb-user", "wrong"), b"x=1"),
    ("POST", "/bulksms/not-the-token", {}, b""),
    ("PUT", "/clickatell", GOOD, b"x=1"),
    ("POST", "/clickatell", {**GOOD, "Content-Length": "999999"}, b"x"),
    ("POST", "/clickatell", {**GOOD, **FORM}, b"\xff\xfe garbage"),
    ("GET", f"/clickatell?apiMsgId={MESSAGE_ID}&status=004", GOOD, b""),  # whose?
    ("GET", f"/clickatell?apiMsgId={MESSAGE_ID}&status=004&api_id=3141592", GOOD, b""),
]


def answers(base: str, requests: list[tuple[str, str, dict[str, str], bytes]]) -> list[int]:
    statuses: list[int] = []
    with urllib3.PoolManager(retries=False, timeout=GUARD) as http:
        for method, path, headers, body in requests:
            response = http.request(method, base + path, headers=headers, body=body or None)
            statuses.append(response.status)
    return statuses


def test_the_asgi_receiver_answers_as_the_wsgi_one(
    uvicorn_app: Serving, serve_receiver: Serve
) -> None:
    with SqliteStore(":memory:") as wsgi_store, SqliteStore(":memory:") as asgi_store:
        wsgi = serve_receiver(ReportReceiver(providers(), store=wsgi_store, auth=auth()))
        asgi = uvicorn_app(AsgiReceiver(ReportReceiver(providers(), store=asgi_store, auth=auth())))
        expected = answers(wsgi.url, REQUESTS)
        assert answers(asgi, REQUESTS) == expected
    # Every kind of answer appears in the table, so the comparison covers them all.
    assert set(expected) == {200, 400, 401, 403, 404, 405, 409, 413}


def test_mounted_in_starlette_it_records_what_the_emulator_posts(uvicorn_app: Serving) -> None:
    numbers = [f"+4477009002{i:02d}" for i in range(4)]
    with ClickatellEmulator(balance=Decimal(100)) as emulator, SqliteStore(":memory:") as store:
        options = ClickatellProvider.emulator_options(emulator)
        provider = ClickatellProvider.from_options(**options, callback=7)
        receiver = ReportReceiver([provider], store=store, auth={"clickatell": TokenAuth(TOKEN)})
        app = Starlette(routes=[Mount("/reports", app=AsgiReceiver(receiver))])
        emulator.callback_url = f"{uvicorn_app(app)}/reports/clickatell/{TOKEN}"
        with SmsBridge([provider], store=store) as bridge:
            results = [bridge.send(n, "hello", reference=f"m{i}") for i, n in enumerate(numbers)]
            # A quick report (callback=7 posts "sent" at once) may move a result on.
            assert {r.status for r in results} <= {Status.ACCEPTED, Status.SENT}
            emulator.tick()
            emulator.tick()
            assert emulator.wait_for_callbacks(GUARD)
            statuses = [store.get(f"m{i}") for i in range(len(numbers))]
    assert emulator.callbacks and all(c.status == 200 for c in emulator.callbacks)
    assert [item.status if item else None for item in statuses] == [Status.DELIVERED] * 4


def _raw(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.settimeout(GUARD)
    return sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def _dripping(sock: socket.socket) -> None:
    """A request whose body never finishes: 100 bytes announced, one sent."""
    sock.sendall(
        f"POST /bulksms/{TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\nm".encode()
    )


def test_a_body_that_never_finishes_is_answered_408(uvicorn_app: Serving) -> None:
    with SqliteStore(":memory:") as store:
        receiver = ReportReceiver(providers(), store=store, auth=auth())
        base = uvicorn_app(AsgiReceiver(receiver, request_timeout=0.3))
        with _raw(base) as sock:
            _dripping(sock)
            assert _status(sock) == 408
        assert sum(store.counts().values()) == 0


def test_one_client_more_than_max_clients_is_answered_503(uvicorn_app: Serving) -> None:
    with SqliteStore(":memory:") as store:
        app = AsgiReceiver(ReportReceiver(providers(), store=store, auth=auth()), max_clients=1)
        base = uvicorn_app(app)
        with _raw(base) as slow:
            _dripping(slow)
            for _ in range(int(GUARD / 0.01)):
                if app.active:
                    break
                threading.Event().wait(0.01)
            assert app.active == 1
            assert answers(base, [("GET", "/nobody", {}, b"")]) == [503]
            slow.sendall(b"x" * 99)  # the held request completes and is answered
            assert _status(slow) in (200, 400)
        assert answers(base, [("GET", "/nobody", {}, b"")]) == [404]


def test_limits_must_be_positive() -> None:
    with SqliteStore(":memory:") as store:
        receiver = ReportReceiver(providers(), store=store, auth=auth())
        with pytest.raises(ValueError, match="request_timeout"):
            AsgiReceiver(receiver, request_timeout=0)
        with pytest.raises(ValueError, match="max_clients"):
            AsgiReceiver(receiver, max_clients=0)
