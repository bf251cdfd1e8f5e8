"""Duplicate protection, status codes and transport faults, end to end over loopback."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from smsbridge import (
    Batch,
    Kind,
    MalformedResponseError,
    Message,
    ProviderError,
    Scope,
    SmsBridgeError,
    Status,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.testing import (
    AcceptThenDrop,
    ConnectionReset,
    Garbage,
    HttpStatus,
    ManualClock,
    TransientCode,
)
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

from .conftest import PASSWORD, MakeProvider

BATCH = Batch([f"+4477009010{i:02d}" for i in range(5)], body="hello")


def test_dropped_answer_is_resent_with_the_same_id(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    emulator.faults.add(AcceptThenDrop(), next_n=1)
    results = list(provider.send_batch(BATCH))
    assert {r.status for r in results} == {Status.ACCEPTED}
    assert {r.attempts for r in results} == {2}
    # Two requests, same stop_dup_id and bytes; one submission; the original batch id.
    assert len(emulator.requests) == 2
    first, second = (record.request.body for record in emulator.requests)
    assert first == second
    assert len(emulator.submissions) == 1
    assert emulator.submissions.duplicates() == {}
    original = emulator.submissions[0].message_ids[0]
    assert {r.message_id.split(":")[0] for r in results} == {original}  # type: ignore[union-attr]


def test_stored_chunk_resent_later_gets_the_original_batch(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, clock: ManualClock
) -> None:
    [chunk] = list(provider.plan_batch(BATCH))
    assert not isinstance(chunk, type(None))
    emulator.faults.add(AcceptThenDrop(), next_n=2)
    with pytest.raises(UnknownOutcomeError):
        provider.send_chunk(chunk)  # type: ignore[arg-type]
    clock.advance(3600)
    again = provider.send_chunk(chunk)  # type: ignore[arg-type]
    assert len(emulator.submissions) == 1
    assert again[0].message_id.startswith(emulator.submissions[0].message_ids[0])  # type: ignore[union-attr]


def test_stop_dup_window_expires(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, clock: ManualClock
) -> None:
    [chunk] = list(provider.plan_batch(BATCH))
    provider.send_chunk(chunk)  # type: ignore[arg-type]
    clock.advance(emulator.dedup_window + 1)
    provider.send_chunk(chunk)  # type: ignore[arg-type]
    assert len(emulator.submissions) == 2


def test_failures_are_not_remembered(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    [chunk] = list(provider.plan_batch(BATCH))
    emulator.next_codes.append("25")
    with pytest.raises(ProviderError):
        provider.send_chunk(chunk)  # type: ignore[arg-type]
    assert [r.status for r in provider.send_chunk(chunk)] == [Status.ACCEPTED] * 5  # type: ignore[arg-type]


def test_unknown_outcome_after_retries(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(unknown_outcome_retries=2)
    emulator.faults.add(ConnectionReset())
    with pytest.raises(UnknownOutcomeError):
        provider.send(Message("+447700901100", "x"))
    assert len(emulator.requests) == 3
    assert len(emulator.submissions) == 0


def test_garbage_is_malformed(make_provider: MakeProvider, emulator: BulkSmsEmulator) -> None:
    provider = make_provider(unknown_outcome_retries=0)
    emulator.faults.add(Garbage())
    with pytest.raises(MalformedResponseError):
        provider.send(Message("+447700901101", "x"))


def test_garbage_after_processing_then_retry_gets_original(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    emulator.faults.add(Garbage(process=True), next_n=1)
    [result] = provider.send(Message("+447700901102", "x"))
    assert result.ok and result.attempts == 2
    assert len(emulator.submissions) == 1


@pytest.mark.parametrize("status", [500, 503, 404, 401, 429, 201])
def test_any_http_status_but_200_is_transient(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, status: int
) -> None:
    emulator.faults.add(HttpStatus(status, b"nope", retry_after=7))
    with pytest.raises(ProviderError) as info:
        list(provider.send_batch(BATCH))
    assert (info.value.scope, info.value.kind) == (Scope.PROVIDER, Kind.TRANSIENT)
    assert info.value.code == f"HTTP {status}"
    assert info.value.retry_after == 7
    with pytest.raises(ProviderError):
        provider.balance()


def test_transient_code_is_40(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    emulator.faults.add(TransientCode(), next_n=1)
    with pytest.raises(ProviderError) as info:
        provider.send(Message("+447700901103", "x"))
    assert (info.value.code, info.value.kind) == ("40", Kind.TRANSIENT)
    assert provider.send(Message("+447700901103", "x"))[0].ok


@pytest.mark.parametrize(
    ("code", "scope", "kind"),
    [
        ("22", Scope.PROVIDER, Kind.PERMANENT),
        ("23", Scope.PROVIDER, Kind.PERMANENT),
        ("24", Scope.REQUEST, Kind.PERMANENT),
        ("25", Scope.PROVIDER, Kind.PERMANENT),
        ("26", Scope.PROVIDER, Kind.TRANSIENT),
        ("27", Scope.PROVIDER, Kind.PERMANENT),
        ("28", Scope.PROVIDER, Kind.TRANSIENT),
        ("40", Scope.PROVIDER, Kind.TRANSIENT),
        ("201", Scope.REQUEST, Kind.PERMANENT),
    ],
)
def test_every_failure_code_end_to_end(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, code: str, scope: Scope, kind: Kind
) -> None:
    emulator.next_codes.append(code)
    with pytest.raises(ProviderError) as info:
        list(provider.send_batch(BATCH))
    assert (info.value.code, info.value.scope, info.value.kind) == (code, scope, kind)
    assert info.value.provider == "bulksms"
    assert len(emulator.submissions) == 0


@pytest.mark.parametrize("code", ["26", "28"])
def test_upstream_codes_turn_permanent_past_the_cap(
    make_provider: MakeProvider, emulator: BulkSmsEmulator, code: str
) -> None:
    provider = make_provider(upstream_retry_limit=2)
    emulator.next_codes.extend([code] * 3)
    kinds = []
    for _ in range(3):
        with pytest.raises(ProviderError) as info:
            provider.send(Message("+447700901104", "x"))
        kinds.append(info.value.kind)
    assert kinds == [Kind.TRANSIENT, Kind.TRANSIENT, Kind.PERMANENT]
    assert provider.send(Message("+447700901104", "x"))[0].ok
    emulator.next_codes.append(code)
    with pytest.raises(ProviderError) as info:
        provider.send(Message("+447700901104", "x"))
    assert info.value.kind is Kind.TRANSIENT  # a success reset the count


def test_authentication_failure(make_provider: MakeProvider, emulator: BulkSmsEmulator) -> None:
    provider = make_provider(password="wrong-password")
    with pytest.raises(ProviderError) as info:
        provider.send(Message("+447700901105", "x"))
    assert info.value.code == "23"
    with pytest.raises(ProviderError):
        provider.balance()
    with pytest.raises(ProviderError):
        provider.report("1")


def test_insufficient_credits(make_provider: MakeProvider, emulator: BulkSmsEmulator) -> None:
    emulator.credits = Decimal(1)
    provider = make_provider()
    with pytest.raises(ProviderError) as info:
        provider.send(Message("+447700901106", "x" * 200))
    assert info.value.code == "25"


def test_lenient_batch_data_skips_invalid_lines(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    from smsbridge_bulksms import protocol

    data = (
        'msisdn,message,sender\n"447700901200","ok","AVeryLongSenderName"\n'
        '"notanumber","skip","x"\n"447700901201","short line"\n'
        '"447700901202","' + "y" * 300 + '",""\n'
    )
    body = protocol.encode_form(
        [("username", emulator.username), ("password", PASSWORD), ("batch_data", data)]
    )
    response = provider._http.request(
        "POST",
        protocol.SEND_BATCH_PATH,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.body.startswith(b"0|IN_PROGRESS|")
    assert [(m.msisdn, m.sender, len(m.text)) for m in emulator.messages] == [
        ("447700901200", "AVeryLongSe", 2),
        ("447700901202", None, 160),
    ]


def test_secrets_never_leak(
    make_provider: MakeProvider, emulator: BulkSmsEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider()
    emulator.faults.add(ConnectionReset())
    seen: list[str] = [repr(provider), repr(provider.options), str(provider.options)]
    try:
        provider.send(Message("+447700901300", "x"))
    except SmsBridgeError as exc:
        seen += [str(exc), repr(exc), str(exc.provider_text)]
    emulator.faults.clear()
    emulator.faults.add(HttpStatus(500, PASSWORD.encode()))
    try:
        provider.balance()
    except SmsBridgeError as exc:
        seen += [str(exc), repr(exc), str(exc.provider_text)]
    seen += [record.getMessage() for record in caplog.records]
    assert all(PASSWORD not in text for text in seen)


def test_connection_refused_is_transport_error(make_provider: MakeProvider) -> None:
    provider = make_provider(base_url="http://127.0.0.1:9/eapi")
    with pytest.raises(TransportError) as info:
        provider.send(Message("+447700901301", "x"))
    assert not info.value.outcome_unknown
