"""One recorded request: the attempt written, the request sent, the outcome written.

Not public: :class:`~smsbridge.dispatch.Dispatcher` mixes this in. It also keeps the
dispatcher's per-round view of the shared breakers, so that a healthy provider costs no
breaker reads or writes per request (see :meth:`Requests._open`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from smsbridge.errors import SmsBridgeError
from smsbridge.limits import LimitBoard
from smsbridge.model import Message
from smsbridge.outbox.base import NewItem, OutboxItem
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import OPEN, BreakerState
from smsbridge.router.decide import Action, Interrupted, decide
from smsbridge.status import Status

from .decisions import Decisions
from .items import item_message
from .outcomes import INTERRUPTED, NO_CARRIER, NO_PROVIDER

__all__ = ["Requests"]

_CLOSED = BreakerState()

BREAKER_REFRESH = 0.5
"""Seconds a breaker read closed and clean is trusted without reading it again.

Per-message sending would otherwise read every breaker once per message; a breaker
opened by another process is seen within this time (this dispatcher's own failures at
once)."""


class Requests(Decisions):
    """Sending one request for one or many items, and the generic reconciliation."""

    lease_seconds: float
    limits: LimitBoard
    _by_name: dict[str, Provider]
    _allows: dict[str, bool]
    _clean: set[str]
    _clean_since: dict[str, float]

    def _hold(self, references: Sequence[str], held: bool) -> None:
        """Note references being worked on (their leases are renewed meanwhile)."""

    def _choose(self, item: OutboxItem, message: Message) -> Provider | None:
        for provider in self._candidates(item, message):
            if self._allowed(provider.name):
                return provider
        return None

    def _no_provider(self, item: OutboxItem, message: Message, now: float) -> None:
        if not self._candidates(item, message):
            # Refused for good everywhere (or nobody can carry it).
            self._give_up(item, Status.REJECTED, item.last_error or NO_CARRIER, now)
            return
        self.store.retry_later(
            item.reference,
            owner=self.owner,
            error=NO_PROVIDER,
            next_attempt_at=self._breaker_wait(item, message, now),
            now=now,
        )

    # -- breakers, as this round sees them --------------------------------------------

    def _allowed(self, name: str) -> bool:
        """Whether the round may plan requests to ``name`` (one read per round)."""
        if name not in self._allows:
            seen = self._clean_since.get(name)
            if seen is not None and time.monotonic() - seen < BREAKER_REFRESH:
                self._clean.add(name)
                self._allows[name] = True
            elif self.breakers.storage.get_breaker(name) == _CLOSED:
                self._clean_since[name] = time.monotonic()
                self._clean.add(name)
                self._allows[name] = True
            else:
                self._clean_since.pop(name, None)
                self._allows[name] = self.breakers.allows(name)
        return self._allows[name]

    def _open(self, name: str) -> bool:
        """Whether the breaker opened since the round was planned (no probe taken).

        A provider seen closed and clean this round, with no failure recorded by this
        dispatcher since, is taken as still closed without a read: a breaker opened by
        another worker meanwhile is seen at the next round (at most ``claim_size`` items
        later). Any failure here drops the provider from the clean set, so the threads of
        this dispatcher see it at once.
        """
        if name in self._clean:
            return False
        if self.breakers.storage.get_breaker(name).state != OPEN:
            return False
        self._allows[name] = False
        return True

    def _succeeded(self, name: str) -> None:
        # The stored state is already closed and clean: nothing to reset.
        if name in self._clean:
            return
        self.breakers.success(name)
        self._clean.add(name)

    def _provider_failed(self, name: str) -> None:
        """Count a provider-scope failure on the shared breaker."""
        self._clean.discard(name)
        self._clean_since.pop(name, None)
        self.breakers.failure(name)

    # -- requests ---------------------------------------------------------------------

    def _request(
        self,
        provider: Provider,
        items: Sequence[OutboxItem],
        send: Callable[[], list[SendResult]],
        new: Sequence[NewItem] = (),
    ) -> None:
        """Record the attempt for ``items`` (writing ``new`` ones first, in the same
        commit), send, and record what came back.

        Raises:
            ItemExistsError: One of ``new`` was stored already; nothing was written.
        """
        references = [item.reference for item in items]
        hooks = self.router.hooks
        message = _group_message(items) if hooks.wants_messages else None
        with self.limits.request(provider.name):
            started_at = self.clock()
            self.store.begin_attempts(
                references,
                owner=self.owner,
                provider=provider.name,
                now=started_at,
                lease_seconds=self.lease_seconds,
                new=new,
            )
            self._hold(references, True)
            try:
                if message is not None:
                    hooks.events.attempting(provider, items)
                    hooks.before_send(provider, message)
                failure: SmsBridgeError | None = None
                results: list[SendResult] = []
                try:
                    results = send()
                except SmsBridgeError as exc:
                    failure = exc
            finally:
                self._hold(references, False)
        if failure is not None:
            if message is not None:
                hooks.send_failed(provider, message, failure)
            self._failed(items, provider, failure, started_at)
            return
        self._succeeded(provider.name)
        hooks.after_send(provider, results)
        self._record(items, provider, results, started_at)

    def _send_single(self, provider: Provider, item: OutboxItem, *, replay: bool = False) -> None:
        if not replay and self._open(provider.name):
            message = item_message(item)
            chosen = self._choose(item, message)
            if chosen is None:
                self._no_provider(item, message, self.clock())
                return
            provider = chosen
        self._request(provider, [item], lambda: provider.send(item_message(item)))

    def _attempt_started(self, item: OutboxItem) -> float:
        """When the item's last attempt left (read back only on this rare path)."""
        history = self.store.history(item.reference)
        if history is not None and history.attempts:
            return history.attempts[-1].started_at
        return item.updated_at

    def _reconcile(self, item: OutboxItem) -> None:
        """An earlier attempt may have reached ``item.provider``: settle it with that one."""
        provider = self._by_name.get(item.provider or "")
        error = item.last_error or INTERRUPTED
        if provider is None:
            self._park(item, error)
            return
        started_at = self._attempt_started(item)
        facts = self._facts_of(provider)
        if facts.lookup:
            self._look_up(item, provider, started_at, attempts=item.attempts)
            return
        situation = self._situation(item, provider, item.attempts, started_at)
        decision = decide(Interrupted(error), facts, situation, self._rules())
        if decision.action is Action.RECONCILE and decision.replay:
            # Same key, same provider: it de-duplicates the replay.
            if self.breakers.allows(provider.name):
                self._send_single(provider, item, replay=True)
            else:
                self._park(item, error, self._breaker_wait(item, item_message(item), situation.now))
            return
        self.router.hooks.events.decided(provider, item, decision, item.attempts, situation.now)
        self._write(item, provider, decision, situation.now)


def _group_message(items: Sequence[OutboxItem]) -> Message:
    """The message the hooks see for one request."""
    first = items[0]
    if len(items) == 1:
        return item_message(first)
    batches = {item.batch for item in items}
    return Message(
        to=tuple(item.recipient for item in items),
        body=first.body,
        sender=first.sender,
        reference=batches.pop() if len(batches) == 1 else None,
        options=first.options,
    )
