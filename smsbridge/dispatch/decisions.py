"""What the dispatcher does after an attempt: the router's table applied to outbox items.

Not public: :class:`~smsbridge.dispatch.Dispatcher` mixes this in. Every method writes
its decision to the store (a result, a stored retry time, an unknown outcome to
reconcile); none sleeps. The rules are the router's (``docs/failover.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from smsbridge.errors import ErrorInfo, Kind, Scope, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox.base import ItemState, OutboxItem, OutboxStore
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import OPEN, BreakerBoard
from smsbridge.router.router import Delivery, Router
from smsbridge.status import Status

from .support import item_message, no_result_error, unknown_error, with_attempts

__all__ = ["Decisions"]


class Decisions:
    """Outcome handling shared by single and grouped requests."""

    router: Router
    store: OutboxStore
    owner: str
    clock: Callable[[], float]
    rand: Callable[[], float]
    unknown_recheck: float
    not_found: Callable[[SmsBridgeError], bool]
    breakers: BreakerBoard
    _provider_failed: Callable[[str], None]

    def _delay(self, attempts: int, retry_after: float | None = None) -> float:
        return self.router.retry.delay(max(attempts, 1), retry_after=retry_after, rand=self.rand)

    def _candidates(self, item: OutboxItem, message: Message) -> list[Provider]:
        """Usable providers in policy order; the one that just failed transiently last."""
        ordered = [
            p
            for p in self.router.policy.order(message, self.router.providers)
            if p.name not in item.excluded_providers and p.accepts(message)
        ]
        error = item.last_error
        if (
            item.state is ItemState.RETRY_WAIT
            and item.provider is not None
            and error is not None
            and error.scope is Scope.PROVIDER
        ):
            ordered.sort(key=lambda p: p.name == item.provider)
        return ordered

    # -- after an answer --------------------------------------------------------------

    def _record(
        self, items: Sequence[OutboxItem], provider: Provider, results: Sequence[SendResult]
    ) -> None:
        """Match a request's results to its items and store each one's outcome; the
        final ones in one commit."""
        by_reference = {r.reference: r for r in results if r.reference is not None}
        by_number = {r.recipient: r for r in results}
        finals: list[tuple[str, SendResult]] = []
        now = self.clock()
        for item in items:
            attempts = item.attempts + 1
            result = by_reference.get(item.reference)
            if result is None or result.recipient != item.recipient:
                result = by_number.get(item.recipient)
            if result is None:
                self._unknown(item, provider, no_result_error(), attempts)
                continue
            if result.status is Status.UNKNOWN:
                self._unknown(item, provider, result.error or unknown_error(provider), attempts)
                continue
            error = result.error
            if (
                not result.ok
                and error is not None
                and error.kind is Kind.TRANSIENT
                and not self.router.retry.exhausted(attempts)
            ):
                self.store.retry_later(
                    item.reference,
                    owner=self.owner,
                    error=error,
                    outcome=result.status,
                    next_attempt_at=now + self._delay(attempts),
                    now=now,
                )
                continue
            if result.provider is None:
                result = SendResult(
                    result.recipient,
                    result.status,
                    provider=provider.name,
                    message_id=result.message_id,
                    reference=item.reference,
                    parts=result.parts,
                    cost=result.cost,
                    error=result.error,
                )
            finals.append((item.reference, with_attempts(result, attempts)))
        if finals:
            self.store.finish_many(finals, owner=self.owner, now=now)

    def _failed(self, items: Sequence[OutboxItem], provider: Provider, exc: SmsBridgeError) -> None:
        """Decide after a request-level failure of one request (one or many items)."""
        info = exc.info()
        if exc.outcome_unknown:
            for item in items:
                self._unknown(item, provider, info, item.attempts + 1)
            return
        now = self.clock()
        if exc.scope is Scope.REQUEST:
            self._finish_all(items, provider, Status.REJECTED, info, now)
            return
        if exc.scope is Scope.RECIPIENT:
            final: list[OutboxItem] = []
            for item in items:
                attempts = item.attempts + 1
                if exc.kind is Kind.TRANSIENT and not self.router.retry.exhausted(attempts):
                    self.store.retry_later(
                        item.reference,
                        owner=self.owner,
                        error=info,
                        next_attempt_at=now + self._delay(attempts, exc.retry_after),
                        now=now,
                    )
                else:
                    final.append(item)
            status = Status.INVALID_NUMBER if exc.code == "invalid-number" else Status.REJECTED
            self._finish_all(final, provider, status, info, now)
            return
        # Provider scope: the breaker counts the request once, however many it carried.
        self._provider_failed(provider.name)
        exhausted = [i for i in items if self.router.retry.exhausted(i.attempts + 1)]
        self._finish_all(exhausted, provider, Status.FAILED_TEMPORARY, info, now)
        for item in items:
            if self.router.retry.exhausted(item.attempts + 1):
                continue
            attempts = item.attempts + 1
            if exc.kind is Kind.PERMANENT:
                self.store.retry_later(
                    item.reference,
                    owner=self.owner,
                    error=info,
                    next_attempt_at=now,
                    exclude_provider=provider.name,
                    now=now,
                )
                continue
            message = item_message(item)
            others = any(p.name != provider.name for p in self._candidates(item, message))
            retry_after = exc.retry_after
            if others and (retry_after is None or retry_after > self.router.retry.max_retry_after):
                when = now  # fail over at once
            else:
                when = now + self._delay(attempts, retry_after)
            self.store.retry_later(
                item.reference, owner=self.owner, error=info, next_attempt_at=when, now=now
            )

    def _finish_all(
        self,
        items: Sequence[OutboxItem],
        provider: Provider,
        status: Status,
        error: ErrorInfo,
        now: float,
    ) -> None:
        if not items:
            return
        results = [
            (
                item.reference,
                SendResult(
                    item.recipient,
                    status,
                    provider=provider.name,
                    reference=item.reference,
                    error=error,
                    attempts=item.attempts + 1,
                ),
            )
            for item in items
        ]
        self.store.finish_many(results, owner=self.owner, now=now)

    # -- unknown outcomes -------------------------------------------------------------

    def _unknown(
        self, item: OutboxItem, provider: Provider, error: ErrorInfo, attempts: int
    ) -> None:
        """The provider may hold the message: ask it, else never guess."""
        if self._query(item, provider, attempts):
            return
        now = self.clock()
        exhausted = self.router.retry.exhausted(attempts)
        if provider.capabilities.idempotency_key and not exhausted:
            # Replayed later to the same provider by reconciliation (never another one).
            self.store.mark_unknown(
                item.reference,
                owner=self.owner,
                error=error,
                now=now,
                next_attempt_at=now + self._delay(attempts),
            )
            return
        if self.router.delivery is Delivery.AT_LEAST_ONCE and not exhausted:
            self.store.retry_later(
                item.reference,
                owner=self.owner,
                error=error,
                next_attempt_at=now + self._delay(attempts),
                now=now,
            )
            return
        self._park(item, error)

    def _park(self, item: OutboxItem, error: ErrorInfo, when: float | None = None) -> None:
        """Leave the item UNKNOWN, to be looked at again much later (or at ``when``)."""
        now = self.clock()
        self.store.mark_unknown(
            item.reference,
            owner=self.owner,
            error=error,
            now=now,
            next_attempt_at=now + self.unknown_recheck if when is None else when,
        )

    def _query(self, item: OutboxItem, provider: Provider, attempts: int) -> bool:
        """Look the item up by reference; True when that settled it (done or re-queued)."""
        if not provider.capabilities.query_by_reference:
            return False
        try:
            report = provider.query(reference=item.reference)
        except SmsBridgeError as exc:
            if not self.not_found(exc):
                return False
            # The provider never took it: sending again, anywhere, is safe.
            now = self.clock()
            self.store.retry_later(
                item.reference,
                owner=self.owner,
                error=ErrorInfo(
                    exc.code,
                    f"not found on {provider.name}; safe to send again",
                    scope=Scope.PROVIDER,
                    kind=Kind.TRANSIENT,
                ),
                next_attempt_at=now,
                now=now,
            )
            return True
        if report.status is Status.UNKNOWN:
            return False
        result = SendResult(
            item.recipient,
            report.status,
            provider=provider.name,
            message_id=report.message_id,
            reference=item.reference,
            error=report.error,
            attempts=attempts,
        )
        self.store.finish(item.reference, owner=self.owner, result=result, now=self.clock())
        return True

    def _breaker_wait(self, item: OutboxItem, message: Message, now: float) -> float:
        """When a breaker blocking the item's candidates lets a probe through."""
        reopen = [
            state.opened_at + self.breakers.reset_timeout
            for p in self._candidates(item, message)
            if (state := self.breakers.storage.get_breaker(p.name)).state == OPEN
            and state.opened_at is not None
        ]
        if reopen:
            return max(min(reopen), now)
        return now + self._delay(item.attempts)

    def _give_up(
        self, item: OutboxItem, status: Status, error: ErrorInfo | None, now: float
    ) -> None:
        result = SendResult(
            item.recipient,
            status,
            provider=item.provider,
            reference=item.reference,
            error=error,
            attempts=item.attempts,
        )
        self.store.finish(item.reference, owner=self.owner, result=result, now=now)
