"""Every fault kind, acted out over real sockets and seen through the real HttpClient."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from smsbridge.errors import Kind, MalformedResponseError, ProviderError, UnknownOutcomeError
from smsbridge.http import HttpClient, raise_for_transport_status
from smsbridge.testing import (
    AcceptThenDrop,
    CallbackPlan,
    ConnectionReset,
    Delay,
    EmulatorFactory,
    EmulatorRequest,
    FaultPlan,
    Garbage,
    HttpStatus,
    SlowDrip,
    TransientCode,
    on_path,
)

from . import ToyEmulator

SEND = {"to": "+15550001", "text": "hello"}


@pytest.fixture
def toy() -> Iterator[ToyEmulator]:
    with EmulatorFactory() as factory:
        yield factory(ToyEmulator, seed=1234)


@pytest.fixture
def client(toy: ToyEmulator) -> Iterator[HttpClient]:
    with HttpClient(base_url=toy.url, provider="toy", timeout=5.0, total_timeout=10.0) as http:
        yield http


def test_delay_slows_then_processes(toy: ToyEmulator) -> None:
    toy.faults.add(Delay(1.5), next_n=1)
    with HttpClient(base_url=toy.url, provider="toy", timeout=0.3) as impatient:
        with pytest.raises(UnknownOutcomeError):
            impatient.request("POST", "/send", fields=SEND)
        # The outcome really was unknown: the emulator accepted after the client gave up.
        assert toy.submissions.wait_for(1, timeout=5.0)
        assert impatient.request("POST", "/send", fields=SEND).status == 200
    assert toy.submissions.accepted_recipients()["+15550001"] == 2


def test_http_status_answers_without_processing(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(HttpStatus(429, b"slow down", retry_after=3), next_n=1)
    response = client.request("POST", "/send", fields=SEND)
    with pytest.raises(ProviderError) as caught:
        raise_for_transport_status(response)
    assert (caught.value.kind, caught.value.retry_after) == (Kind.TRANSIENT, 3.0)
    assert len(toy.submissions) == 0
    assert toy.requests[0].status == 429


def test_connection_reset_drops_before_processing(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(ConnectionReset(), next_n=1)
    with pytest.raises(UnknownOutcomeError):
        client.request("POST", "/send", fields=SEND)
    assert len(toy.submissions) == 0
    assert toy.requests[0].status is None


def test_accept_then_drop_records_the_submission(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(AcceptThenDrop(), next_n=1)
    with pytest.raises(UnknownOutcomeError):
        client.request("POST", "/send", fields={**SEND, "ref": "ref-1"})
    assert [s.reference for s in toy.submissions] == ["ref-1"]
    assert client.request("GET", "/status", fields={"id": "toy-1"}).json()["state"] == "ACCEPTED"


def test_garbage_is_a_malformed_answer(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(Garbage(), next_n=1)
    toy.faults.add(Garbage(b"<<not json", process=True), next_n=1)
    first = client.request("POST", "/send", fields=SEND)
    assert first.status == 200
    with pytest.raises(MalformedResponseError):
        first.json()
    assert len(toy.submissions) == 0
    second = client.request("POST", "/send", fields=SEND)
    assert second.body == b"<<not json"
    assert len(toy.submissions) == 1  # processed, but the answer was mangled


def test_transient_code_uses_the_emulators_own_reply(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(TransientCode(), next_n=1)
    assert client.request("POST", "/send", fields=SEND).json()["code"] == "T42"
    assert len(toy.submissions) == 0


def test_base_transient_reply_is_503(toy: ToyEmulator) -> None:
    request = EmulatorRequest(method="GET", path="/")
    reply = super(ToyEmulator, toy).transient_error_response(request)
    assert (reply.status, reply.headers["Retry-After"]) == (503, "1")


def test_slow_drip_completes_within_the_deadline_or_fails_after_it(
    toy: ToyEmulator, client: HttpClient
) -> None:
    toy.faults.add(SlowDrip(200), next_n=1)
    began = time.monotonic()
    assert client.request("GET", "/big", fields={"size": 60}).body == b"x" * 60
    assert time.monotonic() - began >= 0.2  # the drip really was slow
    toy.faults.add(SlowDrip(50), next_n=1)
    with (
        HttpClient(base_url=toy.url, provider="toy", total_timeout=0.4) as hurried,
        pytest.raises(UnknownOutcomeError, match=r"within 0\.4s"),
    ):
        hurried.request("GET", "/big", fields={"size": 5000})


def test_next_n_applies_to_that_many_matching_requests(
    toy: ToyEmulator, client: HttpClient
) -> None:
    rule = toy.faults.add(HttpStatus(503), next_n=2, match=on_path("/send"))
    statuses = [client.request("GET", "/status").status]
    statuses += [client.request("POST", "/send", fields=SEND).status for _ in range(3)]
    assert statuses == [200, 503, 503, 200]
    assert (rule.fired, rule.remaining) == (2, 0)


def test_fraction_is_seeded_and_reproducible(toy: ToyEmulator, client: HttpClient) -> None:
    toy.faults.add(HttpStatus(500), fraction=0.5, seed=99)
    first = [client.request("GET", "/status").status for _ in range(40)]
    assert 5 < first.count(500) < 35
    toy.faults.clear()
    assert len(toy.faults) == 0
    toy.faults.add(HttpStatus(500), fraction=0.5, seed=99)
    assert [client.request("GET", "/status").status for _ in range(40)] == first


def test_plan_seed_makes_rules_reproducible() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        plan.add(ConnectionReset(), fraction=0.3)
        request = EmulatorRequest(method="POST", path="/send")
        return [plan.pick(request) is not None for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 20 < sum(pattern(1)) < 100


def test_first_matching_rule_wins_and_match_filters() -> None:
    plan = FaultPlan()
    plan.add(HttpStatus(401), match=lambda r: r.query.get("user") == "bad")
    plan.add(Delay(0.1), next_n=1)
    bad = EmulatorRequest.parse("GET", "/x?user=bad", [], b"")
    good = EmulatorRequest.parse("GET", "/x?user=ok", [], b"")
    assert plan.pick(bad) == HttpStatus(401)
    assert plan.pick(good) == Delay(0.1)
    assert plan.pick(good) is None
    assert plan.pick(bad) == HttpStatus(401)
    assert [r.fired for r in plan.rules] == [2, 1]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FaultPlan().add(Delay(1), fraction=1.5), "fraction"),
        (lambda: FaultPlan().add(Delay(1), next_n=0), "next_n"),
        (lambda: Delay(-1), "seconds"),
        (lambda: SlowDrip(0), "bytes_per_second"),
        (lambda: CallbackPlan(duplicate_fraction=2.0), "duplicate_fraction"),
        (lambda: CallbackPlan(delay=-0.5), "delay"),
    ],
)
def test_invalid_settings_are_refused(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=message):
        build()
