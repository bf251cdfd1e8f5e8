"""The one decision function, driven branch by branch and by property.

Every sending path acts on :func:`decide`; these tests pin its table (scope x kind x
unknown) and the lookup-horizon rule that keeps a slow request from being sent twice.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.results import SendResult
from smsbridge.router import RetryPolicy
from smsbridge.router.decide import (
    Action,
    Answered,
    Delivery,
    Failed,
    Found,
    Interrupted,
    LookupFailed,
    NotFound,
    ProviderFacts,
    Rules,
    Situation,
    decide,
)
from smsbridge.status import Status

NOW = 1_000.0
RULES = Rules(retry=RetryPolicy(max_attempts=5, base=1.0, cap=60.0), unknown_recheck=300.0)
PLAIN = ProviderFacts(name="a")
LOOKUP = ProviderFacts(name="a", lookup=True, lookup_horizon=30.0)
KEYED = ProviderFacts(name="a", idempotency_key=True)


def error(scope: Scope, kind: Kind, code: str | None = "x") -> ErrorInfo:
    return ErrorInfo(code, "boom", scope=scope, kind=kind)


def at(attempts: int = 1, *, started: float = NOW, others: bool = True) -> Situation:
    return Situation(now=NOW, attempts=attempts, started_at=started, others=others, jitter=0.5)


def test_an_accepted_answer_finishes_with_the_result() -> None:
    result = SendResult("+447700900001", Status.ACCEPTED, message_id="m1")
    decision = decide(Answered(result), PLAIN, at(), RULES)
    assert (decision.action, decision.status, decision.result) == (
        Action.FINISH,
        Status.ACCEPTED,
        result,
    )


def test_a_transient_refusal_retries_after_backoff_and_finishes_when_exhausted() -> None:
    refused = SendResult(
        "+447700900001",
        Status.FAILED_TEMPORARY,
        error=error(Scope.RECIPIENT, Kind.TRANSIENT),
    )
    first = decide(Answered(refused), PLAIN, at(1), RULES)
    assert first.action is Action.RETRY and first.at == NOW + 0.5
    last = decide(Answered(refused), PLAIN, at(5), RULES)
    assert last.action is Action.FINISH and last.status is Status.FAILED_TEMPORARY


def test_request_scope_is_rejected_and_never_retried() -> None:
    decision = decide(Failed(error(Scope.REQUEST, Kind.PERMANENT)), PLAIN, at(), RULES)
    assert (decision.action, decision.status) == (Action.FINISH, Status.REJECTED)


def test_recipient_scope_invalid_number_is_final() -> None:
    failed = Failed(error(Scope.RECIPIENT, Kind.PERMANENT, code="invalid-number"))
    decision = decide(failed, PLAIN, at(), RULES)
    assert (decision.action, decision.status) == (Action.FINISH, Status.INVALID_NUMBER)


def test_provider_permanent_excludes_the_provider_and_counts_on_its_breaker() -> None:
    decision = decide(Failed(error(Scope.PROVIDER, Kind.PERMANENT)), PLAIN, at(), RULES)
    assert decision.action is Action.RETRY
    assert (decision.at, decision.exclude, decision.breaker_failure) == (NOW, "a", True)


def test_provider_transient_fails_over_at_once_only_when_someone_else_may_take_it() -> None:
    failed = Failed(error(Scope.PROVIDER, Kind.TRANSIENT))
    assert decide(failed, PLAIN, at(others=True), RULES).at == NOW
    alone = decide(failed, PLAIN, at(others=False), RULES)
    assert alone.action is Action.RETRY and alone.at == NOW + 0.5


def test_retry_after_is_a_floor_when_waiting_here() -> None:
    failed = Failed(error(Scope.PROVIDER, Kind.TRANSIENT), retry_after=20.0)
    decision = decide(failed, PLAIN, at(others=False), RULES)
    assert decision.at == NOW + 20.0


def test_unknown_with_a_lookup_asks_at_once() -> None:
    failed = Failed(error(Scope.PROVIDER, Kind.TRANSIENT), outcome_unknown=True)
    decision = decide(failed, LOOKUP, at(), RULES)
    assert (decision.action, decision.at, decision.replay) == (Action.RECONCILE, NOW, False)


def test_not_found_before_the_horizon_means_ask_again_at_the_horizon() -> None:
    # The timeout race: the request left 1 s ago and is still being processed.
    decision = decide(
        NotFound(error(Scope.REQUEST, Kind.PERMANENT)), LOOKUP, at(started=NOW - 1), RULES
    )
    assert (decision.action, decision.at) == (Action.RECONCILE, NOW - 1 + 30.0)


def test_not_found_after_the_horizon_is_proof_it_never_arrived() -> None:
    decision = decide(
        NotFound(error(Scope.REQUEST, Kind.PERMANENT)), LOOKUP, at(started=NOW - 31), RULES
    )
    assert (decision.action, decision.at, decision.exclude) == (Action.RETRY, NOW, None)
    assert decision.error is not None and "never arrived" in decision.error.text


def test_found_finishes_with_the_providers_status() -> None:
    decision = decide(Found(Status.DELIVERED, "m9"), LOOKUP, at(), RULES)
    assert (decision.action, decision.status) == (Action.FINISH, Status.DELIVERED)


def test_an_idempotency_key_replays_to_the_same_provider() -> None:
    decision = decide(Interrupted(error(Scope.PROVIDER, Kind.TRANSIENT)), KEYED, at(), RULES)
    assert decision.action is Action.RECONCILE and decision.replay


def test_without_lookup_or_key_at_most_once_parks_and_says_why() -> None:
    decision = decide(Interrupted(error(Scope.PROVIDER, Kind.TRANSIENT)), PLAIN, at(), RULES)
    assert (decision.action, decision.at) == (Action.PARK, NOW + 300.0)
    assert decision.error is not None and "not resent" in decision.error.text


def test_at_least_once_resends_an_unknown_outcome() -> None:
    rules = Rules(retry=RULES.retry, delivery=Delivery.AT_LEAST_ONCE)
    decision = decide(Interrupted(error(Scope.PROVIDER, Kind.TRANSIENT)), PLAIN, at(), rules)
    assert decision.action is Action.RETRY


_SCOPES = st.sampled_from(list(Scope))
_KINDS = st.sampled_from(list(Kind))
_FACTS = st.builds(
    ProviderFacts,
    name=st.just("a"),
    lookup=st.booleans(),
    lookup_horizon=st.floats(0, 600),
    idempotency_key=st.booleans(),
)
_OUTCOMES = st.one_of(
    st.builds(Failed, st.builds(error, _SCOPES, _KINDS), st.booleans()),
    st.builds(Interrupted, st.builds(error, _SCOPES, _KINDS)),
    st.builds(NotFound, st.builds(error, _SCOPES, _KINDS)),
    st.builds(LookupFailed, st.builds(error, _SCOPES, _KINDS)),
)


@given(
    outcome=_OUTCOMES,
    facts=_FACTS,
    attempts=st.integers(1, 8),
    elapsed=st.floats(0, 1_000),
    others=st.booleans(),
    jitter=st.floats(0, 0.999),
)
def test_at_most_once_never_moves_a_message_the_provider_may_hold(
    outcome: Failed | Interrupted | NotFound | LookupFailed,
    facts: ProviderFacts,
    attempts: int,
    elapsed: float,
    others: bool,
    jitter: float,
) -> None:
    situation = Situation(
        now=NOW, attempts=attempts, started_at=NOW - elapsed, others=others, jitter=jitter
    )
    decision = decide(outcome, facts, situation, RULES)
    may_hold = isinstance(outcome, Interrupted | LookupFailed) or (
        isinstance(outcome, Failed) and outcome.outcome_unknown
    )
    # The time since the request left, as the stored times give it (not the drawn float).
    premature = isinstance(outcome, NotFound) and NOW - situation.started_at < facts.lookup_horizon
    if may_hold or premature:
        # Only the same provider may be asked or replayed to; nothing goes elsewhere.
        assert decision.action in (Action.RECONCILE, Action.PARK)
    assert decision.at >= NOW or decision.action is Action.FINISH
