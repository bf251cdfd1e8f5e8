"""The emulator toolkit: server lifecycle, routing, request parsing, records, callbacks."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from smsbridge.http import HttpClient
from smsbridge.testing import (
    CallbackPlan,
    Emulator,
    EmulatorFactory,
    EmulatorRequest,
    EmulatorResponse,
    EmulatorServer,
    LoopbackEmulator,
    ManualClock,
    Params,
    pytest_plugin,
    route,
)

from . import ToyEmulator

# The plugin is loaded through its entry point once smsbridge is installed; binding the
# fixtures here also lets these tests run from a plain source checkout.
smsbridge_emulator_factory = pytest_plugin.smsbridge_emulator_factory
smsbridge_loopback_server = pytest_plugin.smsbridge_loopback_server


@pytest.fixture
def toy(smsbridge_emulator_factory: EmulatorFactory) -> ToyEmulator:
    return smsbridge_emulator_factory(ToyEmulator)


@pytest.fixture
def client(toy: ToyEmulator) -> Iterator[HttpClient]:
    with HttpClient(base_url=toy.url, provider="toy", timeout=5.0) as http:
        yield http


def test_routes_answer_and_unknown_paths_get_404_or_405(
    toy: ToyEmulator, client: HttpClient
) -> None:
    sent = client.request("POST", "/send", fields={"to": "+15550001,+15550002", "text": "hi"})
    assert sent.json() == {"ids": ["toy-1", "toy-2"]}
    assert client.request("GET", "/status", fields={"id": "toy-2"}).json()["state"] == "ACCEPTED"
    assert client.request("GET", "/nowhere").status == 404
    wrong = client.request("GET", "/send")
    assert (wrong.status, wrong.headers["allow"]) == (405, "POST")
    assert client.request("POST", "/send", fields={"to": ""}).json()["code"] == "E1"


def test_submissions_record_what_was_accepted(toy: ToyEmulator, client: HttpClient) -> None:
    client.request("POST", "/send", fields={"to": "+1,+2", "text": "a", "ref": "r-1"})
    client.request("POST", "/send", fields={"to": "+2", "text": "b", "ref": "r-2"})
    first, second = toy.submissions
    assert first.command == "send"
    assert (first.recipients, first.message_ids, first.reference) == (
        ("+1", "+2"),
        ("toy-1", "toy-2"),
        "r-1",
    )
    assert (first.body, first.parts, first.charge) == ("a", 1, None)
    assert first.fields == {"to": "+1,+2", "text": "a", "ref": "r-1"}
    assert toy.submissions.accepted_recipients() == Counter({"+2": 2, "+1": 1})
    assert toy.submissions.duplicates() == {"+2": 2}
    assert toy.submissions.by_reference("r-2") == (second,)
    toy.submissions.clear()
    assert len(toy.submissions) == 0
    assert toy.submissions.duplicates() == {}


def test_request_log_has_status_time_and_connection(client: HttpClient, toy: ToyEmulator) -> None:
    for _ in range(3):
        client.request("GET", "/status", fields={"id": "x"})
    client.request("GET", "/missing")
    records = toy.requests.snapshot()
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/status", 200), ("GET", "/status", 200), ("GET", "/status", 200),
        ("GET", "/missing", 404),
    ]  # fmt: skip
    assert {r.connection_id for r in records} == {1}
    assert all(abs(r.at - time.time()) < 60 for r in records)
    assert records[0].request.query.get("id") == "x"


def test_injected_clock_drives_sessions_and_records(
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    clock = ManualClock(1_000.0)
    toy = smsbridge_emulator_factory(ToyEmulator, clock=clock)
    with HttpClient(base_url=toy.url, provider="toy") as http:
        token = http.request("POST", "/login").json()["token"]
        assert http.request("GET", "/whoami", fields={"token": token}).status == 200
        assert clock.advance(59.0) == 1_059.0
        assert http.request("GET", "/whoami", fields={"token": token}).status == 200
        clock.advance(1.0)
        assert http.request("GET", "/whoami", fields={"token": token}).status == 401
        clock.set(5_000.0)
        http.request("POST", "/send", fields={"to": "+1"})
    assert toy.submissions[0].at == 5_000.0
    assert [r.at for r in toy.requests][:2] == [1_000.0, 1_000.0]


def test_request_parsing() -> None:
    request = EmulatorRequest.parse(
        "post", "/p?a=1&a=2&empty=", [("Content-Type", "application/x-www-form-urlencoded; "
        "charset=ISO-8859-1"), ("X-Dup", "1"), ("x-dup", "2")], b"name=caf%E9&flag=&a=form",
        client=("127.0.0.1", 5), received_at=3.0, connection_id=9,
    )  # fmt: skip
    assert (request.method, request.path, request.connection_id) == ("POST", "/p", 9)
    assert request.query.getall("a") == ("1", "2")
    assert request.query.get("empty") == "" and "empty" in request.query
    assert request.query.get("zzz", "d") == "d"
    assert request.form.to_dict() == {"name": "café", "flag": "", "a": "form"}
    assert request.param("a") == "form" and request.param("empty") == ""
    assert request.headers["x-dup"] == "1, 2"
    as_json = EmulatorRequest.parse(
        "POST", "/j", [("Content-Type", "application/json")], b'{"k": [1]}'
    )
    assert as_json.json == {"k": [1]} and len(as_json.form) == 0
    broken = EmulatorRequest.parse("POST", "/j", [("Content-Type", "application/json")], b"{nope")
    assert (broken.json, broken.text()) == (None, "{nope")
    assert list(Params((("a", "1"),))) == [("a", "1")]


def test_handler_errors_become_500_and_are_logged(
    smsbridge_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Emulator):
        @route("GET", "/boom")
        def boom(self, request: EmulatorRequest) -> EmulatorResponse:
            raise RuntimeError("emulator bug")

    emulator = smsbridge_emulator_factory(Broken)
    with HttpClient(base_url=emulator.url, provider="b") as http:
        assert http.request("GET", "/boom").status == 500
    assert "emulator bug" in caplog.text


def test_stop_is_prompt_with_idle_keep_alive_connections(
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    toy = smsbridge_emulator_factory(ToyEmulator)
    clients = [HttpClient(base_url=toy.url, provider="toy") for _ in range(3)]
    idle = [
        socket.create_connection(("127.0.0.1", int(toy.url.rsplit(":", 1)[1]))) for _ in range(2)
    ]
    try:
        for http in clients:
            http.request("GET", "/status")  # its connection stays open in the pool
        assert _eventually(lambda: toy.server.open_connections == 5)
        began = time.monotonic()
        toy.stop()
        assert time.monotonic() - began < 3.0
        assert toy.server.open_connections == 0
        assert not [t for t in threading.enumerate() if t.name.startswith("smsbridge-emulator")]
        toy.stop()  # idempotent
    finally:
        for http in clients:
            http.close()
        for sock in idle:
            sock.close()


def _eventually(check: object, timeout: float = 5.0) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_server_lifecycle_rules() -> None:
    server = EmulatorServer(lambda request: EmulatorResponse(204))
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        with HttpClient(base_url=server.url, provider="raw") as http:
            assert http.request("DELETE", "/x").status == 204
        with pytest.raises(RuntimeError, match="starts once"):
            server.start()
    server.stop()


def test_factory_stops_everything_it_started() -> None:
    with EmulatorFactory() as factory:
        toys = [factory(ToyEmulator), factory(LoopbackEmulator)]
        assert factory.started == tuple(toys)
        urls = [t.url for t in toys]
    assert factory.started == ()
    for url in urls:
        with HttpClient(base_url=url, provider="gone") as http, pytest.raises(Exception):  # noqa: B017, PT011
            http.request("GET", "/")


def test_loopback_server_fixture_answers_anything(
    smsbridge_loopback_server: LoopbackEmulator,
) -> None:
    with HttpClient(base_url=smsbridge_loopback_server.url, provider="lb") as http:
        assert http.request("PUT", "/any/where", body=b"raw").text() == "OK"
        smsbridge_loopback_server.response = EmulatorResponse.from_json({"ok": True}, status=202)
        assert http.request("GET", "/x").json() == {"ok": True}
    first = smsbridge_loopback_server.requests[0].request
    assert (first.method, first.path, first.body) == ("PUT", "/any/where", b"raw")


# --- callbacks -------------------------------------------------------------------------------


def test_callbacks_are_posted_to_a_receiver(
    toy: ToyEmulator, smsbridge_loopback_server: LoopbackEmulator
) -> None:
    receiver = smsbridge_loopback_server
    toy.post_callback(f"{receiver.url}/dlr", form={"id": "toy-1", "status": "DELIVRD"})
    toy.post_callback(f"{receiver.url}/dlr-json", json={"id": "toy-2"}, headers={"X-Sig": "s"})
    assert toy.wait_for_callbacks(5.0)
    got = [r.request for r in receiver.requests]
    assert (got[0].path, got[0].form.to_dict()) == (
        "/dlr",
        {"id": "toy-1", "status": "DELIVRD"},
    )
    assert (got[1].json, got[1].headers["x-sig"]) == ({"id": "toy-2"}, "s")
    assert [(d.status, d.duplicate) for d in toy.callbacks] == [(200, False), (200, False)]
    assert [d.method for d in toy.callbacks] == ["POST", "POST"]


def test_get_callbacks_carry_the_form_in_the_query(
    toy: ToyEmulator, smsbridge_loopback_server: LoopbackEmulator
) -> None:
    receiver = smsbridge_loopback_server
    toy.post_callback(f"{receiver.url}/push", form={"id": "toy-1", "st": "a b"}, method="GET")
    toy.post_callback(f"{receiver.url}/push?pass=s", form=[("id", "toy-2")], method="get")
    assert toy.wait_for_callbacks(5.0)
    first, second = (r.request for r in receiver.requests)
    assert (first.method, first.path, first.body) == ("GET", "/push", b"")
    assert first.query.to_dict() == {"id": "toy-1", "st": "a b"}
    assert "content-type" not in first.headers
    assert (second.method, second.query.to_dict()) == ("GET", {"pass": "s", "id": "toy-2"})
    assert [(d.method, d.status, d.body) for d in toy.callbacks] == [("GET", 200, b"")] * 2
    assert toy.callbacks[0].url == f"{receiver.url}/push?id=toy-1&st=a+b"


def test_get_callbacks_refuse_a_body(toy: ToyEmulator) -> None:
    with pytest.raises(ValueError, match="GET"):
        toy.post_callback("http://127.0.0.1:9/x", json={"a": 1}, method="GET")
    with pytest.raises(ValueError, match="PUT"):
        toy.post_callback("http://127.0.0.1:9/x", body=b"x", method="PUT")
    assert toy.wait_for_callbacks(1.0)
    assert len(toy.callbacks) == 0


def test_callback_plan_duplicates_and_shuffles(
    smsbridge_emulator_factory: EmulatorFactory, smsbridge_loopback_server: LoopbackEmulator
) -> None:
    plan = CallbackPlan(duplicate_fraction=1.0, shuffle=True, delay=0.3, seed=7)
    toy = smsbridge_emulator_factory(ToyEmulator, callback_plan=plan)
    for n in range(10):
        toy.post_callback(f"{smsbridge_loopback_server.url}/dlr", form={"n": str(n)})
    assert toy.wait_for_callbacks(10.0)
    order = [r.request.form.get("n") for r in smsbridge_loopback_server.requests]
    assert Counter(order) == {str(n): 2 for n in range(10)}
    assert order != sorted(order, key=lambda n: int(n or 0))
    assert sum(d.duplicate for d in toy.callbacks) == 10


def test_failed_callback_is_recorded_not_raised(toy: ToyEmulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    toy.post_callback(f"http://127.0.0.1:{port}/dlr", body=b"x")
    assert toy.wait_for_callbacks(5.0)
    (delivery,) = toy.callbacks
    assert delivery.status is None and delivery.error and "Connection" in delivery.error
