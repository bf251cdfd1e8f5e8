"""End to end over loopback: sending, querying and account calls against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smsbridge import (
    Cost,
    InvalidMessageError,
    Kind,
    Message,
    ProviderError,
    Scope,
    SendOptions,
    Status,
)
from smsbridge.testing import ManualClock
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.protocol import decode_unicode

MakeEmulator = Callable[..., ClickatellEmulator]
MakeProvider = Callable[..., ClickatellProvider]
UK = "+447700900123"


def paths(emulator: ClickatellEmulator) -> list[str]:
    return [r.path for r in emulator.requests]


def test_single_message(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    [result] = provider.send(Message(UK, "Your code is 482913", "ACME", "ref1"))
    assert result.status is Status.ACCEPTED and result.ok
    assert result.message_id and result.reference == "ref1" and result.parts == 1
    [submission] = emulator.submissions
    assert submission.recipients == (UK,)
    assert submission.message_ids == (result.message_id,)
    assert submission.reference == "ref1"
    assert submission.fields["from"] == "ACME"
    assert emulator.balance == 999
    for record in emulator.requests:
        assert record.method == "POST"
        assert "password" not in record.request.query
        assert "session_id" not in record.request.query


def test_multi_destination_mixed_lines(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(
        number_errors={"447700900125": "121", "447700900126": "128"}, quirky_spacing=True
    )
    provider = make_provider(emulator)
    numbers = [UK, "+85012345678", "+447700900125", "+447700900126", "+12", "+447700900124"]
    results = provider.send(Message(numbers, "hello all", reference="multi1"))
    assert [r.recipient for r in results] == numbers
    assert [r.status for r in results] == [
        Status.ACCEPTED,
        Status.REJECTED,
        Status.REJECTED,
        Status.REJECTED,  # 128 delisted: the number is kept
        Status.INVALID_NUMBER,
        Status.ACCEPTED,
    ]
    errors = [r.error.code if r.error else None for r in results]
    assert errors == [None, "114", "121", "128", "105", None]
    unroutable = results[1].error
    assert unroutable is not None and unroutable.scope is Scope.PROVIDER
    assert emulator.submissions.accepted_recipients() == {UK: 1, "+447700900124": 1}
    assert len(emulator.requests) == 2  # auth + one sendmsg


def test_more_than_300_destinations_are_split(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    numbers = [f"+4477009{n:05d}" for n in range(650)]
    results = provider.send(Message(numbers, "hi", reference="big"))
    assert [r.recipient for r in results] == numbers
    assert all(r.status is Status.ACCEPTED for r in results)
    assert [len(s.recipients) for s in emulator.submissions] == [300, 300, 50]


def test_unicode(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    [result] = provider.send(Message(UK, "Привет ☺ ΩΨΘ", reference="u1"))
    assert result.ok and result.parts == 1
    [submission] = emulator.submissions
    assert submission.body == "Привет ☺ ΩΨΘ"
    assert submission.fields["unicode"] == "1"
    assert decode_unicode(submission.fields["text"]) == "Привет ☺ ΩΨΘ"


def test_multipart_sets_concat_and_respects_max_parts(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    text = "x" * 400
    [result] = provider.send(Message(UK, text, reference="long"))
    assert result.parts == 3
    assert emulator.submissions[0].fields["concat"] == "3"
    assert emulator.balance == 997
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(Message(UK, text, reference="long2", options=SendOptions(max_parts=2)))
    assert caught.value.field == "max_parts"
    assert len(emulator.submissions) == 1


def test_scheduled_query_cancel(
    provider: ClickatellProvider, emulator: ClickatellEmulator, clock: ManualClock
) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    message = Message(UK, "later", reference="sched1", options=SendOptions(scheduled_at=when))
    [result] = provider.send(message)
    assert result.status is Status.SCHEDULED
    assert int(emulator.submissions[0].fields["scheduled_time"]) >= int(when.timestamp())
    assert provider.query(reference="sched1").status is Status.SCHEDULED
    assert provider.query(message_id=result.message_id).provider_code == "011"
    before = emulator.balance
    report = provider.cancel(result.message_id)
    assert report.status is Status.CANCELLED and report.provider_code == "006"
    assert emulator.balance == before + 1
    assert provider.query(reference="sched1").status is Status.CANCELLED


def test_scheduled_message_goes_out_at_its_time(
    provider: ClickatellProvider, clock: ManualClock
) -> None:
    when = datetime.now(UTC) + timedelta(minutes=30)
    [result] = provider.send(
        Message(UK, "later", reference="sched2", options=SendOptions(scheduled_at=when))
    )
    clock.advance(31 * 60)
    assert provider.query(message_id=result.message_id).status is Status.SENT


def test_schedule_beyond_seven_days_is_refused(provider: ClickatellProvider) -> None:
    when = datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(Message(UK, "x", options=SendOptions(scheduled_at=when)))
    assert caught.value.field == "scheduled_at"


def test_query_by_id_and_reference_advances(provider: ClickatellProvider) -> None:
    [result] = provider.send(Message(UK, "hello", reference="q1"))
    first = provider.query(message_id=result.message_id)
    assert (first.status, first.provider_code, first.reference) == (Status.SENT, "003", None)
    second = provider.query(reference="q1")
    assert (second.status, second.message_id) == (Status.DELIVERED, result.message_id)
    assert second.reference == "q1"
    # A cancel after delivery changes nothing and says so.
    assert provider.cancel(reference="q1").status is Status.DELIVERED


def test_batch_style_references_are_mapped_to_valid_client_ids(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    [result] = provider.send(Message(UK, "hello", reference="0123456789abcdef0123-17"))
    assert result.ok
    assert provider.query(reference="0123456789abcdef0123-17").message_id == result.message_id


def test_failed_delivery_and_routing_error(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(final_status={"447700900123": "007"})
    provider = make_provider(emulator)
    [_result] = provider.send(Message(UK, "hello", reference="f1"))
    provider.query(reference="f1")
    report = provider.query(reference="f1")
    # 007 ends an absent handset's retry cycle: retryable, the number is fine.
    assert report.status is Status.FAILED_TEMPORARY and report.error is not None
    # Spec 5.2.8: over max_credits still gets an id, then routing error 009.
    options = SendOptions(extra={"max_credits": "0.8"})
    [capped] = provider.send(Message("+447700900999", "hi", reference="f2", options=options))
    assert capped.ok
    report = provider.query(message_id=capped.message_id)
    assert report.status is Status.FAILED_PERMANENT and report.provider_code == "009"
    assert report.error is not None and report.error.scope is Scope.PROVIDER


def test_unknown_ids(provider: ClickatellProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        provider.query(message_id="ffff")
    assert caught.value.code == "103"
    with pytest.raises(ProviderError) as caught:
        provider.query(reference="nope")
    assert caught.value.code == "104"
    with pytest.raises(InvalidMessageError):
        provider.query()


def test_balance_charge_coverage_quote(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    assert provider.balance() == Cost(Decimal(1000), "credits")
    [result] = provider.send(Message(UK, "y" * 200, reference="c1"))
    assert provider.balance() == Cost(Decimal(998), "credits")
    report = provider.charge(message_id=result.message_id)
    assert report.cost == Cost(Decimal(2), "credits") and report.status is Status.SENT
    assert provider.charge(reference="c1").message_id == result.message_id
    covered = provider.coverage(UK)
    assert covered.routable and covered.charge == Cost(1, "credits")
    assert not provider.coverage("+85012345678").routable
    quote = provider.quote(Message([UK, "+447700900124"], "z" * 200))
    assert quote == Cost(4, "credits")
    with pytest.raises(ProviderError) as caught:
        provider.quote(Message([UK, "+85012345678"], "z"))
    assert caught.value.code == "114"


def test_session_expiry_reauthenticates_transparently(
    provider: ClickatellProvider, emulator: ClickatellEmulator, clock: ManualClock
) -> None:
    provider.send(Message(UK, "one", reference="s1"))
    clock.advance(16 * 60)
    [result] = provider.send(Message(UK, "two", reference="s2"))
    assert result.ok
    assert paths(emulator) == [
        "/http/auth",
        "/http/sendmsg",
        "/http/sendmsg",
        "/http/auth",
        "/http/sendmsg",
    ]
    assert [s.reference for s in emulator.submissions] == ["s1", "s2"]


def test_idle_session_is_renewed_before_use_and_kept_alive(
    emulator: ClickatellEmulator, clock: ManualClock
) -> None:
    local = ManualClock(start=0)
    options = ClickatellProvider.emulator_options(emulator)
    with ClickatellProvider(ClickatellProvider.options_class(**options), clock=local) as provider:
        assert provider.keep_alive() is False  # no session yet
        provider.balance()
        local.advance(601)
        clock.advance(601)
        assert provider.keep_alive() is True
        clock.advance(601)  # 20 minutes since auth, 10 since the ping: still alive
        provider.balance()
        local.advance(1000)
        provider.balance()
    assert paths(emulator) == [
        "/http/auth",
        "/http/getbalance",
        "/http/ping",
        "/http/getbalance",
        "/http/auth",
        "/http/getbalance",
    ]


def test_per_call_authentication(emulator: ClickatellEmulator, make_provider: MakeProvider) -> None:
    provider = make_provider(emulator, auth_mode="per_call")
    provider.send(Message(UK, "hello", reference="p1"))
    assert paths(emulator) == ["/http/sendmsg"]
    form = emulator.requests[0].request.form
    assert form.get("user") == emulator.user and form.get("api_id") == emulator.api_id


@pytest.mark.parametrize(
    ("emulator_kwargs", "provider_kwargs", "code"),
    [
        ({}, {"password": "wrong-password"}, "001"),
        ({}, {"password": "wrong-password", "auth_mode": "per_call"}, "002"),
        ({"frozen": True}, {}, "004"),
        ({}, {"api_id": "999"}, "108"),
        ({"allowed_ips": {"10.1.2.3"}}, {}, "007"),
        ({"balance": 0}, {}, "301"),
        ({"mt_limit": 0}, {}, "130"),
        ({"senders": {"ACME"}}, {}, "123"),
    ],
)
def test_request_level_errors_raise_typed(
    make_emulator: MakeEmulator,
    make_provider: MakeProvider,
    emulator_kwargs: dict[str, object],
    provider_kwargs: dict[str, str],
    code: str,
) -> None:
    provider = make_provider(make_emulator(**emulator_kwargs), **provider_kwargs)
    with pytest.raises(ProviderError) as caught:
        provider.send(Message(UK, "hello", "OTHER", reference="e1"))
    assert caught.value.code == code
    assert caught.value.scope is Scope.PROVIDER
    if code == "130":
        assert caught.value.kind is Kind.TRANSIENT and caught.value.retry_after


def test_per_line_credit_exhaustion(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    provider = make_provider(make_emulator(balance=1))
    results = provider.send(Message([UK, "+447700900124"], "hello", reference="cr"))
    assert [r.status for r in results] == [Status.ACCEPTED, Status.REJECTED]
    assert results[1].error is not None and results[1].error.code == "301"


@pytest.mark.parametrize(
    ("path", "fields", "code"),
    [
        ("/http/sendmsg", [("text", "hi")], "101"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "")], "107"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "hi"), ("udh", "0")], "102"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "hi"), ("from", "a!b")], "106"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "x" * 161)], "113"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "0D8"), ("unicode", "1")], "116"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "x"), ("deliv_time", "x")], "120"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "x"), ("msg_type", "NOPE")], "112"),
        ("/http/sendmsg", [("to", "447700900123"), ("text", "x"), ("climsgid", "a b")], "101"),
        ("/http/delmsg", [], "109"),
        ("/http_batch/startbatch", [("from", "ACME")], "202"),
        ("/http_batch/senditem", [("batch_id", "nope"), ("to", "447700900123")], "201"),
    ],
)
def test_emulator_validation_codes(
    provider: ClickatellProvider, path: str, fields: list[tuple[str, str]], code: str
) -> None:
    from smsbridge_clickatell.protocol import raise_for_error

    with pytest.raises(ProviderError) as caught:
        raise_for_error(provider.call(path, fields))
    assert caught.value.code == code


def test_missing_session_id(emulator: ClickatellEmulator) -> None:
    from smsbridge.http import HttpClient
    from smsbridge_clickatell.protocol import raise_for_error

    with HttpClient(base_url=emulator.url, provider="clickatell") as client:
        body = client.request("POST", "/http/getbalance", fields={}).text()
    with pytest.raises(ProviderError) as caught:
        raise_for_error(body)
    assert caught.value.code == "005"


@pytest.mark.parametrize("code", ["121", "122", "128", "250"])
def test_destination_refusals_are_results(
    make_emulator: MakeEmulator, make_provider: MakeProvider, code: str
) -> None:
    from smsbridge_clickatell.codes import ERRORS

    provider = make_provider(make_emulator(number_errors={"447700900123": code}))
    [result] = provider.send(Message(UK, "hello", reference="d1"))
    assert result.status is ERRORS[code].status and not result.ok
    assert result.error is not None and result.error.code == code
    assert result.error.scope is Scope.RECIPIENT
