"""The router: which provider gets a message, and what happens when it fails.

The decisions are :func:`smsbridge.router.decide.decide`'s, made from two facts on the
error, its ``scope`` and ``kind``, plus whether the outcome is unknown; never from
exception classes or message text. The durable dispatcher acts on the same function
through the outbox; :meth:`Router.send` acts on it in memory, sleeping between rounds
(for scripts and tests without an outbox: nothing it decides survives the process).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import attrs

from smsbridge.errors import ConfigurationError, ErrorInfo, Kind, Scope, SmsBridgeError
from smsbridge.model import Message
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.backoff import RetryPolicy
from smsbridge.router.breaker import BreakerBoard
from smsbridge.router.decide import (
    Action,
    Answered,
    Decision,
    Delivery,
    Failed,
    Found,
    LookupFailed,
    NotFound,
    Outcome,
    ProviderFacts,
    Rules,
    Situation,
    decide,
)
from smsbridge.router.hooks import AttemptHook, FailureHook, ResultsHook, SendHooks
from smsbridge.router.policy import Policy, Priority
from smsbridge.status import Status

__all__ = ["Delivery", "Router"]

_NO_RESULT = ErrorInfo(
    "no-result",
    "the provider returned no result for the recipient",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)


@attrs.define
class _Progress:
    attempts: int = 0
    waited: float = 0.0
    refused: set[str] = attrs.field(factory=set)
    """Providers that refused the message permanently: never again for it."""
    skipped: set[str] = attrs.field(factory=set)
    """Providers that failed transiently: skipped until the next round."""
    pinned: str | None = None
    """The only provider allowed, once it may hold the message (unknown outcome)."""
    last_error: ErrorInfo | None = None
    delay: float | None = None
    """The longest wait any recipient of the last round asked for (seconds)."""

    def usable(self, name: str) -> bool:
        if self.pinned is not None:
            return name == self.pinned
        return name not in self.refused and name not in self.skipped


class Router:
    """Sends a prepared message through providers with retries and failover.

    Args:
        providers: Candidates in configured priority order.
        policy: Orders the candidates per message.
        retry: Attempt budget and backoff.
        breakers: Circuit breakers (shared through the outbox when there is one).
        delivery: At-most-once (default) or at-least-once for unknown outcomes.
        max_wait: Longest total time a synchronous send sleeps between retries before
            giving up with ``FAILED_TEMPORARY``; the durable outbox stores retry times
            instead of sleeping.
        clock: Monotonic seconds, for breakers.
        sleep: How a synchronous send waits between retries (tests pass a recorder).
        rand: Randomness for backoff jitter.
        on_attempt: Called before each request with the provider and the message.
        on_failure: Called on each request-level failure with the error.
        on_results: Called with the per-recipient results of each answered request.
        unknown_recheck: Seconds before a parked unknown outcome is looked at again
            (the durable dispatcher's setting; stored with the decision).
        hooks: The request observers as one object; replaces the three ``on_*``.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        policy: Policy | None = None,
        retry: RetryPolicy | None = None,
        breakers: BreakerBoard | None = None,
        delivery: Delivery = Delivery.AT_MOST_ONCE,
        max_wait: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        on_attempt: AttemptHook | None = None,
        on_failure: FailureHook | None = None,
        on_results: ResultsHook | None = None,
        unknown_recheck: float = 300.0,
        hooks: SendHooks | None = None,
    ) -> None:
        if not providers:
            raise ConfigurationError("a router needs at least one provider")
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"providers must have distinct names, got {names}")
        self.providers = tuple(providers)
        self.policy: Policy = policy or Priority()
        self.retry = retry or RetryPolicy()
        self.breakers = breakers or BreakerBoard(
            clock=clock, on_change=lambda *change: self.hooks.events.breaker_changed(*change)
        )
        self.delivery = delivery
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.unknown_recheck = unknown_recheck
        self.hooks = hooks or SendHooks(
            on_attempt=on_attempt, on_failure=on_failure, on_results=on_results
        )
        """The request observers, for every path that sends through this router."""

    def rules(self) -> Rules:
        """The retry policy and delivery mode, as :func:`decide` takes them."""
        return Rules(retry=self.retry, delivery=self.delivery, unknown_recheck=self.unknown_recheck)

    def send(self, message: Message) -> list[SendResult]:
        """Send ``message`` (E.164 numbers, reference set) and return one result per
        recipient, in ``message.to`` order.

        Raises:
            SmsBridgeError: Only for request-scope errors (the input itself is wrong).
        """
        progress = _Progress()
        done: dict[str, SendResult] = {}
        pending = list(message.to)
        while pending:
            provider = self._next_provider(message, progress)
            if provider is None:
                if all(p.name in progress.refused for p in self.providers):
                    break
                if not self._wait_for_retry(progress):
                    break
                continue
            batch = attrs.evolve(message, to=tuple(pending))
            progress.attempts += 1
            started = self.clock()
            self.hooks.before_send(provider, batch)
            outcomes: dict[str, Outcome]
            try:
                results = provider.send(batch)
            except SmsBridgeError as exc:
                self.hooks.send_failed(provider, batch, exc)
                if exc.scope is Scope.REQUEST and not exc.outcome_unknown:
                    raise
                failed = Failed(exc.info(), exc.outcome_unknown, exc.retry_after)
                outcomes = dict.fromkeys(pending, failed)
            else:
                self.breakers.success(provider.name)
                self.hooks.after_send(provider, results)
                answered = {r.recipient: r for r in results}
                outcomes = {
                    n: Answered(answered[n]) if n in answered else Failed(_NO_RESULT, True)
                    for n in pending
                }
            self._apply(provider, batch, outcomes, progress, started, done)
            pending = [n for n in pending if n not in done]
            if pending and not self._wait_for_retry(progress):
                break
        # Refused everywhere is a rejection; otherwise a later attempt may still work.
        everywhere = all(p.name in progress.refused for p in self.providers)
        for number in pending:
            done[number] = SendResult(
                number,
                Status.REJECTED if everywhere else Status.FAILED_TEMPORARY,
                reference=message.reference,
                error=progress.last_error,
                attempts=progress.attempts,
            )
        return [done[n] for n in message.to if n in done]

    # -- acting on decisions ----------------------------------------------------------

    def facts(self, provider: Provider) -> ProviderFacts:
        """What :func:`decide` needs to know about ``provider``."""
        caps = provider.capabilities
        return ProviderFacts(
            name=provider.name,
            lookup=caps.query_by_reference,
            lookup_horizon=provider.lookup_horizon,
            idempotency_key=caps.idempotency_key,
        )

    def _apply(
        self,
        provider: Provider,
        message: Message,
        outcomes: dict[str, Outcome],
        progress: _Progress,
        started: float,
        done: dict[str, SendResult],
    ) -> None:
        facts = self.facts(provider)
        rules = self.rules()
        counted = False
        others = any(p.name != provider.name and progress.usable(p.name) for p in self.providers)
        for number, outcome in outcomes.items():
            situation = Situation(
                now=self.clock(),
                attempts=progress.attempts,
                started_at=started,
                others=others,
                jitter=self.rand(),
            )
            decision = decide(outcome, facts, situation, rules)
            if (
                decision.action is Action.RECONCILE
                and not decision.replay
                and len(message.to) == 1
                and decision.at <= situation.now
            ):
                decision = self._look_up(provider, message, facts, situation, rules)
            if decision.breaker_failure and not counted:
                self.breakers.failure(provider.name)
                counted = True
            if decision.action is not Action.FINISH:
                wait = max(decision.at - situation.now, 0.0)
                progress.delay = wait if progress.delay is None else max(progress.delay, wait)
            self._note(provider, number, message, decision, progress, done)

    def _look_up(
        self,
        provider: Provider,
        message: Message,
        facts: ProviderFacts,
        situation: Situation,
        rules: Rules,
    ) -> Decision:
        assert message.reference is not None
        outcome: Outcome
        try:
            report = provider.query(reference=message.reference)
        except SmsBridgeError as exc:
            from smsbridge.errors import MessageNotFoundError

            if isinstance(exc, MessageNotFoundError):
                outcome = NotFound(exc.info())
            else:
                outcome = LookupFailed(exc.info())
        else:
            outcome = Found(report.status, report.message_id, report.error)
        decision = decide(outcome, facts, situation, rules)
        if decision.action is Action.FINISH and isinstance(outcome, Found):
            result = SendResult(
                message.to[0],
                outcome.status,
                provider=provider.name,
                message_id=outcome.message_id,
                reference=message.reference,
                error=outcome.error,
            )
            return attrs.evolve(decision, result=result)
        return decision

    def _note(
        self,
        provider: Provider,
        number: str,
        message: Message,
        decision: Decision,
        progress: _Progress,
        done: dict[str, SendResult],
    ) -> None:
        """Carry one recipient's decision out in memory."""
        if decision.error is not None:
            progress.last_error = decision.error
        action = decision.action
        if action is Action.FINISH:
            result = decision.result
            if result is None:
                result = SendResult(
                    number,
                    decision.status or Status.UNKNOWN,
                    provider=provider.name,
                    reference=message.reference,
                    error=decision.error,
                )
            done[number] = attrs.evolve(result, attempts=progress.attempts)
            return
        if action is Action.RETRY:
            if decision.exclude is not None:
                progress.refused.add(decision.exclude)
            elif decision.error is not None and decision.error.scope is Scope.PROVIDER:
                # This provider failed as a whole (or never got it): others first.
                progress.skipped.add(provider.name)
            return
        if action is Action.RECONCILE and decision.replay:
            # The provider de-duplicates by key: replaying to it is safe, to anyone
            # else it is not.
            progress.pinned = provider.name
            return
        # A lookup that cannot be trusted yet, or nothing safe to do: in memory there is
        # no later, so the outcome stays unknown.
        done[number] = SendResult(
            number,
            Status.UNKNOWN,
            provider=provider.name,
            reference=message.reference,
            error=decision.error,
            attempts=progress.attempts,
        )

    def _next_provider(self, message: Message, progress: _Progress) -> Provider | None:
        if self.retry.exhausted(progress.attempts):
            return None
        for provider in self.policy.order(message, self.providers):
            if not progress.usable(provider.name):
                continue
            if not provider.accepts(message):
                continue
            if self.breakers.allows(provider.name):
                return provider
        return None

    def _wait_for_retry(self, progress: _Progress) -> bool:
        """Sleep until the next round is due; False when the budget or the wait is used up."""
        if self.retry.exhausted(progress.attempts):
            return False
        delay = progress.delay
        stuck = not any(progress.usable(p.name) for p in self.providers)
        if delay is None or (delay == 0 and stuck):
            delay = self.retry.delay(max(progress.attempts, 1), rand=self.rand)
        progress.delay = None
        if progress.waited + delay > self.max_wait:
            return False
        if delay > 0:
            progress.waited += delay
            self.sleep(delay)
            # A new round may use providers that failed transiently before.
            progress.skipped.clear()
        return True
