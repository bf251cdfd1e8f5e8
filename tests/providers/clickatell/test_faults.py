"""Fault switches and secret hygiene over loopback."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from smsbridge import (
    Kind,
    MalformedResponseError,
    Message,
    MessageNotFoundError,
    ProviderError,
    Scope,
    Status,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.router import RetryPolicy, Router
from smsbridge.testing import (
    AcceptThenDrop,
    ConnectionReset,
    Garbage,
    HttpStatus,
    TransientCode,
    on_path,
)
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

from .conftest import SENTINEL_PASSWORD

SEND = on_path("/http/sendmsg")
UK = "+447700900123"


def test_http_5xx_is_a_transient_provider_error(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    emulator.faults.add(HttpStatus(503, retry_after=2), match=SEND, next_n=1)
    with pytest.raises(ProviderError) as caught:
        provider.send(Message(UK, "hi", reference="f1"))
    assert (caught.value.scope, caught.value.kind) == (Scope.PROVIDER, Kind.TRANSIENT)
    assert caught.value.retry_after == 2
    assert len(emulator.submissions) == 0


def test_transient_code_is_error_901(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    emulator.faults.add(TransientCode(), match=SEND, next_n=1)
    with pytest.raises(ProviderError) as caught:
        provider.send(Message(UK, "hi", reference="f2"))
    assert caught.value.code == "901" and caught.value.transient
    assert caught.value.scope is Scope.PROVIDER


def test_accept_then_drop_is_unknown_outcome_then_reconciled(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    emulator.faults.add(AcceptThenDrop(), match=SEND, next_n=1)
    with pytest.raises(UnknownOutcomeError):
        provider.send(Message(UK, "hi", reference="f3"))
    assert len(emulator.submissions.by_reference("f3")) == 1
    # The reference finds the message the lost answer was about.
    assert provider.query(reference="f3").status is Status.SENT


def test_garbage_is_malformed(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    emulator.faults.add(Garbage(), match=SEND, next_n=1)
    with pytest.raises(MalformedResponseError):
        provider.send(Message(UK, "hi", reference="f4"))
    emulator.faults.add(Garbage(body=b"ID: 12 To: 99\nnonsense"), match=SEND, next_n=1)
    with pytest.raises(MalformedResponseError):
        provider.send(Message(UK, "hi", reference="f5"))


def test_connection_reset_is_a_transport_error(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    emulator.faults.add(ConnectionReset(), match=SEND, next_n=1)
    with pytest.raises(TransportError) as caught:
        provider.send(Message(UK, "hi", reference="f6"))
    assert caught.value.scope is Scope.PROVIDER
    assert len(emulator.submissions) == 0
    # Reads are retried safely: a reset on a query is a plain transport error.
    emulator.faults.add(ConnectionReset(), match=on_path("/http/getbalance"), next_n=1)
    with pytest.raises(TransportError) as read:
        provider.balance()
    assert not read.value.outcome_unknown


def test_a_later_chunk_failing_keeps_earlier_ids(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    calls = {"n": 0}

    def second(request: object) -> bool:
        if getattr(request, "path", "") != "/http/sendmsg":
            return False
        calls["n"] += 1
        return calls["n"] == 2

    emulator.faults.add(AcceptThenDrop(), match=second)
    numbers = [f"+4477009{n:05d}" for n in range(310)]
    results = provider.send(Message(numbers, "hi", reference="chunks"))
    assert [r.status for r in results[:300]] == [Status.ACCEPTED] * 300
    assert {r.status for r in results[300:]} == {Status.UNKNOWN}
    assert all(r.error is not None for r in results[300:])


def test_secrets_never_leak(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = make_emulator(password=SENTINEL_PASSWORD)
    provider = make_provider(emulator, password=SENTINEL_PASSWORD)
    seen: list[str] = [repr(provider), str(provider.options), repr(provider.options)]
    provider.send(Message(UK, "hi", reference="s1"))
    provider.balance()
    bad = make_provider(emulator, password=SENTINEL_PASSWORD + "x", auth_mode="per_call")
    with pytest.raises(ProviderError) as caught:
        bad.send(Message(UK, "hi"))
    seen += [str(caught.value), repr(caught.value), str(caught.value.provider_text)]
    emulator.faults.add(ConnectionReset(), match=SEND, next_n=1)
    with pytest.raises(TransportError) as reset:
        bad.send(Message(UK, "hi"))
    seen += [str(reset.value), repr(reset.value)]
    seen += [f"{r.method} {r.path}?{r.request.query}" for r in emulator.requests]
    text = caplog.text + "\n".join(seen)
    assert SENTINEL_PASSWORD not in text
    assert emulator.api_id not in text
    assert any(SENTINEL_PASSWORD in r.request.body.decode() for r in emulator.requests)


def test_query_for_an_unknown_reference_is_message_not_found(
    provider: ClickatellProvider,
) -> None:
    with pytest.raises(MessageNotFoundError) as info:
        provider.query(reference="never-sent-1")
    assert info.value.code == "104"


def test_router_resends_when_the_lost_request_never_arrived(
    make_provider: Callable[..., ClickatellProvider], emulator: ClickatellEmulator
) -> None:
    # The answer is garbage and the gateway did not act on the request: the router asks
    # by client reference, learns the message is unknown there, and sends it again. A
    # zero lookup horizon says "not found" is proof at once (see test_dispatch's race).
    provider = make_provider(emulator, lookup_horizon=0.0)
    emulator.faults.add(Garbage(b"\x00\x01garbage", process=False), match=SEND, next_n=1)
    router = Router([provider], retry=RetryPolicy(base=0.001, cap=0.01), sleep=lambda _: None)
    message = Message(UK, "hello again", reference="lost-then-resent")
    (result,) = router.send(message)
    assert result.status is Status.ACCEPTED
    accepted = emulator.submissions.accepted_recipients()
    assert sum(n for number, n in accepted.items() if number.lstrip("+") == UK[1:]) == 1
    assert result.attempts == 2
