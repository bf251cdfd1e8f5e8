"""Router decisions from scope, kind and unknown outcomes.

The providers here are in-process scripts of outcomes so that every branch of the
decision table can be driven exactly; the same decisions are exercised end to end over
loopback against the emulators in the provider and failover tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smsbridge import (
    Capabilities,
    DeliveryReport,
    Kind,
    Message,
    MessageNotFoundError,
    Provider,
    ProviderError,
    ProviderOptions,
    Scope,
    SendResult,
    Status,
    TransportError,
    UnknownOutcomeError,
)
from smsbridge.router import Delivery, LeastCost, Priority, RetryPolicy, Router, Weighted

Step = Callable[[Message], list[SendResult]]


def accept(message: Message) -> list[SendResult]:
    return [SendResult(n, Status.ACCEPTED, reference=message.reference) for n in message.to]


def raising(error: Exception) -> Step:
    def step(message: Message) -> list[SendResult]:
        raise error

    return step


class Scripted(Provider):
    name = "scripted"
    capabilities = Capabilities(max_recipients_per_request=10)

    def __init__(self, name: str, steps: list[Step], caps: Capabilities | None = None) -> None:
        super().__init__(ProviderOptions(base_url="http://127.0.0.1:9"))
        self.name = name  # type: ignore[misc]
        if caps is not None:
            self.capabilities = caps  # type: ignore[misc]
        self.steps = steps
        self.calls: list[tuple[str, ...]] = []
        self.queries: list[str | None] = []
        self.query_answer: DeliveryReport | Exception | None = None

    def send(self, message: Message) -> list[SendResult]:
        self.calls.append(message.to)
        step = self.steps.pop(0) if self.steps else accept
        return [
            SendResult(
                r.recipient, r.status, provider=self.name, reference=r.reference, error=r.error
            )
            for r in step(message)
        ]

    def query(
        self, *, message_id: str | None = None, reference: str | None = None
    ) -> DeliveryReport:
        self.queries.append(reference)
        if isinstance(self.query_answer, Exception):
            raise self.query_answer
        assert self.query_answer is not None
        return self.query_answer


MSG = Message("+447700900123", "hello", reference="ref-1")


def make(providers: list[Scripted], **kwargs: object) -> Router:
    sleeps: list[float] = []
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base=0.01, cap=0.05))
    router = Router(providers, sleep=sleeps.append, rand=lambda: 0.5, **kwargs)  # type: ignore[arg-type]
    router.sleeps = sleeps  # type: ignore[attr-defined]
    return router


def test_success_on_first_provider() -> None:
    a, b = Scripted("a", []), Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert (result.status, result.provider, result.attempts) == (Status.ACCEPTED, "a", 1)
    assert b.calls == []


def test_provider_transient_fails_over_without_waiting() -> None:
    a = Scripted("a", [raising(TransportError("refused"))])
    b = Scripted("b", [])
    router = make([a, b])
    (result,) = router.send(MSG)
    assert result.provider == "b"
    assert result.attempts == 2
    assert router.sleeps == []  # type: ignore[attr-defined]


def test_provider_permanent_excludes_provider_for_good() -> None:
    a = Scripted("a", [raising(ProviderError("no credit", code="301", kind=Kind.PERMANENT))])
    b = Scripted("b", [raising(TransportError("down"))])
    (result,) = make([a, b]).send(MSG)
    # a refused for good; b failed transiently, then succeeded after a backoff round.
    assert result.provider == "b"
    assert len(a.calls) == 1
    assert len(b.calls) == 2


def test_refused_everywhere_is_rejected() -> None:
    err = ProviderError("account frozen", code="004", kind=Kind.PERMANENT)
    a, b = Scripted("a", [raising(err)]), Scripted("b", [raising(err)])
    (result,) = make([a, b]).send(MSG)
    assert result.status is Status.REJECTED
    assert result.error is not None and result.error.code == "004"


def test_request_scope_raises_without_failover() -> None:
    a = Scripted("a", [raising(ProviderError("bad params", scope=Scope.REQUEST))])
    b = Scripted("b", [])
    with pytest.raises(ProviderError):
        make([a, b]).send(MSG)
    assert b.calls == []


def test_recipient_permanent_is_final_and_not_failed_over() -> None:
    def refuse(message: Message) -> list[SendResult]:
        return [
            SendResult(
                message.to[0],
                Status.INVALID_NUMBER,
                error=ProviderError("bad number", code="105").info(),
            )
        ]

    a, b = Scripted("a", [refuse]), Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert result.status is Status.INVALID_NUMBER
    assert b.calls == []


def test_recipient_transient_retries_same_provider_after_backoff() -> None:
    def busy(message: Message) -> list[SendResult]:
        err = ProviderError("busy", code="40", scope=Scope.RECIPIENT, kind=Kind.TRANSIENT)
        return [SendResult(message.to[0], Status.FAILED_TEMPORARY, error=err.info())]

    a = Scripted("a", [busy])
    router = make([a])
    (result,) = router.send(MSG)
    assert result.status is Status.ACCEPTED
    assert len(a.calls) == 2
    assert router.sleeps == [pytest.approx(0.005)]  # type: ignore[attr-defined]


def test_budget_exhausted_gives_failed_temporary() -> None:
    a = Scripted("a", [raising(TransportError("down"))] * 10)
    (result,) = make([a]).send(MSG)
    assert result.status is Status.FAILED_TEMPORARY
    assert result.attempts == 4
    assert len(a.calls) == 4


def test_unknown_outcome_without_reconciliation_is_unknown_and_not_failed_over() -> None:
    a = Scripted("a", [raising(UnknownOutcomeError("read timeout"))])
    b = Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert result.status is Status.UNKNOWN
    assert result.provider == "a"
    assert b.calls == []


def test_unknown_outcome_at_least_once_resends() -> None:
    a = Scripted("a", [raising(UnknownOutcomeError("read timeout"))])
    b = Scripted("b", [])
    (result,) = make([a, b], delivery=Delivery.AT_LEAST_ONCE).send(MSG)
    assert result.status is Status.ACCEPTED


def test_unknown_outcome_reconciled_by_reference() -> None:
    caps = Capabilities(query_by_reference=True)
    a = Scripted("a", [raising(UnknownOutcomeError("reset"))], caps)
    a.query_answer = DeliveryReport(provider="a", message_id="m-9", status=Status.SENT)
    b = Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert (result.status, result.message_id, result.provider) == (Status.SENT, "m-9", "a")
    assert a.queries == ["ref-1"]
    assert b.calls == []


def test_unknown_outcome_not_found_after_the_horizon_is_safe_to_resend() -> None:
    caps = Capabilities(query_by_reference=True, lookup_horizon=0.0)
    a = Scripted("a", [raising(UnknownOutcomeError("reset"))], caps)
    a.query_answer = MessageNotFoundError("no such message", code="116")
    b = Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert result.provider == "b"


def test_unknown_outcome_not_found_before_the_horizon_is_never_resent() -> None:
    # A slow request may still be in the provider's hands: "not found" proves nothing
    # yet, and in memory there is no later to ask again, so the outcome stays unknown.
    caps = Capabilities(query_by_reference=True, lookup_horizon=60.0)
    a = Scripted("a", [raising(UnknownOutcomeError("read timeout"))], caps)
    a.query_answer = MessageNotFoundError("no such message", code="104")
    b = Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert result.status is Status.UNKNOWN
    assert (result.provider, len(a.calls), a.queries, b.calls) == ("a", 1, ["ref-1"], [])


def test_unknown_outcome_with_idempotency_key_replays_same_provider_only() -> None:
    caps = Capabilities(idempotency_key=True)
    a = Scripted(
        "a",
        [raising(UnknownOutcomeError("timeout")), raising(TransportError("down"))],
        caps,
    )
    b = Scripted("b", [])
    (result,) = make([a, b]).send(MSG)
    assert result.provider == "a"
    assert len(a.calls) == 3
    assert b.calls == []


def test_breaker_stops_calls_to_a_dead_provider() -> None:
    a = Scripted("a", [raising(TransportError("down"))] * 100)
    b = Scripted("b", [])
    router = make([a, b])
    for _ in range(10):
        router.send(MSG)
    assert len(a.calls) == 5  # opened after 5 consecutive provider-scope failures
    assert len(b.calls) == 10


def test_policies_order() -> None:
    a, b, c = Scripted("a", []), Scripted("b", []), Scripted("c", [])
    assert Priority().order(MSG, [a, b, c]) == [a, b, c]
    draws = iter([0.99, 0.0])
    assert Weighted({"a": 1, "b": 1, "c": 2}, rand=lambda: next(draws)).order(MSG, [a, b, c]) == [
        c,
        a,
        b,
    ]

    class Prices:
        def price(self, provider: Provider, message: Message) -> float | None:
            return {"a": 0.05, "b": 0.03, "c": None}[provider.name]

    assert LeastCost(Prices()).order(MSG, [a, b, c]) == [b, a, c]
    assert LeastCost(Prices(), include_unpriced=False).order(MSG, [a, b, c]) == [b, a]
