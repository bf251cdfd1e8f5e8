"""The router: which provider gets a message, and what happens when it fails.

Every decision comes from two facts on the error, its ``scope`` and ``kind``, plus
whether the outcome is unknown; never from exception classes or message text:

* request scope: the input is wrong; raise, nothing is retried anywhere;
* recipient scope: that recipient's result is final (permanent) or retried later on the
  same provider (transient);
* provider scope: the breaker counts it; the message moves to the next provider, and a
  permanent failure excludes that provider for this message;
* outcome unknown: the provider may have taken the message. It is reconciled with that
  provider (looked up by client reference, or replayed with the same idempotency key)
  and is never sent to another provider unless the application chose at-least-once.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Sequence

import attrs

from smsbridge.errors import (
    ConfigurationError,
    ErrorInfo,
    Kind,
    MessageNotFoundError,
    Scope,
    SmsBridgeError,
)
from smsbridge.model import Message
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.backoff import RetryPolicy
from smsbridge.router.breaker import BreakerBoard
from smsbridge.router.policy import Policy, Priority
from smsbridge.status import Status

__all__ = ["Delivery", "Router"]


class Delivery(enum.Enum):
    """What to do when a send's outcome cannot be known."""

    AT_MOST_ONCE = "at-most-once"
    """Report UNKNOWN rather than risk a duplicate (the default)."""
    AT_LEAST_ONCE = "at-least-once"
    """Resend, accepting that the recipient may receive the message twice."""


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
        on_attempt: Called before each attempt with the provider and the message.
        on_failure: Called on each request-level failure with the error.
        on_results: Called with the per-recipient results of each answered attempt.
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
        on_attempt: Callable[[Provider, Message], None] | None = None,
        on_failure: Callable[[Provider, Message, SmsBridgeError], None] | None = None,
        on_results: Callable[[Provider, list[SendResult]], None] | None = None,
    ) -> None:
        if not providers:
            raise ConfigurationError("a router needs at least one provider")
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"providers must have distinct names, got {names}")
        self.providers = tuple(providers)
        self.policy: Policy = policy or Priority()
        self.retry = retry or RetryPolicy()
        self.breakers = breakers or BreakerBoard(clock=clock)
        self.delivery = delivery
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self._on_attempt = on_attempt
        self._on_failure = on_failure
        self._on_results = on_results

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
                if not self._wait_for_retry(progress, None):
                    break
                continue
            batch = attrs.evolve(message, to=tuple(pending))
            progress.attempts += 1
            if self._on_attempt:
                self._on_attempt(provider, batch)
            try:
                results = provider.send(batch)
            except SmsBridgeError as exc:
                if self._on_failure:
                    self._on_failure(provider, batch, exc)
                resolved = self._handle_error(provider, batch, exc, progress)
                if resolved is not None:
                    for result in resolved:
                        done[result.recipient] = result
                    pending = [n for n in pending if n not in done]
                continue
            self.breakers.success(provider.name)
            if self._on_results:
                self._on_results(provider, results)
            retry_here: list[str] = []
            for result in results:
                error = result.error
                if (
                    not result.ok
                    and error is not None
                    and error.kind is Kind.TRANSIENT
                    and not self.retry.exhausted(progress.attempts)
                ):
                    if error.scope is Scope.PROVIDER:
                        progress.skipped.add(provider.name)
                    retry_here.append(result.recipient)
                    progress.last_error = error
                    continue
                done[result.recipient] = attrs.evolve(result, attempts=progress.attempts)
            pending = [n for n in pending if n not in done]
            if pending and retry_here and not self._wait_for_retry(progress, None):
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

    # -- decisions --------------------------------------------------------------------

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

    def _handle_error(
        self, provider: Provider, message: Message, exc: SmsBridgeError, progress: _Progress
    ) -> list[SendResult] | None:
        """Decide after a request-level failure; returns final results or None to go on."""
        progress.last_error = exc.info()
        if exc.outcome_unknown:
            return self._reconcile(provider, message, exc, progress)
        if exc.scope is Scope.REQUEST:
            raise exc
        if exc.scope is Scope.RECIPIENT:
            if exc.kind is Kind.TRANSIENT and not self.retry.exhausted(progress.attempts):
                self._wait_for_retry(progress, exc.retry_after)
                return None
            status = Status.INVALID_NUMBER if exc.code == "invalid-number" else Status.REJECTED
            return [
                SendResult(
                    number,
                    status,
                    provider=provider.name,
                    reference=message.reference,
                    error=exc.info(),
                    attempts=progress.attempts,
                )
                for number in message.to
            ]
        # Provider scope: count it, move on; a permanent refusal excludes the provider.
        self.breakers.failure(provider.name)
        if exc.kind is Kind.PERMANENT:
            progress.refused.add(provider.name)
        else:
            progress.skipped.add(provider.name)
            if exc.retry_after is not None and not any(
                progress.usable(p.name) for p in self.providers
            ):
                self._wait_for_retry(progress, exc.retry_after)
        return None

    def _reconcile(
        self, provider: Provider, message: Message, exc: SmsBridgeError, progress: _Progress
    ) -> list[SendResult] | None:
        caps = provider.capabilities
        reference = message.reference
        if caps.query_by_reference and reference is not None and len(message.to) == 1:
            try:
                report = provider.query(reference=reference)
            except MessageNotFoundError:
                # The provider never took it: resending anywhere is safe.
                progress.skipped.add(provider.name)
                return None
            except SmsBridgeError:
                pass
            else:
                return [
                    SendResult(
                        message.to[0],
                        report.status,
                        provider=provider.name,
                        message_id=report.message_id,
                        reference=reference,
                        attempts=progress.attempts,
                    )
                ]
        if caps.idempotency_key and not self.retry.exhausted(progress.attempts):
            # The provider de-duplicates by key: replaying to the same provider is safe,
            # and anything but the same provider is not.
            progress.pinned = provider.name
            return None
        if self.delivery is Delivery.AT_LEAST_ONCE and not self.retry.exhausted(progress.attempts):
            return None
        return [
            SendResult(
                number,
                Status.UNKNOWN,
                provider=provider.name,
                reference=reference,
                error=exc.info(),
                attempts=progress.attempts,
            )
            for number in message.to
        ]

    def _wait_for_retry(self, progress: _Progress, retry_after: float | None) -> bool:
        """Sleep before the next round; False when the budget or the wait is used up."""
        if self.retry.exhausted(progress.attempts):
            return False
        delay = self.retry.delay(max(progress.attempts, 1), retry_after=retry_after, rand=self.rand)
        if progress.waited + delay > self.max_wait:
            return False
        progress.waited += delay
        self.sleep(delay)
        # A new round may use providers that failed transiently before.
        progress.skipped.clear()
        return True
