"""The durable dispatcher: the outbox and the router's decisions, one attempt at a time.

:class:`Dispatcher` writes every recipient of a prepared message to the outbox before
anything is sent, then works through due items: one provider attempt per item, recorded
before the request leaves, with the outcome (or the time of the next attempt) written
back. Retry times are stored, never slept on, so a restarted process carries on where the
last one stopped. Decisions follow the router's table (see :mod:`smsbridge.router.router`
and ``docs/failover.md``); breakers live in the outbox so several workers share them.
"""

from __future__ import annotations

import hashlib
import random
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from smsbridge.errors import (
    ErrorInfo,
    InvalidMessageError,
    Kind,
    MessageNotFoundError,
    Scope,
    SmsBridgeError,
)
from smsbridge.model import Message
from smsbridge.outbox.base import (
    BreakerState as StoredBreakerState,
)
from smsbridge.outbox.base import (
    History,
    ItemState,
    LeaseError,
    NewItem,
    OutboxItem,
    OutboxStateError,
    OutboxStore,
)
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import OPEN, BreakerBoard, BreakerState
from smsbridge.router.router import Delivery, Router
from smsbridge.status import Status

__all__ = ["Dispatcher", "OutboxBreakerStorage", "item_references"]

_MAX_REFERENCE = 64


def item_references(message: Message) -> list[str]:
    """The outbox references of a message's recipients, in ``message.to`` order.

    One recipient keeps the message reference; several get ``"<reference>-<i>"``
    (0-based), shortened through a hash when that would exceed 64 characters.

    Raises:
        InvalidMessageError: When the message has no reference (it is not prepared).
    """
    reference = message.reference
    if reference is None:
        raise InvalidMessageError(
            "a dispatched message needs a client reference", field="reference", value=None
        )
    if len(message.to) == 1:
        return [reference]
    suffix_room = len(str(len(message.to) - 1)) + 1
    stem = reference
    if len(stem) + suffix_room > _MAX_REFERENCE:
        stem = hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]
    return [f"{stem}-{index}" for index in range(len(message.to))]


class OutboxBreakerStorage:
    """Breaker states kept in an outbox store, so every worker on it shares them."""

    def __init__(self, store: OutboxStore) -> None:
        self.store = store

    def get_breaker(self, provider: str) -> BreakerState:
        stored = self.store.get_breaker(provider)
        return BreakerState(stored.state, stored.failures, stored.opened_at)

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        self.store.put_breaker(
            provider, StoredBreakerState(state.state, state.failures, state.opened_at)
        )


def _default_not_found(exc: SmsBridgeError) -> bool:
    return isinstance(exc, MessageNotFoundError)


_NO_PROVIDER = ErrorInfo(
    "no-provider",
    "no provider may take the message now (breakers open)",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)


class Dispatcher:
    """Sends outbox items through a router's providers, one recorded attempt at a time.

    Args:
        router: Providers, policy, retry policy, breaker settings and delivery mode.
        store: The outbox.
        owner: This worker's lease name. The default is stable per host, so a process
            restarted after a crash reclaims its own leases in :meth:`resume`; give
            workers running at the same time distinct names.
        lease_seconds: Lease length; longer than any request takes.
        clock: Wall-clock seconds (shared with other processes through the store).
        sleep: How :meth:`drain` waits for the next due item.
        rand: Randomness for backoff jitter.
        unknown_recheck: Seconds before an unresolved unknown outcome is looked at again.
        not_found: Whether an error from a query by reference means "the provider never
            took this message" (resending is then safe). Default: a
            :class:`~smsbridge.errors.MessageNotFoundError`.
    """

    def __init__(
        self,
        router: Router,
        store: OutboxStore,
        *,
        owner: str | None = None,
        lease_seconds: float = 60,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        unknown_recheck: float = 300.0,
        not_found: Callable[[SmsBridgeError], bool] = _default_not_found,
    ) -> None:
        self.router = router
        self.store = store
        self.owner = owner or f"dispatcher@{socket.gethostname()}"
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.unknown_recheck = unknown_recheck
        self.not_found = not_found
        self.breakers = BreakerBoard(
            threshold=router.breakers.threshold,
            reset_timeout=router.breakers.reset_timeout,
            storage=OutboxBreakerStorage(store),
            clock=clock,
        )
        self._by_name = {p.name: p for p in router.providers}

    # -- public API -------------------------------------------------------------------

    def submit(self, message: Message) -> list[str]:
        """Write one outbox item per recipient of a prepared message (E.164 numbers,
        reference set), before any attempt. Submitting the same references again adds
        nothing.

        Returns:
            The items' references, in ``message.to`` order.
        """
        references = item_references(message)
        several = len(references) > 1
        items = [
            NewItem(
                reference=reference,
                recipient=number,
                body=message.body,
                sender=message.sender,
                options=message.options,
                batch=message.reference if several else None,
            )
            for reference, number in zip(references, message.to, strict=True)
        ]
        self.store.add(items, now=self.clock())
        return references

    def run_once(self, limit: int = 100) -> int:
        """Claim due items and make one step on each; returns how many were claimed."""
        items = self.store.claim(
            self.owner, limit=limit, now=self.clock(), lease_seconds=self.lease_seconds
        )
        for item in items:
            try:
                self._step(item)
            except (LeaseError, OutboxStateError):
                # Another worker took the item over, or a report settled it meanwhile.
                continue
        return len(items)

    def drain(self, timeout: float) -> None:
        """Run until no item is pending, waiting for a retry or in flight, or until
        ``timeout`` seconds have passed. Unknown outcomes awaiting reconciliation do not
        keep it running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run_once():
                continue
            due = self._next_due()
            if due is None:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self.sleep(min(max(due - self.clock(), 0.005), remaining, 1.0))

    def status(self, reference: str) -> History | None:
        """The item with its attempts and reports, or ``None``."""
        return self.store.history(reference)

    def resume(self, timeout: float = 60.0) -> None:
        """Take back this worker's leases (e.g. after a crash) and finish what is due.

        Items that were in flight are reconciled with the provider they went to before
        anything is sent again.
        """
        self.store.release(self.owner, now=self.clock())
        self.drain(timeout)

    def close(self) -> None:
        """Drop this worker's leases so another worker can take its items at once."""
        self.store.release(self.owner, now=self.clock())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- one step on one item ---------------------------------------------------------

    def _next_due(self) -> float | None:
        due: float | None = None
        for state in (ItemState.PENDING, ItemState.RETRY_WAIT, ItemState.INFLIGHT):
            for item in self.store.iter_items(state=state):
                when = item.next_attempt_at
                if state is ItemState.INFLIGHT:
                    when = item.lease_until if item.lease_until is not None else self.clock()
                due = when if due is None else min(due, when)
        return due

    @staticmethod
    def _message(item: OutboxItem) -> Message:
        return Message(
            to=(item.recipient,),
            body=item.body,
            sender=item.sender,
            reference=item.reference,
            options=item.options,
        )

    def _step(self, item: OutboxItem) -> None:
        message = self._message(item)
        if item.needs_reconciliation:
            self._reconcile(item, message)
        else:
            self._attempt(item, message, self._choose(item, message))

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

    def _choose(self, item: OutboxItem, message: Message) -> Provider | None:
        for provider in self._candidates(item, message):
            if self.breakers.allows(provider.name):
                return provider
        return None

    def _attempt(self, item: OutboxItem, message: Message, provider: Provider | None) -> None:
        now = self.clock()
        ref = item.reference
        if self.router.retry.exhausted(item.attempts):
            self._give_up(item, Status.FAILED_TEMPORARY, item.last_error, now)
            return
        if provider is None:
            if not self._candidates(item, message):
                # Refused for good everywhere (or nobody can carry it).
                self._give_up(item, Status.REJECTED, item.last_error, now)
                return
            self.store.retry_later(
                ref,
                owner=self.owner,
                error=_NO_PROVIDER,
                next_attempt_at=self._breaker_wait(item, message, now),
                now=now,
            )
            return
        self.store.begin_attempt(
            ref, owner=self.owner, provider=provider.name, now=now, lease_seconds=self.lease_seconds
        )
        attempts = item.attempts + 1
        try:
            results = provider.send(message)
        except SmsBridgeError as exc:
            self._failed(item, provider, exc, attempts)
            return
        self.breakers.success(provider.name)
        result = next((r for r in results if r.recipient == item.recipient), None)
        now = self.clock()
        if result is None:
            missing = ErrorInfo(
                "no-result",
                "the provider returned no result for the recipient",
                scope=Scope.PROVIDER,
                kind=Kind.TRANSIENT,
            )
            self._unknown(item, provider, missing, attempts)
            return
        error = result.error
        if result.status is Status.UNKNOWN:
            self._unknown(item, provider, error or _unknown_error(provider), attempts)
            return
        if (
            not result.ok
            and error is not None
            and error.kind is Kind.TRANSIENT
            and not self.router.retry.exhausted(attempts)
        ):
            self.store.retry_later(
                ref,
                owner=self.owner,
                error=error,
                outcome=result.status,
                next_attempt_at=now + self._delay(attempts),
                now=now,
            )
            return
        self.store.finish(ref, owner=self.owner, result=_with(result, attempts), now=now)

    def _failed(
        self, item: OutboxItem, provider: Provider, exc: SmsBridgeError, attempts: int
    ) -> None:
        """Decide after a request-level failure of one attempt."""
        now = self.clock()
        ref = item.reference
        info = exc.info()
        exhausted = self.router.retry.exhausted(attempts)
        if exc.outcome_unknown:
            self._unknown(item, provider, info, attempts)
            return
        if exc.scope is Scope.REQUEST:
            self._finish_failed(item, provider, Status.REJECTED, info, attempts, now)
            return
        if exc.scope is Scope.RECIPIENT:
            if exc.kind is Kind.TRANSIENT and not exhausted:
                self.store.retry_later(
                    ref,
                    owner=self.owner,
                    error=info,
                    next_attempt_at=now + self._delay(attempts, exc.retry_after),
                    now=now,
                )
                return
            status = Status.INVALID_NUMBER if exc.code == "invalid-number" else Status.REJECTED
            self._finish_failed(item, provider, status, info, attempts, now)
            return
        # Provider scope: the breaker counts it; the next attempt prefers another one.
        self.breakers.failure(provider.name)
        if exhausted:
            self._finish_failed(item, provider, Status.FAILED_TEMPORARY, info, attempts, now)
            return
        if exc.kind is Kind.PERMANENT:
            self.store.retry_later(
                ref,
                owner=self.owner,
                error=info,
                next_attempt_at=now,
                exclude_provider=provider.name,
                now=now,
            )
            return
        message = self._message(item)
        others = any(p.name != provider.name for p in self._candidates(item, message))
        retry_after = exc.retry_after
        if others and (retry_after is None or retry_after > self.router.retry.max_retry_after):
            when = now  # fail over at once
        else:
            when = now + self._delay(attempts, retry_after)
        self.store.retry_later(ref, owner=self.owner, error=info, next_attempt_at=when, now=now)

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
        self.store.mark_unknown(
            item.reference,
            owner=self.owner,
            error=error,
            now=now,
            next_attempt_at=now + self.unknown_recheck,
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

    def _reconcile(self, item: OutboxItem, message: Message) -> None:
        """An earlier attempt may have reached ``item.provider``: settle it with that one."""
        provider = self._by_name.get(item.provider or "")
        error = item.last_error or ErrorInfo(
            "interrupted",
            "the attempt was interrupted before its outcome was recorded",
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
        )
        now = self.clock()
        if provider is None:
            self.store.mark_unknown(
                item.reference,
                owner=self.owner,
                error=error,
                now=now,
                next_attempt_at=now + self.unknown_recheck,
            )
            return
        if self._query(item, provider, item.attempts):
            return
        exhausted = self.router.retry.exhausted(item.attempts)
        if provider.capabilities.idempotency_key and not exhausted:
            # Same key, same provider: it de-duplicates the replay.
            if self.breakers.allows(provider.name):
                self._attempt(item, message, provider)
            else:
                self.store.mark_unknown(
                    item.reference,
                    owner=self.owner,
                    error=error,
                    now=now,
                    next_attempt_at=self._breaker_wait(item, message, now),
                )
            return
        if self.router.delivery is Delivery.AT_LEAST_ONCE and not exhausted:
            self._attempt(item, message, self._choose(item, message))
            return
        self.store.mark_unknown(
            item.reference,
            owner=self.owner,
            error=error,
            now=now,
            next_attempt_at=now + self.unknown_recheck,
        )

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

    def _finish_failed(
        self,
        item: OutboxItem,
        provider: Provider,
        status: Status,
        error: ErrorInfo,
        attempts: int,
        now: float,
    ) -> None:
        result = SendResult(
            item.recipient,
            status,
            provider=provider.name,
            reference=item.reference,
            error=error,
            attempts=attempts,
        )
        self.store.finish(item.reference, owner=self.owner, result=result, now=now)

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


def _with(result: SendResult, attempts: int) -> SendResult:
    return SendResult(
        result.recipient,
        result.status,
        provider=result.provider,
        message_id=result.message_id,
        reference=result.reference,
        parts=result.parts,
        cost=result.cost,
        error=result.error,
        attempts=attempts,
    )


def _unknown_error(provider: Provider) -> ErrorInfo:
    return ErrorInfo(
        "unknown-outcome",
        f"{provider.name} gave no usable answer",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
    )
