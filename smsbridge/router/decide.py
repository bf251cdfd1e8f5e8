"""What to do after an attempt: one pure function that every sending path acts on.

:func:`decide` takes what happened to one recipient's attempt (an answer, a failed
request, an interrupted attempt, or the answer to a lookup by reference) together with
the facts it may depend on (the attempt count, when the request left, the provider's
capabilities, the delivery mode) and returns a :class:`Decision`: finish, retry at a
time, reconcile with the same provider at a time, or park as unknown. It reads no clock
and does no I/O, so the durable dispatcher and the tests drive it alike; the dispatcher
writes each decision to the outbox.

The rules (``docs/failover.md``):

* request scope: the input is wrong; the recipient is rejected, nothing is retried;
* recipient scope: final when permanent; retried later when transient;
* provider scope: counted by the breaker; the message moves on (a permanent refusal
  excludes that provider for this message);
* outcome unknown: the provider may hold the message. It is looked up by reference, or
  replayed with the same idempotency key, and never moved to another provider unless
  the provider provably did not take it (a lookup answering "not found" once the
  provider's lookup horizon has passed) or the application chose at-least-once.
"""

from __future__ import annotations

import enum

import attrs

from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.results import SendResult
from smsbridge.router.backoff import RetryPolicy
from smsbridge.status import Status

__all__ = [
    "Action",
    "Answered",
    "Decision",
    "Delivery",
    "Failed",
    "Found",
    "Interrupted",
    "LookupFailed",
    "NotFound",
    "Outcome",
    "ProviderFacts",
    "Rules",
    "Situation",
    "decide",
]


class Delivery(enum.Enum):
    """What to do when a send's outcome cannot be known."""

    AT_MOST_ONCE = "at-most-once"
    """Report UNKNOWN rather than risk a duplicate (the default)."""
    AT_LEAST_ONCE = "at-least-once"
    """Resend, accepting that the recipient may receive the message twice."""


class Action(enum.Enum):
    """The four things that can happen to an item after an attempt."""

    FINISH = "finish"
    """Record ``status`` (and the result): the item is settled."""
    RETRY = "retry"
    """Due again at ``at``, through any usable provider (policy order, the one that just
    failed transiently last, ``exclude`` never again)."""
    RECONCILE = "reconcile"
    """The provider may hold the message: at ``at``, ask it by reference (or, with
    ``replay``, resend the same request with the same idempotency key)."""
    PARK = "park"
    """Unknown and nothing safe to do now: left ``UNKNOWN`` and looked at again at
    ``at`` (a lookup, never a resend elsewhere)."""


@attrs.frozen(slots=True)
class Decision:
    """What :func:`decide` says to do.

    Args:
        action: The action.
        at: When the item is due again (``RETRY``, ``RECONCILE``, ``PARK``).
        status: The status to record (``FINISH``).
        result: The provider's result to record as is (``FINISH`` after an answer).
        error: The error to record with the item.
        exclude: A provider that refused the message for good (``RETRY``).
        replay: Reconcile by resending with the same idempotency key (``RECONCILE``).
        breaker_failure: The provider failed as a whole: its breaker counts it.
    """

    action: Action
    at: float = attrs.field(default=0.0, kw_only=True)
    status: Status | None = attrs.field(default=None, kw_only=True)
    result: SendResult | None = attrs.field(default=None, kw_only=True)
    error: ErrorInfo | None = attrs.field(default=None, kw_only=True)
    exclude: str | None = attrs.field(default=None, kw_only=True)
    replay: bool = attrs.field(default=False, kw_only=True)
    breaker_failure: bool = attrs.field(default=False, kw_only=True)


# -- what happened ------------------------------------------------------------------


@attrs.frozen(slots=True)
class Answered:
    """The provider answered the request; this is the recipient's result."""

    result: SendResult


@attrs.frozen(slots=True)
class Failed:
    """The request failed as a whole.

    Args:
        error: The error, as data.
        outcome_unknown: The request may have been acted upon (it left and no usable
            answer came back).
        retry_after: Seconds the provider asked us to wait.
    """

    error: ErrorInfo
    outcome_unknown: bool = False
    retry_after: float | None = None


@attrs.frozen(slots=True)
class Interrupted:
    """The attempt's worker stopped before recording an outcome (crash, lost lease)."""

    error: ErrorInfo


@attrs.frozen(slots=True)
class Found:
    """A lookup by reference found the message at the provider.

    Args:
        status: The status the provider gave.
        message_id: The provider's id, when it said.
        error: The provider's error for a failed message.
    """

    status: Status
    message_id: str | None = None
    error: ErrorInfo | None = None


@attrs.frozen(slots=True)
class NotFound:
    """A lookup by reference answered that the provider has no such message."""

    error: ErrorInfo


@attrs.frozen(slots=True)
class LookupFailed:
    """A lookup by reference could not be answered (transport error, garbage)."""

    error: ErrorInfo


Outcome = Answered | Failed | Interrupted | Found | NotFound | LookupFailed
"""Everything :func:`decide` can be told about an attempt."""


# -- what the decision may depend on ------------------------------------------------


@attrs.frozen(kw_only=True, slots=True)
class ProviderFacts:
    """What the decision needs to know about the provider of the attempt.

    Args:
        name: The provider's registered name.
        lookup: A lookup by reference answers for this recipient.
        lookup_horizon: Seconds after a request left from which the lookup's "not
            found" can be trusted to mean "never received".
        idempotency_key: The provider de-duplicates a resend of the same request.
    """

    name: str
    lookup: bool = False
    lookup_horizon: float = 300.0
    idempotency_key: bool = False


@attrs.frozen(kw_only=True, slots=True)
class Rules:
    """The application's choices.

    Args:
        retry: Attempt budget and backoff.
        delivery: At-most-once (default) or at-least-once for unknown outcomes.
        unknown_recheck: Seconds before a parked unknown outcome is looked at again.
    """

    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    delivery: Delivery = Delivery.AT_MOST_ONCE
    unknown_recheck: float = 300.0


@attrs.frozen(kw_only=True, slots=True)
class Situation:
    """The item's history and the moment of the decision.

    Args:
        now: The current time, on the store's clock.
        attempts: Attempts recorded for the item, this one included.
        started_at: When this attempt's request left (same clock as ``now``).
        others: Another provider may still take the message.
        jitter: A uniform draw in ``[0, 1)`` for backoff.
    """

    now: float
    attempts: int
    started_at: float
    others: bool = False
    jitter: float = 0.5


# -- the decision -------------------------------------------------------------------


def decide(
    outcome: Outcome, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    """What to do with one recipient after an attempt or a lookup.

    Args:
        outcome: What happened.
        provider: Facts about the provider of the attempt.
        situation: Attempt count, timing and alternatives.
        rules: Retry policy and delivery mode.

    Returns:
        The decision.
    """
    if isinstance(outcome, Answered):
        return _answered(outcome.result, provider, situation, rules)
    if isinstance(outcome, Failed):
        if outcome.outcome_unknown:
            return _unknown(outcome.error, provider, situation, rules)
        return _failed(outcome, provider, situation, rules)
    if isinstance(outcome, Interrupted):
        return _unknown(outcome.error, provider, situation, rules)
    if isinstance(outcome, Found):
        if outcome.status is Status.UNKNOWN:
            return _unresolved(outcome.error or _NO_ANSWER, provider, situation, rules)
        return Decision(Action.FINISH, status=outcome.status, error=outcome.error)
    if isinstance(outcome, NotFound):
        return _not_found(outcome.error, provider, situation, rules)
    return _unresolved(outcome.error, provider, situation, rules)


_NO_ANSWER = ErrorInfo(
    "unknown-outcome",
    "the provider's lookup gave no usable status",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)


def _delay(situation: Situation, rules: Rules, retry_after: float | None = None) -> float:
    ceiling = rules.retry.ceiling(max(situation.attempts, 1))
    drawn = situation.jitter * ceiling
    if retry_after is not None and retry_after > 0:
        return max(drawn, min(retry_after, rules.retry.max_retry_after))
    return drawn


def _exhausted(situation: Situation, rules: Rules) -> bool:
    return rules.retry.exhausted(situation.attempts)


def _answered(
    result: SendResult, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    if result.status is Status.UNKNOWN:
        unknown = result.error or ErrorInfo(
            "unknown-outcome",
            f"{provider.name} gave no usable answer",
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
        )
        return _unknown(unknown, provider, situation, rules)
    error = result.error
    if (
        not result.ok
        and error is not None
        and error.kind is Kind.TRANSIENT
        and not _exhausted(situation, rules)
    ):
        return Decision(
            Action.RETRY,
            at=situation.now + _delay(situation, rules),
            status=result.status,
            error=error,
        )
    return Decision(Action.FINISH, status=result.status, result=result, error=error)


def _failed(
    outcome: Failed, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    error = outcome.error
    now = situation.now
    if error.scope is Scope.REQUEST:
        return Decision(Action.FINISH, status=Status.REJECTED, error=error)
    if error.scope is Scope.RECIPIENT:
        if error.kind is Kind.TRANSIENT and not _exhausted(situation, rules):
            return Decision(
                Action.RETRY,
                at=now + _delay(situation, rules, outcome.retry_after),
                error=error,
            )
        status = Status.INVALID_NUMBER if error.code == "invalid-number" else Status.REJECTED
        return Decision(Action.FINISH, status=status, error=error)
    # Provider scope: the breaker counts the request once, however many it carried.
    if _exhausted(situation, rules):
        return Decision(
            Action.FINISH, status=Status.FAILED_TEMPORARY, error=error, breaker_failure=True
        )
    if error.kind is Kind.PERMANENT:
        return Decision(
            Action.RETRY, at=now, error=error, exclude=provider.name, breaker_failure=True
        )
    retry_after = outcome.retry_after
    if situation.others and (retry_after is None or retry_after > rules.retry.max_retry_after):
        when = now  # fail over at once
    else:
        when = now + _delay(situation, rules, retry_after)
    return Decision(Action.RETRY, at=when, error=error, breaker_failure=True)


def _unknown(
    error: ErrorInfo, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    """The provider may hold the message: ask it, replay to it, or never guess."""
    if provider.lookup:
        # Ask at once: a message found settles it now. "Not found" before the horizon
        # only means "ask again" (see _not_found).
        return Decision(Action.RECONCILE, at=situation.now, error=error)
    return _unresolved(error, provider, situation, rules)


def _unresolved(
    error: ErrorInfo, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    """No lookup settled it: replay with the same key, resend by choice, or park."""
    now = situation.now
    exhausted = _exhausted(situation, rules)
    if provider.idempotency_key and not exhausted:
        # Same key, same provider: the provider de-duplicates the replay.
        return Decision(
            Action.RECONCILE, at=now + _delay(situation, rules), error=error, replay=True
        )
    if rules.delivery is Delivery.AT_LEAST_ONCE and not exhausted:
        return Decision(Action.RETRY, at=now + _delay(situation, rules), error=error)
    return Decision(Action.PARK, at=now + rules.unknown_recheck, error=_parked(error, provider))


def _parked(error: ErrorInfo, provider: ProviderFacts) -> ErrorInfo:
    if error.text.endswith("not resent"):
        return error
    why = (
        "its lookup has not answered yet"
        if provider.lookup
        else "it offers no lookup by reference and no idempotency key"
    )
    return ErrorInfo(
        error.code,
        f"{error.text}; {provider.name} may hold the message and {why}: "
        "parked as unknown, not resent",
        scope=error.scope,
        kind=error.kind,
    )


def _not_found(
    error: ErrorInfo, provider: ProviderFacts, situation: Situation, rules: Rules
) -> Decision:
    trusted_from = situation.started_at + provider.lookup_horizon
    if situation.now - situation.started_at < provider.lookup_horizon:
        # The request may still be in the provider's hands (a slow answer we stopped
        # waiting for): "not found" is not yet proof. Ask again once it is.
        wait = ErrorInfo(
            error.code,
            f"not found on {provider.name} yet, {situation.now - situation.started_at:.1f} s "
            f"after the request left; asked again {provider.lookup_horizon:.0f} s after it "
            "(the request may still be in the provider's hands)",
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
        )
        return Decision(Action.RECONCILE, at=max(trusted_from, situation.now), error=wait)
    never = ErrorInfo(
        error.code,
        f"not found on {provider.name} {situation.now - situation.started_at:.0f} s after "
        "the request left: it never arrived; safe to send again",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
    )
    if _exhausted(situation, rules):
        return Decision(Action.FINISH, status=Status.FAILED_TEMPORARY, error=never)
    return Decision(Action.RETRY, at=situation.now, error=never)
