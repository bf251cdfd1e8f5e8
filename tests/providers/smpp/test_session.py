"""The bound session over real sockets: window, throttling, binds, drops, keep-alive."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    ConfigurationError,
    Kind,
    Message,
    ProviderError,
    Scope,
    SmsBridgeError,
    Status,
    TransportError,
    UnknownOutcomeError,
    new_reference,
)
from smsbridge.testing.faults import Delay
from smsbridge_smpp import SmppProvider, wire
from smsbridge_smpp.emulator import SmscEmulator

from .conftest import wait_for

NUMBERS = [f"+4477009{n:05d}" for n in range(12)]


def _message(numbers: list[str], body: str = "Your code is 482913") -> Message:
    return Message(tuple(numbers), body, reference=new_reference())


@pytest.mark.parametrize("window", [1, 4, 8])
def test_the_window_bounds_what_is_in_flight(
    make_emulator: Callable[..., SmscEmulator],
    make_provider: Callable[..., SmppProvider],
    window: int,
) -> None:
    emulator = make_emulator(latency=0.02)
    emulator.answer_together = window  # answered only when the window is full
    provider = make_provider(emulator, window=window, timeout=5.0)
    results = provider.send(_message(NUMBERS[:8]))
    assert all(r.status is Status.ACCEPTED for r in results), results
    assert emulator.max_outstanding == window
    assert sorted(r for s in emulator.submissions.snapshot() for r in s.recipients) == sorted(
        NUMBERS[:8]
    )


def test_throttling_slows_down_instead_of_failing(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, throttle_pause=0.01, max_throttle_pause=0.05)
    emulator.throttle(3)
    emulator.throttle(2, status=0x14)  # ESME_RMSGQFUL too
    results = provider.send(_message(NUMBERS[:6]))
    assert all(r.status is Status.ACCEPTED for r in results), results
    assert len(emulator.submissions) == 6  # each accepted once
    assert provider.session.window.throttled == 5
    assert provider.session.window.limit < 10


def test_throttling_that_never_ends_is_a_transient_provider_refusal(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(
        emulator, throttle_pause=0.01, max_throttle_pause=0.01, max_throttle_rounds=3
    )
    emulator.throttle(100)
    [result] = provider.send(_message(NUMBERS[:1]))
    assert result.status is Status.REJECTED
    assert result.error is not None
    assert (result.error.code, result.error.scope, result.error.kind) == (
        "0x00000058",
        Scope.PROVIDER,
        Kind.TRANSIENT,
    )
    assert len(emulator.submissions) == 0


def test_per_recipient_refusals_are_results(emulator: SmscEmulator, provider: SmppProvider) -> None:
    emulator.status_for[NUMBERS[1].lstrip("+")] = 0x0B
    results = provider.send(_message(NUMBERS[:3]))
    assert [r.status for r in results] == [Status.ACCEPTED, Status.INVALID_NUMBER, Status.ACCEPTED]
    assert results[1].error is not None and results[1].error.code == "0x0000000B"


def test_refused_bind_is_a_provider_error_then_backs_off(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, rebind_delay=30.0)
    emulator.refuse_binds(0x0D)
    with pytest.raises(ProviderError) as refused:
        provider.send(_message(NUMBERS[:1]))
    assert (refused.value.code, refused.value.scope) == ("0x0000000D", Scope.PROVIDER)
    # Within the backoff: refused at once, saying when to try again, nothing sent.
    with pytest.raises(ProviderError) as again:
        provider.send(_message(NUMBERS[:1]))
    assert again.value.retry_after is not None and 0 < again.value.retry_after <= 30.0
    assert emulator.binds == 0
    assert len(emulator.submissions) == 0


def test_wrong_password_is_refused_and_never_shown(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, password="sentinel-PW-51d0")
    with pytest.raises(ProviderError) as refused:
        provider.send(_message(NUMBERS[:1]))
    assert refused.value.code == "0x0000000E"
    assert refused.value.kind is Kind.PERMANENT
    assert "sentinel-PW-51d0" not in str(refused.value) + repr(provider)


def test_unreachable_smsc_is_a_plain_transport_error(
    make_provider: Callable[..., SmppProvider], emulator: SmscEmulator
) -> None:
    emulator.stop()
    provider = make_provider(emulator, connect_timeout=1.0)
    with pytest.raises(TransportError) as failed:
        provider.send(_message(NUMBERS[:1]))
    assert not failed.value.outcome_unknown  # nothing left: safe to fail over


def test_no_response_is_an_unknown_outcome(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, timeout=0.3)
    emulator.no_response = True
    with pytest.raises(UnknownOutcomeError):
        provider.send(_message(NUMBERS[:1]))
    assert len(emulator.submissions) == 1


def test_connection_dropped_mid_window_then_rebinds(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, rebind_delay=0.05)
    emulator.answer_together = 10  # nothing answered before the drop
    emulator.drop_after(5)
    # Every PDU was written before the drop: none may be called sent or failed.
    with pytest.raises(UnknownOutcomeError):
        provider.send(_message(NUMBERS[:10]))
    assert len(emulator.submissions) == 5
    emulator.answer_together = 1
    [result] = provider.send(_message(NUMBERS[10:11]))
    assert result.status is Status.ACCEPTED
    assert emulator.binds == 2


def test_keeper_rebinds_after_the_smsc_drops_an_idle_connection(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, rebind_delay=0.05, enquire_interval=0.1)
    provider.connect()
    assert wait_for(lambda: emulator.enquire_links >= 1)  # keep-alive on a quiet line
    for conn in list(emulator._conns):
        conn.close()
    assert wait_for(lambda: emulator.binds == 2)  # without any send asking for it


def test_close_unbinds(emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]) -> None:
    provider = make_provider(emulator)
    provider.send(_message(NUMBERS[:1]))
    provider.close()
    provider.close()
    assert emulator.unbinds == 1
    with pytest.raises(TransportError):
        provider.send(_message(NUMBERS[:1]))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"base_url": "http://127.0.0.1:2775"}, "base_url"),
        ({"base_url": "smpp://smsc.example.net:2775"}, "allow_insecure"),
        ({"window": 0}, "window"),
        ({"concatenation": "pigeon"}, "concatenation"),
        ({"bind": "receiver"}, "bind"),
    ],
)
def test_bad_options_are_configuration_errors(
    emulator: SmscEmulator, options: dict[str, object], field: str
) -> None:
    merged = {**SmppProvider.emulator_options(emulator), **options}
    with pytest.raises(ConfigurationError) as refused:
        SmppProvider.from_options(**merged)
    assert field in str(refused.value)
    assert emulator.password not in str(refused.value)


def test_a_late_answer_after_the_timeout_changes_nothing(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, timeout=0.2, window=1)
    emulator.faults.add(Delay(0.6), next_n=1)
    with pytest.raises(UnknownOutcomeError):
        provider.send(_message(NUMBERS[:1]))
    # The window slot was freed at the timeout; the late response settles nothing.
    [result] = provider.send(_message(NUMBERS[1:2]))
    assert result.status is Status.ACCEPTED
    assert wait_for(lambda: provider.session.window.in_flight == 0)
    [again] = provider.send(_message(NUMBERS[2:3]))
    assert again.status is Status.ACCEPTED
    assert len(emulator.submissions) == 3


@given(st.binary(min_size=16, max_size=200))
def test_decoding_hostile_pdus_returns_or_raises_typed(data: bytes) -> None:
    raw = struct.pack(">L", len(data) + 4) + data
    try:
        pdu = wire.decode(raw)
    except SmsBridgeError:
        return
    assert isinstance(pdu.command, str)
