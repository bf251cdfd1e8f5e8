"""HttpClient against real loopback servers: round trips, pooling, failures, redaction, TLS."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smsbridge.credentials import Secret
from smsbridge.errors import (
    ConfigurationError,
    Kind,
    MalformedResponseError,
    ProviderError,
    Scope,
    SmsBridgeError,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.http import HttpClient, HttpResponse, raise_for_transport_status, redact_query
from smsbridge.testing import (
    ConnectionReset,
    Delay,
    Emulator,
    EmulatorFactory,
    EmulatorRequest,
    EmulatorResponse,
    HttpStatus,
    SlowDrip,
    route,
)

SENTINEL = "S3NT1NEL-PA$$"
SENTINEL_FORMS = (SENTINEL, "S3NT1NEL-PA%24%24")


class EchoEmulator(Emulator):
    """Answers what it received, or a status and body chosen by the query string."""

    @route("GET", "/echo")
    @route("POST", "/echo")
    def echo(self, request: EmulatorRequest) -> EmulatorResponse:
        return EmulatorResponse.from_json(
            {
                "method": request.method,
                "query": list(request.query),
                "form": list(request.form),
                "json": request.json,
                "agent": request.headers.get("user-agent"),
                "token": request.headers.get("x-token"),
            }
        )

    @route("GET", "/api/v1/ping")
    def ping(self, request: EmulatorRequest) -> EmulatorResponse:
        return EmulatorResponse(200, "pong")

    @route("GET", "/answer")
    @route("POST", "/answer")
    def answer(self, request: EmulatorRequest) -> EmulatorResponse:
        headers = {}
        if "retry" in request.query:
            headers["Retry-After"] = request.query.get("retry") or ""
        body = request.param("body") or ""
        ctype = request.query.get("type") or "text/plain; charset=utf-8"
        return EmulatorResponse(
            int(request.query.get("status") or "200"), body, headers=headers, content_type=ctype
        )


@pytest.fixture
def factory() -> Iterator[EmulatorFactory]:
    with EmulatorFactory() as started:
        yield started


@pytest.fixture
def echo(factory: EmulatorFactory) -> EchoEmulator:
    return factory(EchoEmulator)


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(base_url: str, **options: object) -> HttpClient:
        client = HttpClient(base_url=base_url, provider=str(options.pop("provider", "test")),
                            **options)  # type: ignore[arg-type]  # fmt: skip
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class ScriptedServer:
    """A raw TCP server running ``script(connection)`` per connection, for byte-level
    misbehaviour (lying or missing Content-Length) that an HTTP server would not produce."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.settimeout(5.0)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(4096) or b"\r\n\r\n"
                    self._script(conn)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._listener.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[socket.socket], None]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Callable[[socket.socket], None]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- round trips and pooling -------------------------------------------------------------


def test_get_fields_become_the_query_and_post_fields_a_form_body(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(echo.url, user_agent="smsbridge-test/1")
    got = client.request("GET", "/echo", fields={"to": "+15550001", "text": "héllo & bye"})
    assert got.status == 200
    assert got.json()["query"] == [["to", "+15550001"], ["text", "héllo & bye"]]
    assert got.json()["agent"] == "smsbridge-test/1"
    posted = client.request(
        "POST", "echo", fields=[("to", "+1"), ("to", "+2")], query={"v": 2},
        headers={"X-Token": Secret("tok-123")},
    )  # fmt: skip
    assert posted.json()["form"] == [["to", "+1"], ["to", "+2"]]
    assert posted.json()["query"] == [["v", "2"]]
    # The secret went onto the wire; the answer quoting it comes back redacted.
    assert echo.requests[-1].request.headers["x-token"] == "tok-123"
    assert posted.json()["token"] == "***"
    assert posted.headers["content-type"] == "application/json"
    assert posted.url_path == "/echo?v=2"


def test_json_round_trip_and_base_path_prefix(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(echo.url)
    payload = {"messages": [{"to": "+15550001", "body": "ça va? ✓"}], "n": 1}
    assert client.request("POST", "/echo", json=payload).json()["json"] == payload
    prefixed = make_client(f"{echo.url}/api/v1/")
    assert prefixed.request("GET", "/ping").text() == "pong"
    with pytest.raises(ValueError, match="at most one"):
        client.request("POST", "/echo", json=payload, body=b"x")


def test_keep_alive_reuses_one_connection(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(echo.url)
    for n in range(5):
        assert client.request("GET", "/echo", fields={"n": n}).status == 200
    assert echo.server.connections_opened == 1
    assert {r.connection_id for r in echo.requests} == {1}


def test_drain_idle_waits_for_the_server_to_close_and_leaves_the_client_usable(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(echo.url, pool_size=1)
    assert client.request("GET", "/echo").status == 200
    assert echo.server.open_connections == 1
    client.drain_idle(wait=5.0)
    # The server's side is closed by the time drain_idle returns: a provider counting
    # connections per account sees none left over.
    assert echo.server.open_connections == 0
    assert client.request("GET", "/echo").status == 200
    assert echo.server.connections_opened == 2


def test_drain_idle_on_an_unused_client_does_nothing(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(echo.url)
    client.drain_idle(wait=5.0)
    assert echo.server.connections_opened == 0


def test_pool_size_one_never_opens_two_connections(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(Delay(0.05))
    client = make_client(echo.url, pool_size=1)
    statuses: list[int] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        statuses.extend(client.request("GET", "/echo").status for _ in range(3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 12
    assert echo.server.max_concurrent_connections == 1
    assert echo.server.connections_opened == 1


def test_larger_pool_does_run_requests_in_parallel(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    # The counterpart of the test above: proves the server can observe concurrency.
    echo.faults.add(Delay(1.0))
    client = make_client(echo.url, pool_size=4)
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        client.request("GET", "/echo")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert echo.server.max_concurrent_connections > 1


# --- failures ----------------------------------------------------------------------------


def test_connection_refused_is_transient_provider_transport_error(
    make_client: Callable[..., HttpClient],
) -> None:
    client = make_client(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TransportError) as caught:
        client.request("POST", "/send", fields={"to": "+1"})
    error = caught.value
    assert not isinstance(error, UnknownOutcomeError)
    assert (error.scope, error.kind, error.outcome_unknown) == (
        Scope.PROVIDER,
        Kind.TRANSIENT,
        False,
    )
    assert error.provider == "test"
    assert "could not connect" in str(error)


def test_read_timeout_is_unknown_outcome(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(Delay(3.0), next_n=1)
    client = make_client(echo.url, timeout=0.3)
    began = time.monotonic()
    with pytest.raises(UnknownOutcomeError) as caught:
        client.request("POST", "/echo", fields={"to": "+1"})
    assert time.monotonic() - began < 2.5
    assert caught.value.outcome_unknown
    assert (caught.value.scope, caught.value.kind) == (Scope.PROVIDER, Kind.TRANSIENT)
    assert "read timed out" in str(caught.value)


def test_read_only_request_timeout_is_a_plain_transport_error(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(Delay(3.0), next_n=1)
    client = make_client(echo.url, timeout=0.3)
    with pytest.raises(TransportError) as caught:
        client.request("GET", "/echo", sent_marker=False)
    assert not caught.value.outcome_unknown


def test_reset_after_the_request_was_read_is_unknown_outcome(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(ConnectionReset(), next_n=1)
    client = make_client(echo.url)
    with pytest.raises(UnknownOutcomeError):
        client.request("POST", "/echo", fields={"to": "+1"})
    # The broken connection was discarded, not returned to the pool.
    assert client.request("POST", "/echo").status == 200


def test_oversize_body_is_malformed(
    factory: EmulatorFactory,
    make_client: Callable[..., HttpClient],
    scripted: Callable[[Callable[[socket.socket], None]], ScriptedServer],
) -> None:
    emulator = factory(EchoEmulator)
    client = make_client(emulator.url, max_body_bytes=1000)
    with pytest.raises(MalformedResponseError, match="1001"):
        client.request("GET", "/answer", fields={"body": "x" * 1001})

    def undeclared_length(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"y" * 300_000)

    streaming = make_client(scripted(undeclared_length).url, max_body_bytes=100_000)
    with pytest.raises(MalformedResponseError, match="exceeds 100000 bytes"):
        streaming.request("GET", "/")


def test_incomplete_body_is_unknown_outcome(
    make_client: Callable[..., HttpClient],
    scripted: Callable[[Callable[[socket.socket], None]], ScriptedServer],
) -> None:
    def truncated(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"z" * 50)

    client = make_client(scripted(truncated).url)
    with pytest.raises(UnknownOutcomeError, match="connection broken"):
        client.request("POST", "/send", fields={"to": "+1"})


def test_slow_drip_beyond_the_total_deadline_fails_quickly(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(SlowDrip(bytes_per_second=40))
    client = make_client(echo.url, timeout=5.0, total_timeout=0.5)
    began = time.monotonic()
    with pytest.raises(UnknownOutcomeError, match=r"within 0\.5s"):
        client.request("POST", "/answer", fields={"body": "d" * 2000})  # 50 s at this rate
    assert time.monotonic() - began < 5.0


# --- statuses and response helpers -------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, Kind.TRANSIENT), (503, Kind.TRANSIENT), (429, Kind.TRANSIENT), (400, Kind.PERMANENT),
     (401, Kind.PERMANENT), (404, Kind.PERMANENT)],
)  # fmt: skip
def test_raise_for_transport_status(
    echo: EchoEmulator, make_client: Callable[..., HttpClient], status: int, kind: Kind
) -> None:
    client = make_client(echo.url, provider="acme")
    response = client.request("GET", "/answer", fields={"status": status, "retry": "7"})
    assert response.status == status  # request() itself never raises for a status
    with pytest.raises(ProviderError) as caught:
        raise_for_transport_status(response)
    error = caught.value
    assert (error.scope, error.kind, error.code) == (Scope.PROVIDER, kind, f"HTTP {status}")
    assert (error.provider, error.retry_after) == ("acme", 7.0)
    raise_for_transport_status(client.request("GET", "/answer", fields={"status": 204}))


def test_http_status_fault_and_retry_after(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    echo.faults.add(HttpStatus(503, b"down", retry_after=12), next_n=1)
    response = make_client(echo.url).request("GET", "/echo")
    assert (response.status, response.body, response.retry_after()) == (503, b"down", 12.0)


def response_with(headers: dict[str, str], body: bytes = b"") -> HttpResponse:
    return HttpResponse(200, headers, body=body, elapsed=0.01, url_path="/x", provider="p")


def test_retry_after_parsing() -> None:
    assert response_with({"Retry-After": "120"}).retry_after() == 120.0
    date = response_with({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"})
    assert date.retry_after(now=1445412480.0) == 30.0
    assert date.retry_after(now=1445412600.0) == 0.0  # already past
    for garbage in ("soon", "-5", "", "nan", "inf", "Wed, 99 Foo"):
        assert response_with({"Retry-After": garbage}).retry_after() is None
    assert response_with({}).retry_after() is None


def test_text_uses_the_declared_charset_and_replaces_bad_bytes() -> None:
    latin = response_with(
        {"Content-Type": "text/plain; charset=ISO-8859-1"}, "café".encode("latin-1")
    )
    assert latin.text() == "café"
    broken = response_with({"Content-Type": "text/plain; charset=no-such"}, b"ok \xff")
    assert broken.text() == "ok \ufffd"
    assert response_with({}, b"\xc3\xa9").text() == "é"
    assert response_with({"X-A": "1"}).headers == {"x-a": "1"}


def test_json_on_a_bad_body_is_malformed_response() -> None:
    with pytest.raises(MalformedResponseError) as caught:
        response_with({}, b"<html>oops</html>").json()
    assert caught.value.outcome_unknown
    assert caught.value.excerpt == "<html>oops</html>"
    assert caught.value.provider == "p"


# --- configuration safety ----------------------------------------------------------------


def test_plain_http_to_a_non_loopback_host_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match=r"plain http to 10\.0\.0\.1"):
        HttpClient(base_url="http://10.0.0.1/api", provider="p")
    with pytest.raises(ConfigurationError, match="verify=False"):
        HttpClient(base_url="https://10.0.0.1/api", provider="p", verify=False)
    with pytest.raises(ConfigurationError, match="credentials"):
        HttpClient(base_url="https://user:pw@10.0.0.1/", provider="p")
    with pytest.raises(ConfigurationError, match="http"):
        HttpClient(base_url="ftp://10.0.0.1/", provider="p")
    # Allowed: explicitly insecure, TLS anywhere, plain http on loopback. Nothing connects.
    for url, insecure in [("http://10.0.0.1/", True), ("https://10.0.0.1/", False),
                          ("http://localhost:1/", False), ("http://127.3.0.1/", False),
                          ("http://[::1]:8/", False)]:  # fmt: skip
        HttpClient(base_url=url, provider="p", allow_insecure=insecure).close()


def test_closed_client_refuses_requests_and_repr_is_minimal(echo: EchoEmulator) -> None:
    with HttpClient(base_url=echo.url, provider="acme", secrets=["hunter22"]) as client:
        assert repr(client) == f"HttpClient(provider='acme', base_url='{echo.url}')"
    with pytest.raises(ConfigurationError, match="closed"):
        client.request("GET", "/echo")


# --- redaction ---------------------------------------------------------------------------


def assert_clean(*texts: str) -> None:
    for text in texts:
        for form in SENTINEL_FORMS:
            assert form not in text


def test_sentinel_secret_never_leaks(
    factory: EmulatorFactory,
    make_client: Callable[..., HttpClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = factory(EchoEmulator)
    client = make_client(echo.url, secrets=[Secret(SENTINEL)], timeout=0.3)
    refused = make_client(f"http://127.0.0.1:{closed_port()}", secrets=[SENTINEL])
    send = {"user": "u", "q": SENTINEL, "pwd": SENTINEL}
    errors: list[SmsBridgeError] = []

    ok = client.request("POST", "/echo", fields=send, query={"q": SENTINEL},
                        headers={"X-Token": SENTINEL})  # fmt: skip
    assert echo.requests[-1].request.form.get("q") == SENTINEL  # it did go onto the wire
    assert ok.json()["form"][1] == ["q", "***"]  # and its echo is redacted
    client.request("GET", "/echo", fields=send)
    echo.faults.add(Delay(2.0), next_n=1)
    echo.faults.add(ConnectionReset(), next_n=1)
    for _ in range(2):
        with pytest.raises(UnknownOutcomeError) as unknown:
            client.request("GET", "/echo", fields=send)
        errors.append(unknown.value)
    with pytest.raises(TransportError) as transport:
        refused.request("GET", "/send", fields=send)
    errors.append(transport.value)
    # The server echoes the secret back in an error page and in a non-JSON body.
    reply = client.request("GET", "/answer", fields={"status": 401, "body": f"bad pw {SENTINEL}"})
    for bad in (lambda: raise_for_transport_status(reply), reply.json):
        with pytest.raises(SmsBridgeError) as caught:
            bad()
        errors.append(caught.value)
    assert isinstance(errors[-1], MalformedResponseError)

    # The emulator plays the provider, which legitimately sees the credentials.
    client_logs = [r.getMessage() for r in caplog.records if r.name != "smsbridge.testing"]
    assert any("/echo" in line for line in client_logs)
    assert_clean(*client_logs, repr(client), repr(refused), repr(reply), reply.url_path)
    for error in errors:
        details = f"{error.provider_text} {getattr(error, 'excerpt', '')} {error.args}"
        assert_clean(str(error), repr(error), error.message, details)
    assert errors[-2].provider_text == "bad pw ***"


def test_credential_like_parameters_are_hidden_even_when_not_declared(
    echo: EchoEmulator, make_client: Callable[..., HttpClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smsbridge.http")
    undeclared = {"api_key": "k-998877", "password": "pw-445566", "to": "+15550001"}
    response = make_client(echo.url).request("GET", "/echo", fields=undeclared)
    assert response.url_path == "/echo?api_key=***&password=***&to=%2B15550001"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "api_key=***" in logged
    assert "k-998877" not in logged and "pw-445566" not in logged
    assert redact_query("/x?session_id=abc&token=t&name=n") == "/x?session_id=***&token=***&name=n"
    # Secret values passed to request() are redacted even when not declared up front.
    echo.faults.add(ConnectionReset(), next_n=1)
    with pytest.raises(UnknownOutcomeError) as caught:
        make_client(echo.url).request("GET", "/echo", fields={"q": Secret("zz-undeclared")})
    assert "zz-undeclared" not in str(caught.value) + "\n".join(
        r.getMessage() for r in caplog.records
    )


# --- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make a test certificate"
    where = tmp_path_factory.mktemp("tls")
    cert, key = str(where / "cert.pem"), str(where / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert Path(cert).exists()
    return cert, key


def test_tls_verification_failure_fails_closed(
    factory: EmulatorFactory,
    make_client: Callable[..., HttpClient],
    self_signed: tuple[str, str],
) -> None:
    cert, key = self_signed
    emulator = factory(EchoEmulator, certfile=cert, keyfile=key)
    assert emulator.url.startswith("https://127.0.0.1:")
    with pytest.raises(TransportError) as caught:
        make_client(emulator.url).request("POST", "/echo", fields={"to": "+1"})
    error = caught.value
    assert (error.kind, error.scope, error.outcome_unknown) == (
        Kind.PERMANENT,
        Scope.PROVIDER,
        False,
    )
    assert "verification failed" in str(error)
    assert len(emulator.requests) == 0
    # Trusting the certificate explicitly works, so the failure above was verification.
    trusted = make_client(emulator.url, ca_certs=cert)
    assert trusted.request("GET", "/api/v1/ping").text() == "pong"
    with pytest.raises(ConfigurationError, match="ca_certs"):
        HttpClient(base_url=emulator.url, provider="p", ca_certs=str(Path(cert).parent / "none"))


def test_tls_handshake_failure_is_transient(
    echo: EchoEmulator, make_client: Callable[..., HttpClient]
) -> None:
    # Speaking TLS to a plain-HTTP server: the handshake fails before anything is sent.
    client = make_client(echo.url.replace("http://", "https://"))
    with pytest.raises(TransportError, match="TLS handshake failed") as caught:
        client.request("POST", "/echo", fields={"to": "+1"})
    assert (caught.value.kind, caught.value.outcome_unknown) == (Kind.TRANSIENT, False)
