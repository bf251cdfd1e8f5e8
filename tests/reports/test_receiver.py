"""The receiver over real loopback HTTP: routes, authentication, limits, every callback
form, part combination, and the delivery-report hook."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3

import smsbridge
from smsbridge import DeliveryReport, SendResult, Status
from smsbridge.errors import ConfigurationError
from smsbridge.outbox import SqliteStore
from smsbridge.plugins import make_plugin_manager
from smsbridge.reports import Auth, BasicAuth, ReportReceiver, TokenAuth, Unauthenticated
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_huawei import HuaweiProvider

from .conftest import OWNER, TOKEN, Serve

BASIC = ("cb-user", "cb-password-7781")


@pytest.fixture
def http() -> Iterator[urllib3.PoolManager]:
    pool = urllib3.PoolManager(retries=False, timeout=5.0)
    yield pool
    pool.clear()


@pytest.fixture
def providers() -> Iterator[list[Any]]:
    made = [
        ClickatellProvider.from_options(
            base_url="http://127.0.0.1:9", api_id="3141592", user="u", password="p"
        ),
        HuaweiProvider.from_options(
            base_url="http://127.0.0.1:9", app_key="k", app_secret="s", channel="ch1"
        ),
        BulkSmsProvider.from_options(
            base_url="http://127.0.0.1:9/eapi", username="u", password="p"
        ),
    ]
    yield made
    for provider in made:
        provider.close()


@pytest.fixture
def url(providers: list[Any], store: SqliteStore, serve_receiver: Serve) -> str:
    auth: dict[str, Auth] = {
        "clickatell": BasicAuth(*BASIC),
        "huawei": TokenAuth(TOKEN),
        "bulksms": TokenAuth(TOKEN),
    }
    return serve_receiver(ReportReceiver(providers, store=store, auth=auth)).url


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _sent(store: SqliteStore, reference: str, provider: str, message_id: str, to: str) -> None:
    store.add([smsbridge.outbox.NewItem(reference=reference, recipient=to, body="b")], now=1.0)
    store.claim(OWNER, limit=10, now=1.0, lease_seconds=60)
    store.begin_attempt(reference, owner=OWNER, provider=provider, now=1.0)
    result = SendResult(to, Status.ACCEPTED, provider=provider, message_id=message_id)
    store.finish(reference, owner=OWNER, result=result, now=1.0)


CT_FIELDS = {
    "api_id": "3141592",
    "apiMsgId": "996411ad91fa211e7d17bc873aa4a41d",
    "cliMsgId": "ref1",
    "timestamp": "1218007814",
    "to": "447700900123",
    "from": "27833001171",
    "status": "004",
    "charge": "0.300000",
}
CT_XML = (
    "<?xml version='1.0'?><callback>"
    + "".join(f"<{k}>{v}</{k}>" for k, v in CT_FIELDS.items())
    + "</callback>"
)
CT_SOAP = (
    '<?xml version="1.0"?><SOAP-ENV:Envelope '
    'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
    '<ns1:callback xmlns:ns1="urn:callback">'
    + "".join(f"<{k.lower()}>{v}</{k.lower()}>" for k, v in CT_FIELDS.items())
    + "</ns1:callback></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
CT_FORMS = {
    "http-get": ("GET", urlencode(CT_FIELDS), None),
    "http-post": ("POST", "", urlencode(CT_FIELDS)),
    "xml-get": ("GET", urlencode({"data": CT_XML}), None),
    "xml-post": ("POST", "", urlencode({"data": CT_XML})),
    "soap-get": ("GET", urlencode({"data": CT_SOAP}), None),
    "soap-post": ("POST", "", urlencode({"data": CT_SOAP})),
}


@pytest.mark.parametrize("form", sorted(CT_FORMS))
def test_clickatell_every_callback_form_is_recorded_with_its_charge(
    form: str, url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    _sent(store, "ref1", "clickatell", "996411AD91FA211E7D17BC873AA4A41D", "+447700900123")
    method, query, body = CT_FORMS[form]
    headers = _basic(*BASIC)
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    reply = http.request(method, f"{url}/clickatell?{query}", body=body, headers=headers)
    assert reply.status == 200
    item = store.get("ref1")
    assert item is not None and item.status is Status.DELIVERED
    history = store.history("ref1")
    assert history is not None
    assert history.reports[-1].cost == smsbridge.Cost("0.3", "credits")


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/clickatell", {}, 401),
        ("/clickatell", _basic("cb-user", "wrong"), 403),
        ("/clickatell", {"Authorization": "Basic !!!"}, 403),
        (f"/clickatell/{TOKEN}", _basic(*BASIC), 403),
        ("/huawei", {}, 401),
        ("/huawei/wrong-token-wrong-token", {}, 403),
        ("/nobody", {}, 404),
        ("/huawei/a/b", {}, 404),
    ],
)
def test_unauthenticated_requests_change_nothing(
    path: str,
    headers: dict[str, str],
    status: int,
    url: str,
    store: SqliteStore,
    http: urllib3.PoolManager,
) -> None:
    _sent(store, "ref1", "clickatell", "996411ad91fa211e7d17bc873aa4a41d", "+447700900123")
    body = urlencode(CT_FIELDS)
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    reply = http.request("POST", f"{url}{path}", body=body, headers=headers)
    assert reply.status == status
    if status == 401 and path == "/clickatell":
        assert reply.headers["WWW-Authenticate"].startswith("Basic ")
    history = store.history("ref1")
    assert history is not None and history.reports == ()
    assert history.item.status is Status.ACCEPTED


def test_limits_methods_and_garbage(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    base = f"{url}/huawei/{TOKEN}"
    assert http.request("PUT", base, body=b"x").status == 405
    assert http.request("POST", base, body=b"a" * (64 * 1024 + 1)).status == 413
    assert http.request("POST", base, body=b"\xff\xfe garbage").status == 400
    assert http.request("GET", base).status == 400  # Huawei reports are POSTed
    many = "&".join(f"f{i}=1" for i in range(500))
    assert http.request("GET", f"{url}/bulksms/{TOKEN}?{many}").status == 400
    assert store.counts() == {} or sum(store.counts().values()) == 0


def _huawei(message_id: str, sequence: int, total: int, status: str) -> str:
    return urlencode({
        "smsMsgId": message_id, "status": status, "sequence": sequence, "total": total,
        "extend": "hw1", "to": "+447700900201", "updateTime": "2024-01-01T00:00:00Z",
    })  # fmt: skip


def test_huawei_parts_combine_to_the_most_telling_failure(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    _sent(store, "hw1", "huawei", "batch_7", "+447700900201")
    seen: list[str] = []
    for sequence, status in [(2, "EXPIRED"), (1, "DELIVRD"), (1, "DELIVRD"), (3, "UNDELIV")]:
        body = _huawei("BATCH_07", sequence, 3, status)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        reply = http.request("POST", f"{url}/huawei/{TOKEN}", body=body, headers=headers)
        assert reply.status == 200
        item = store.get("hw1")
        assert item is not None and item.status is not None
        seen.append(item.status.value)
    assert seen == ["sent", "sent", "sent", "failed_permanent"]
    history = store.history("hw1")
    assert history is not None
    assert [r.part for r in history.reports] == [2, 1, 1, 3, None]
    assert history.reports[-1].raw["part_codes"] == ["DELIVRD", "EXPIRED", "UNDELIV"]


def test_bulksms_push_is_parked_until_the_submit_result_lands(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    query = urlencode({"msisdn": "447700900301", "batch_id": "42", "status": "11"})
    assert http.request("GET", f"{url}/bulksms/{TOKEN}?{query}").status == 200
    _sent(store, "bs1", "bulksms", "0042:447700900301", "+447700900301")
    item = store.get("bs1")
    assert item is not None and item.status is Status.DELIVERED


def test_hook_sees_every_recorded_report_and_its_failure_is_contained(
    providers: list[Any], serve_receiver: Serve, http: urllib3.PoolManager
) -> None:
    seen: list[DeliveryReport] = []

    class Plugin:
        @smsbridge.hookimpl
        def smsbridge_delivery_report(self, report: DeliveryReport) -> None:
            seen.append(report)
            raise RuntimeError("an application bug")

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(Plugin())
    receiver = ReportReceiver(
        providers[:1], store=None, auth={"clickatell": Unauthenticated()}, plugin_manager=manager
    )
    base = serve_receiver(receiver).url
    reply = http.request("GET", f"{base}/clickatell?{urlencode(CT_FIELDS)}")
    assert reply.status == 200
    assert [r.status for r in seen] == [Status.DELIVERED]
    assert http.request("GET", f"{base}/clickatell/{TOKEN}").status == 403


def test_every_provider_needs_an_explicit_auth(providers: list[Any]) -> None:
    with pytest.raises(ConfigurationError, match="clickatell"):
        ReportReceiver(providers[:1], store=None, auth={})
    with pytest.raises(ConfigurationError, match="nobody"):
        ReportReceiver(
            providers[:1],
            store=None,
            auth={"clickatell": Unauthenticated(), "nobody": Unauthenticated()},
        )
    with pytest.raises(ValueError, match="16"):
        TokenAuth("short")


def _unknown_report(with_api_id: bool) -> str:
    fields = {**CT_FIELDS, "apiMsgId": "aa00000000000000000000000000beef", "cliMsgId": "late1"}
    if not with_api_id:
        del fields["api_id"]
    return urlencode(fields)


def test_an_unknown_message_reported_without_a_tenant_is_refused_never_parked(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    # Behind a Basic login that several API products may share, only the api_id says
    # whose message it is: without it, a report for an unknown message is refused.
    query = _unknown_report(with_api_id=False)
    reply = http.request("GET", f"{url}/clickatell?{query}", headers=_basic(*BASIC))
    assert reply.status == 409
    _sent(store, "late1", "clickatell", "aa00000000000000000000000000beef", "+447700900123")
    history = store.history("late1")
    assert history is not None and history.reports == ()
    assert history.item.status is Status.ACCEPTED
    # Once the message is known, the same report is ours: accepted and applied.
    assert http.request("GET", f"{url}/clickatell?{query}", headers=_basic(*BASIC)).status == 200
    item = store.get("late1")
    assert item is not None and item.status is Status.DELIVERED


def test_an_unknown_message_reported_with_its_tenant_is_parked(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    query = _unknown_report(with_api_id=True)
    reply = http.request("GET", f"{url}/clickatell?{query}", headers=_basic(*BASIC))
    assert reply.status == 200
    _sent(store, "late1", "clickatell", "aa00000000000000000000000000beef", "+447700900123")
    item = store.get("late1")
    assert item is not None and item.status is Status.DELIVERED


def test_a_report_quoting_secrets_is_stored_without_them(
    url: str, store: SqliteStore, http: urllib3.PoolManager
) -> None:
    _sent(store, "ref1", "clickatell", "996411ad91fa211e7d17bc873aa4a41d", "+447700900123")
    # The callback password (the route's) and the api_id (the provider's) in a field the
    # parser keeps: neither may reach the outbox.
    fields = {**CT_FIELDS, "from": "cb-password-7781 3141592"}
    reply = http.request("GET", f"{url}/clickatell?{urlencode(fields)}", headers=_basic(*BASIC))
    assert reply.status == 200
    history = store.history("ref1")
    assert history is not None
    stored = repr(history.reports)
    assert "***" in stored
    assert "cb-password-7781" not in stored and "3141592" not in stored
