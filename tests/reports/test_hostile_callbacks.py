"""Hostile callbacks over real sockets: generated garbage, huge fields, broken form, JSON
and XML encodings and wrong types, posted to every bundled provider's route. Each gets
a typed answer from a fixed set (never a 500, never a hang), and no credential, even one
the request itself carries, shows up in an answer, a log line or the outbox file."""

from __future__ import annotations

import base64
import logging
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from smsbridge.credentials import secret_forms
from smsbridge.outbox import SqliteStore
from smsbridge.reports import Auth, BasicAuth, ReportReceiver, ReportServer, TokenAuth
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_huawei import HuaweiProvider
from smsbridge_smsmode import SmsmodeProvider
from tests.strategies import callback_request

SECRETS = {
    "api_id": "HOSTILE-api-31415",
    "ct_password": "HOSTILE-ct-pass/+=",
    "hw_key": "HOSTILE-hw-app-key",
    "hw_secret": "HOSTILE-hw-secret",
    "bs_password": "HOSTILE-bs-pass-77",
    "sm_token": "HOSTILE-sm-token-9",
    "cb_password": "HOSTILE-cb-pass-12",
    "token": "HOSTILE-route-token-0123456789",
}
#: The answers a callback may get: each a decision, none an accident.
TYPED = {200, 400, 401, 403, 404, 405, 408, 409, 413, 414, 431}


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Target:
    def __init__(self, url: str, outbox: pathlib.Path, logs: _Lines) -> None:
        self.url, self.outbox, self.logs = url, outbox, logs
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(30.0))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    outbox = tmp_path_factory.mktemp("hostile") / "outbox.sqlite3"
    providers: list[Any] = [
        ClickatellProvider.from_options(
            base_url="http://127.0.0.1:9", api_id=SECRETS["api_id"], user="u",
            password=SECRETS["ct_password"],
        ),
        HuaweiProvider.from_options(
            base_url="http://127.0.0.1:9", app_key=SECRETS["hw_key"],
            app_secret=SECRETS["hw_secret"], channel="ch1",
        ),
        BulkSmsProvider.from_options(
            base_url="http://127.0.0.1:9/eapi", username="u", password=SECRETS["bs_password"]
        ),
        SmsmodeProvider.from_options(
            base_url="http://127.0.0.1:9", access_token=SECRETS["sm_token"]
        ),
    ]  # fmt: skip
    auth: dict[str, Auth] = {
        "clickatell": BasicAuth("cb-user", SECRETS["cb_password"]),
        "huawei": TokenAuth(SECRETS["token"]),
        "bulksms": TokenAuth(SECRETS["token"]),
        "smsmode": TokenAuth(SECRETS["token"]),
    }
    logs = _Lines()
    logger = logging.getLogger("smsbridge")
    logger.addHandler(logs)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    with SqliteStore(outbox) as store:
        receiver = ReportReceiver(providers, store=store, auth=auth)
        with ReportServer(receiver, request_timeout=10.0) as server:
            yield Target(server.url, outbox, logs)
    logger.removeHandler(logs)
    logger.setLevel(level)
    for provider in providers:
        provider.close()


def _leaks(data: bytes) -> list[str]:
    found = []
    for name, secret in SECRETS.items():
        for form in secret_forms(secret):
            if form.encode() in data:
                found.append(name)
                break
    return found


@settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    request=callback_request(),
    route=st.sampled_from(["clickatell", "huawei", "bulksms", "smsmode"] * 3 + ["nobody"]),
    authenticated=st.sampled_from([True, True, True, False]),  # mostly reach the parsers
    carries_secrets=st.booleans(),
)
def test_hostile_callbacks_get_a_typed_answer_and_leak_nothing(
    target: Target,
    request: tuple[str, str, str, bytes],
    route: str,
    authenticated: bool,
    carries_secrets: bool,
) -> None:
    method, query, ctype, body = request
    headers = {"Content-Type": ctype} if ctype else {}
    path = f"/{route}"
    if route == "clickatell":
        password = SECRETS["cb_password"] if authenticated else "wrong-password"
        pair = base64.b64encode(f"cb-user:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    elif authenticated:
        path += f"/{SECRETS['token']}"
    if carries_secrets:
        # A request quoting our credentials in fields the parsers keep (raw, texts).
        quoted = "&".join(f"from={v}&description={v}" for v in SECRETS.values())
        query = f"{query}&{quoted}" if query else quoted
    url = f"{target.url}{path}" + (f"?{query}" if query else "")
    reply = target.http.request(method, url, body=body or None, headers=headers)
    event(f"HTTP {reply.status}")
    assert reply.status in TYPED, (reply.status, reply.data[:200])
    if reply.status == 200:
        assert reply.data == b"OK\n"
    assert _leaks(reply.data) == []
    assert _leaks("\n".join(target.logs.lines).encode()) == []
    stored = b"".join(p.read_bytes() for p in target.outbox.parent.glob("outbox.sqlite3*"))
    assert _leaks(stored) == []
