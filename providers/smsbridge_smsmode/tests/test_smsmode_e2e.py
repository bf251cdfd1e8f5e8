"""End to end over loopback: provider → emulator → reports, callbacks and failover."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

import smsbridge
from smsbridge import (
    Cost,
    DeliveryReport,
    Kind,
    Message,
    MessageNotFoundError,
    ProviderError,
    Scope,
    SendOptions,
    SendResult,
    SmsBridge,
    SmsBridgeError,
    Status,
    UnsupportedOperationError,
)
from smsbridge.sdk import HttpStatus, LoopbackEmulator, ManualClock, TransientCode
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.emulator import SmsmodeEmulator

if TYPE_CHECKING:
    # Only the fixture's type; the fixture itself comes from smsbridge's pytest plugin.
    from smsbridge.sdk.testing import EmulatedProviders

MakeEmulator = Callable[..., SmsmodeEmulator]
MakeProvider = Callable[..., SmsmodeProvider]
FR = "+33612345678"
SENTINEL_TOKEN = "sentinel-TOKEN-4d2b8e"
SENTINEL_PASS = "sentinel-PASS-90af13"


def test_send_one_with_sender_reference_and_latin9_text(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator
) -> None:
    message = Message(FR, "Prix : 5€, réf. été", "MyShop", "order-42")
    (result,) = provider.send(message)
    assert (result.status, result.reference, result.parts) == (Status.ACCEPTED, "order-42", 1)
    (sub,) = emulator.submissions.snapshot()
    assert sub.recipients == ("33612345678",) and sub.message_ids == (result.message_id,)
    assert sub.body == "Prix : 5€, réf. été"  # decoded as ISO-8859-15 by the platform
    assert sub.reference == "order-42"
    assert sub.fields["emetteur"] == "MyShop" and sub.fields["classe_msg"] == "2"
    assert sub.fields["nbr_msg"] == "1"


def test_unicode_goes_as_classe_9(provider: SmsmodeProvider, emulator: SmsmodeEmulator) -> None:
    (result,) = provider.send(Message(FR, "Merci ☺ " * 10))
    assert result.ok and result.parts == 2
    (sub,) = emulator.submissions.snapshot()
    assert sub.fields["classe_msg"] == "9" and sub.body == "Merci ☺ " * 10
    assert sub.parts == 2


def test_send_to_many_shares_one_sms_id_per_request(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator
) -> None:
    numbers = [f"+336{n:08d}" for n in range(301)]
    results = provider.send(Message(tuple(numbers), "Newsletter"))
    assert [r.recipient for r in results] == numbers
    assert all(r.status is Status.ACCEPTED for r in results)
    first, second = emulator.submissions.snapshot()
    assert (len(first.recipients), len(second.recipients)) == (300, 1)
    assert {r.message_id for r in results[:300]} == {first.message_ids[0]}
    assert results[300].message_id == second.message_ids[0]
    assert emulator.submissions.duplicates() == {}


def test_later_chunk_failure_keeps_the_ids_already_issued(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(balance=300)
    provider = make_provider(emulator)
    results = provider.send(Message(tuple(f"+336{n:08d}" for n in range(301)), "Hi"))
    assert all(r.ok for r in results[:300])
    assert results[300].status is Status.REJECTED
    assert results[300].error is not None and results[300].error.code == "33"


def test_schedule_then_cancel(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator, clock: ManualClock
) -> None:
    when = datetime.now(UTC) + timedelta(hours=2)
    (result,) = provider.send(Message(FR, "Rappel", options=SendOptions(scheduled_at=when)))
    assert result.status is Status.SCHEDULED and result.message_id
    assert emulator.submissions[0].fields["date_envoi"]
    before = provider.balance()
    report = provider.cancel(result.message_id)
    assert report.status is Status.CANCELLED
    assert provider.balance() == before + Cost(1)
    with pytest.raises(MessageNotFoundError):
        provider.cancel(result.message_id)


def test_a_sent_message_cannot_be_cancelled(provider: SmsmodeProvider) -> None:
    (result,) = provider.send(Message(FR, "Now"))
    assert result.message_id
    with pytest.raises(MessageNotFoundError):
        provider.cancel(result.message_id)


def test_scheduled_message_leaves_at_its_time(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator, clock: ManualClock
) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    (result,) = provider.send(Message(FR, "Later", options=SendOptions(scheduled_at=when)))
    assert result.message_id
    assert provider.query(message_id=result.message_id).status is Status.SCHEDULED
    clock.advance(3601 + 60)
    emulator.tick()
    assert provider.query(message_id=result.message_id).status is Status.SENT


def test_balance(provider: SmsmodeProvider) -> None:
    assert provider.balance() == Cost(1000, "credits")
    provider.send(Message((FR, "+33712345678"), "x" * 200))
    assert provider.balance() == Cost(996, "credits")


def test_query_follows_the_report_to_the_end(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(final_status={"33612345678": "3998"})
    provider = make_provider(emulator)
    (result,) = provider.send(Message(FR, "Hello"))
    assert result.message_id
    seen = [provider.query(message_id=result.message_id) for _ in range(2)]
    assert [r.status for r in seen] == [Status.SENT, Status.INVALID_NUMBER]
    assert [r.provider_code for r in seen] == ["13", "3998"]
    assert seen[-1].recipient == FR and seen[-1].status.number_invalid
    assert seen[-1].error is not None and seen[-1].error.scope is Scope.RECIPIENT


def test_many_recipients_report_each_and_the_campaign(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(final_status={"33612345678": "3502"})
    provider = make_provider(emulator)
    results = provider.send(Message((FR, "+33712345678"), "Hello"))
    sms_id = results[0].message_id
    assert sms_id
    provider.delivery_reports(sms_id)
    reports = provider.delivery_reports(sms_id)
    assert {r.recipient: r.status for r in reports} == {
        FR: Status.FAILED_TEMPORARY,
        "+33712345678": Status.DELIVERED,
    }
    assert not any(r.status.number_invalid for r in reports)
    campaign = provider.query(message_id=sms_id)
    assert (campaign.status, campaign.provider_code) == (Status.SENT, "15")


def test_unknown_message_and_query_by_reference(provider: SmsmodeProvider) -> None:
    with pytest.raises(MessageNotFoundError):
        provider.query(message_id="NoSuchSms123")
    with pytest.raises(UnsupportedOperationError):
        provider.query(reference="order-1")


def test_callbacks_reach_the_receiver_and_parse(
    provider: SmsmodeProvider,
    emulator: SmsmodeEmulator,
    smsbridge_loopback_server: LoopbackEmulator,
) -> None:
    url = f"{smsbridge_loopback_server.url}/smsmode/dlr?tenant=7"
    message = Message(FR, "Hi", reference="ref-cb", options=SendOptions(callback_url=url))
    (result,) = provider.send(message)
    emulator.tick()
    emulator.tick()
    assert emulator.wait_for_callbacks()
    reports: list[DeliveryReport] = []
    for record in smsbridge_loopback_server.requests:
        request = record.request
        assert request.path == "/smsmode/dlr"
        reports += provider.parse_callback(
            method=request.method,
            query=request.query.to_dict(),
            headers=request.headers,
            body=request.body,
        )
    assert [(r.provider_code, r.status) for r in reports] == [
        ("13", Status.SENT),
        ("11", Status.DELIVERED),
    ]
    assert {(r.message_id, r.reference, r.recipient) for r in reports} == {
        (result.message_id, "ref-cb", FR)
    }
    assert all(r.occurred_at is not None and r.cost == Cost(1) for r in reports)


def test_callback_as_a_form_post(provider: SmsmodeProvider) -> None:
    body = b"numero=33612345678&statut=3999&smsID=S7EpYZ5kmS87&refClient=r1"
    (report,) = provider.parse_callback(method="POST", query={}, headers={}, body=body)
    assert report.status is Status.REJECTED and not report.status.number_invalid


@pytest.mark.parametrize(
    ("fault", "kind"),
    [(TransientCode(), Kind.TRANSIENT), (HttpStatus(503), Kind.TRANSIENT)],
)
def test_platform_trouble_is_a_provider_error(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator, fault: object, kind: Kind
) -> None:
    emulator.faults.add(fault, next_n=1)  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as caught:
        provider.send(Message(FR, "Hi"))
    assert (caught.value.scope, caught.value.kind) == (Scope.PROVIDER, kind)
    assert len(emulator.submissions) == 0


def test_bad_credentials_and_missing_credit(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(balance=0)
    with pytest.raises(ProviderError) as caught:
        make_provider(emulator).send(Message(FR, "Hi"))
    assert (caught.value.code, caught.value.kind) == ("33", Kind.PERMANENT)
    with pytest.raises(ProviderError) as caught:
        make_provider(emulator, access_token="wrong-token").balance()
    assert (caught.value.code, caught.value.scope) == ("32", Scope.PROVIDER)


def test_options_need_one_kind_of_credentials() -> None:
    with pytest.raises(smsbridge.ConfigurationError):
        SmsmodeProvider.from_options()
    with pytest.raises(smsbridge.ConfigurationError):
        SmsmodeProvider.from_options(access_token="a", pseudo="b", password="c")
    with pytest.raises(smsbridge.ConfigurationError):
        SmsmodeProvider.from_options(pseudo="b")
    with pytest.raises(smsbridge.ConfigurationError):
        SmsmodeProvider.from_options(access_token="a", timezone="Mars/Olympus")
    with SmsmodeProvider.from_options(access_token="a") as provider:
        assert provider.options.base_url == "https://api.smsmode.com"


# -- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"access_token": SENTINEL_TOKEN},
        {"access_token": None, "pseudo": "login", "password": SENTINEL_PASS},
    ],
)
def test_credentials_never_in_urls_logs_reprs_or_errors(
    make_emulator: MakeEmulator,
    make_provider: MakeProvider,
    caplog: pytest.LogCaptureFixture,
    credentials: dict[str, str | None],
) -> None:
    secret = SENTINEL_TOKEN if credentials["access_token"] else SENTINEL_PASS
    emulator = make_emulator(access_token=SENTINEL_TOKEN, pseudo="login", password=SENTINEL_PASS)
    provider = make_provider(emulator, **credentials)
    caplog.set_level(logging.DEBUG)
    provider.send(Message(FR, "Hi"))
    provider.balance()
    emulator.faults.add(HttpStatus(500, secret.encode()), next_n=1)
    with pytest.raises(SmsBridgeError) as caught:
        provider.balance()
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in (caught.value.provider_text or "")
    for record in emulator.requests:
        assert secret not in record.request.path
        assert not any(secret in v for _, v in record.request.query)
        assert record.method == "POST"
    assert secret in emulator.requests[0].request.body.decode()  # where it belongs
    assert secret not in caplog.text
    assert secret not in repr(provider) and secret not in repr(provider.options)


# -- as an installed plugin -----------------------------------------------------------------


def test_installed_and_listed() -> None:
    infos = {info.name: info for info in smsbridge.providers()}
    assert infos["smsmode"].cls is SmsmodeProvider
    assert infos["smsmode"].plugin == "smsmode"


def _send(bridge: SmsBridge, number: str) -> SendResult:
    result = bridge.send(Message(number, "Votre code : 482913"))
    assert isinstance(result, SendResult)
    return result


def test_failover_chain_either_way(smsbridge_emulated_provider: EmulatedProviders) -> None:
    smsmode, smsmode_emulator = smsbridge_emulated_provider("smsmode")
    other, other_emulator = smsbridge_emulated_provider("clickatell")
    # The fixture closes the providers; the bridges only borrow them.
    bridge = SmsBridge([smsmode, other], region="FR", store=":memory:")
    assert _send(bridge, "06 12 34 56 78").provider == "smsmode"
    smsmode_emulator.faults.add(HttpStatus(503), next_n=100)
    result = _send(bridge, "06 12 34 56 79")
    assert (result.provider, result.ok) == ("clickatell", True)
    smsmode_emulator.faults.clear()
    other_emulator.faults.add(HttpStatus(503), next_n=100)
    result = _send(SmsBridge([other, smsmode], region="FR", store=":memory:"), "07 12 34 56 78")
    assert (result.provider, result.ok) == ("smsmode", True)
    assert smsmode_emulator.submissions.accepted_recipients() == {
        "33612345678": 1,
        "33712345678": 1,
    }


def test_out_of_credit_fails_over(smsbridge_emulated_provider: EmulatedProviders) -> None:
    smsmode, emulator = smsbridge_emulated_provider("smsmode", balance=0)
    other, _ = smsbridge_emulated_provider("clickatell")
    bridge = SmsBridge([smsmode, other], region="FR", store=":memory:")
    assert _send(bridge, "06 12 34 56 78").provider == "clickatell"
    assert len(emulator.submissions) == 0
