"""One recorded request: the attempt written, the request sent, the outcome written.

Not public: :class:`~smsbridge.dispatch.Dispatcher` mixes this in. It also keeps the
dispatcher's per-round view of the shared breakers, so that a healthy provider costs no
breaker reads or writes per request (see :meth:`Requests._open`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from smsbridge.errors import SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox.base import OutboxItem, OutboxStore
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import OPEN, BreakerBoard, BreakerState
from smsbridge.router.limits import LimitBoard
from smsbridge.router.router import Delivery, Router

from .support import INTERRUPTED, item_message

__all__ = ["Requests"]

AttemptHook = Callable[[Provider, Message], None]
FailureHook = Callable[[Provider, Message, SmsBridgeError], None]
ResultsHook = Callable[[Provider, list[SendResult]], None]

_CLOSED = BreakerState()


class Requests:
    """Sending one request for one or many items, and the generic reconciliation."""

    router: Router
    store: OutboxStore
    owner: str
    lease_seconds: float
    clock: Callable[[], float]
    breakers: BreakerBoard
    limits: LimitBoard
    on_attempt: AttemptHook | None
    on_failure: FailureHook | None
    on_results: ResultsHook | None
    _by_name: dict[str, Provider]
    _allows: dict[str, bool]
    _clean: set[str]
    _failed: Callable[[Sequence[OutboxItem], Provider, SmsBridgeError], None]
    _record: Callable[[Sequence[OutboxItem], Provider, Sequence[SendResult]], None]
    _choose: Callable[[OutboxItem, Message], Provider | None]
    _no_provider: Callable[[OutboxItem, Message, float], None]
    _query: Callable[[OutboxItem, Provider, int], bool]
    _park: Callable[..., None]
    _breaker_wait: Callable[[OutboxItem, Message, float], float]

    # -- breakers, as this round sees them --------------------------------------------

    def _allowed(self, name: str) -> bool:
        """Whether the round may plan requests to ``name`` (one read per round)."""
        if name not in self._allows:
            if self.breakers.storage.get_breaker(name) == _CLOSED:
                self._clean.add(name)
                self._allows[name] = True
            else:
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
        self.breakers.failure(name)

    # -- requests ---------------------------------------------------------------------

    def _request(
        self,
        provider: Provider,
        items: Sequence[OutboxItem],
        send: Callable[[], list[SendResult]],
    ) -> None:
        """Record the attempt for ``items``, send, and record what came back."""
        references = [item.reference for item in items]
        message = _group_message(items)
        with self.limits.request(provider.name):
            self.store.begin_attempts(
                references,
                owner=self.owner,
                provider=provider.name,
                now=self.clock(),
                lease_seconds=self.lease_seconds,
            )
            if self.on_attempt is not None:
                self.on_attempt(provider, message)
            failure: SmsBridgeError | None = None
            results: list[SendResult] = []
            try:
                results = send()
            except SmsBridgeError as exc:
                failure = exc
        if failure is not None:
            if self.on_failure is not None:
                self.on_failure(provider, message, failure)
            self._failed(items, provider, failure)
            return
        self._succeeded(provider.name)
        if self.on_results is not None:
            self.on_results(provider, results)
        self._record(items, provider, results)

    def _send_single(self, provider: Provider, item: OutboxItem, *, replay: bool = False) -> None:
        if not replay and self._open(provider.name):
            message = item_message(item)
            chosen = self._choose(item, message)
            if chosen is None:
                self._no_provider(item, message, self.clock())
                return
            provider = chosen
        self._request(provider, [item], lambda: provider.send(item_message(item)))

    def _reconcile(self, item: OutboxItem) -> None:
        """An earlier attempt may have reached ``item.provider``: settle it with that one."""
        provider = self._by_name.get(item.provider or "")
        error = item.last_error or INTERRUPTED
        if provider is None:
            self._park(item, error)
            return
        if self._query(item, provider, item.attempts):
            return
        exhausted = self.router.retry.exhausted(item.attempts)
        message = item_message(item)
        if provider.capabilities.idempotency_key and not exhausted:
            # Same key, same provider: it de-duplicates the replay.
            if self.breakers.allows(provider.name):
                self._send_single(provider, item, replay=True)
            else:
                self._park(item, error, self._breaker_wait(item, message, self.clock()))
            return
        if self.router.delivery is Delivery.AT_LEAST_ONCE and not exhausted:
            chosen = self._choose(item, message)
            if chosen is None:
                self._no_provider(item, message, self.clock())
            else:
                self._send_single(chosen, item)
            return
        self._park(item, error)


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
