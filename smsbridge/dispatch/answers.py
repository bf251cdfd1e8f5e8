"""What a caller waiting on the outbox gets back, for the synchronous and async bridges.

Both bridges answer a ``send`` from the same reading of its items, so they cannot
drift: :class:`OutboxAnswers` says whether an item still waits, whether a message or a
batch window is settled, when its next attempt is due and which result an item stands
for; :func:`merge_results` puts refused recipients back in their places and
:func:`raise_request_error` turns a refusal of the input itself into the exception
``send`` raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from smsbridge.errors import MessageNotFoundError, ProviderError, Scope
from smsbridge.outbox.base import ItemOutcome, ItemState, ItemStore, NewItem, OutboxItem
from smsbridge.results import SendResult
from smsbridge.status import Status

from .dispatcher import Dispatcher

__all__ = [
    "UNSETTLED",
    "DuplicateCounter",
    "OutboxAnswers",
    "merge_results",
    "raise_request_error",
]

UNSETTLED = (ItemState.PENDING, ItemState.RETRY_WAIT, ItemState.INFLIGHT)
"""Item states a waiting caller keeps waiting for."""


class OutboxAnswers:
    """Reads a caller's items in the outbox as a waiting ``send`` sees them.

    Args:
        store: The outbox.
        dispatcher: The dispatcher working it (its ``unknown_recheck`` says how soon an
            unknown outcome is looked at again).
    """

    def __init__(self, store: ItemStore, dispatcher: Dispatcher) -> None:
        self.store = store
        self.dispatcher = dispatcher

    def write(self, items: Sequence[NewItem]) -> dict[str, ItemOutcome]:
        """Write a message's items (a lone due one goes out with its first request, see
        :meth:`Dispatcher.add_and_send`) and say where each stands: the outcome the
        request's commit handed back when it settled them all, else a read.
        """
        handed: dict[str, ItemOutcome] = {}
        self.dispatcher.add_and_send(items, handed)
        if len(handed) == len(items):
            return handed
        return self.store.outcomes([item.reference for item in items])

    def waiting(self, item: OutboxItem | ItemOutcome) -> bool:
        """Whether the caller should keep waiting for ``item``."""
        if item.state in UNSETTLED:
            return True
        # An unknown outcome due for a replay soon (not parked for a later look).
        return (
            item.state is ItemState.UNKNOWN
            and item.next_attempt_at - item.updated_at < self.dispatcher.unknown_recheck
        )

    def settled(self, references: Sequence[str], batch: str | None) -> bool:
        """Whether none of these items (or of the batch, counted in the store) waits."""
        if batch is not None:
            counts = self.store.counts(batch)
            if any(counts.get(state, 0) for state in UNSETTLED):
                return False
            if not counts.get(ItemState.UNKNOWN, 0):
                return True
            items: Iterable[OutboxItem | ItemOutcome] = self.store.iter_items(
                batch, ItemState.UNKNOWN
            )
        else:
            items = self.store.outcomes(references).values()
        return not any(self.waiting(item) for item in items)

    def next_due(self, references: Sequence[str], batch: str | None) -> float | None:
        """The earliest next attempt of the items still waiting, or ``None``."""
        if batch is not None:
            items: Iterable[OutboxItem | ItemOutcome] = (
                i for state in (*UNSETTLED, ItemState.UNKNOWN)
                for i in self.store.iter_items(batch, state)
            )  # fmt: skip
        else:
            items = self.store.outcomes(references).values()
        times = [i.next_attempt_at for i in items if self.waiting(i)]
        return min(times) if times else None

    def result(self, reference: str, item: OutboxItem | ItemOutcome | None) -> SendResult:
        """The result ``item`` stands for now: ``QUEUED`` while it waits.

        Raises:
            MessageNotFoundError: When the item is gone (someone deleted it).
        """
        if item is None:  # only if someone deleted it under us
            raise MessageNotFoundError(f"outbox item {reference!r} disappeared")
        waiting = self.waiting(item)
        if waiting:
            status = Status.QUEUED
        elif item.state is ItemState.UNKNOWN or item.status is None:
            status = Status.UNKNOWN
        else:
            status = item.status
        return SendResult(
            item.recipient,
            status,
            provider=item.provider,
            message_id=item.message_id,
            reference=item.reference,
            parts=item.parts,
            cost=item.cost,
            # A waiting item carries its last error (why it waits); one a provider took
            # carries none, even when an earlier provider failed it (failover).
            error=item.last_error if waiting or not status.is_success else None,
            attempts=item.attempts,
        )


class DuplicateCounter:
    """Recipients of a batch already in the outbox, counted across its windows."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


def raise_request_error(results: Sequence[SendResult]) -> None:
    """Raise when the input itself was refused for every recipient (request scope).

    Raises:
        ProviderError: With the first result's error.
    """
    if any(r.status is Status.QUEUED for r in results):
        return  # still being worked on: not a verdict on the input
    errors = [r.error for r in results]
    if not errors or any(e is None or e.scope is not Scope.REQUEST for e in errors):
        return
    error = errors[0]
    assert error is not None
    raise ProviderError(
        error.text,
        scope=error.scope,
        kind=error.kind,
        code=error.code,
        provider=results[0].provider,
    )


def merge_results(
    count: int, refused: dict[int, SendResult], results: list[SendResult]
) -> list[SendResult]:
    """A message's ``count`` results in recipient order: the refused ones (by index)
    where they were, the sent ones in the gaps."""
    sent = iter(results)
    merged: list[SendResult] = []
    for index in range(count):
        if index in refused:
            merged.append(refused[index])
        else:
            nxt = next(sent, None)
            if nxt is not None:
                merged.append(nxt)
    merged.extend(sent)
    return merged
