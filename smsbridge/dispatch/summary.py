"""What an outbox holds after a run: settled items by status, unsettled ones with why.

:meth:`~smsbridge.dispatch.Dispatcher.resume` (and ``smsbridge resume``) return it, so a
script that resumes and exits knows whether anything is left, instead of finding out
from a recipient who never got the message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import attrs

from smsbridge.outbox.base import ItemState, ItemStore
from smsbridge.status import Status

__all__ = ["Summary", "summarize"]


@attrs.frozen(kw_only=True)
class Summary:
    """The outbox's state, in the words an operator needs.

    Args:
        settled: Finished items per final status (``DELIVERED``, ``REJECTED``...) or
            the latest status of an accepted item still waiting for its report.
        pending: Written, never attempted, and not yet due or not yet reached.
        waiting: Waiting for a retry (transient failure): how many.
        next_retry_at: When the earliest of them is due (store clock), or ``None``.
        no_provider: Waiting because no provider may take them now (breakers open).
        in_flight: Held by a live worker with a request out.
        reconciling: Outcome unknown, a lookup or replay with the same provider due soon.
        parked: Outcome unknown and nothing safe to do yet (a provider without lookup,
            at-most-once): never resent on a guess; see ``smsbridge status``.
    """

    settled: Mapping[Status, int]
    pending: int = 0
    waiting: int = 0
    next_retry_at: float | None = None
    no_provider: int = 0
    in_flight: int = 0
    reconciling: int = 0
    parked: int = 0

    @property
    def unsettled(self) -> int:
        """Items the outbox still has to do something about."""
        return (
            self.pending
            + self.waiting
            + self.no_provider
            + self.in_flight
            + self.reconciling
            + self.parked
        )

    @property
    def complete(self) -> bool:
        """True when every item is settled."""
        return self.unsettled == 0

    def lines(self, *, now: float | None = None) -> list[str]:
        """The summary as short lines for a terminal."""
        total = sum(self.settled.values())
        shown = ", ".join(
            f"{count:,} {status.value}" for status, count in sorted(
                self.settled.items(), key=lambda pair: (-pair[1], pair[0].value)
            )
        )  # fmt: skip
        out = [f"settled: {total:,}" + (f" ({shown})" if shown else "")]
        if self.complete:
            out.append("unsettled: 0")
            return out
        out.append(f"unsettled: {self.unsettled:,}")
        if self.pending:
            out.append(f"  {self.pending:,} pending (never attempted)")
        if self.waiting:
            when = ""
            if self.next_retry_at is not None and now is not None:
                when = f", next in {max(self.next_retry_at - now, 0):.0f} s"
            out.append(f"  {self.waiting:,} waiting for a retry{when}")
        if self.no_provider:
            out.append(f"  {self.no_provider:,} waiting for a provider (breakers open)")
        if self.in_flight:
            out.append(f"  {self.in_flight:,} in flight in another process")
        if self.reconciling:
            out.append(f"  {self.reconciling:,} unknown outcome, being reconciled")
        if self.parked:
            out.append(
                f"  {self.parked:,} unknown outcome, parked: the provider may hold them "
                "(not resent; see `smsbridge status REFERENCE`)"
            )
        return out


def summarize(store: ItemStore, *, now: float, recheck: float) -> Summary:
    """Count the outbox's items as a :class:`Summary`.

    Args:
        store: The outbox.
        now: The current time on the store's clock.
        recheck: The dispatcher's ``unknown_recheck``: an unknown item due again later
            than this after its last change is parked, sooner is being reconciled.

    Returns:
        The summary.
    """
    counts = store.counts()
    settled: Counter[Status] = Counter()
    if counts.get(ItemState.DONE, 0):
        settled.update(
            item.status or Status.UNKNOWN for item in store.iter_items(state=ItemState.DONE)
        )
    waiting = no_provider = 0
    next_retry: float | None = None
    if counts.get(ItemState.RETRY_WAIT, 0):
        for item in store.iter_items(state=ItemState.RETRY_WAIT):
            if item.last_error is not None and item.last_error.code == "no-provider":
                no_provider += 1
            else:
                waiting += 1
            due = item.next_attempt_at
            next_retry = due if next_retry is None else min(next_retry, due)
    reconciling = parked = 0
    if counts.get(ItemState.UNKNOWN, 0):
        for item in store.iter_items(state=ItemState.UNKNOWN):
            if item.next_attempt_at - item.updated_at >= recheck:
                parked += 1
            else:
                reconciling += 1
    return Summary(
        settled=dict(settled),
        pending=counts.get(ItemState.PENDING, 0),
        waiting=waiting,
        next_retry_at=next_retry,
        no_provider=no_provider,
        in_flight=counts.get(ItemState.INFLIGHT, 0),
        reconciling=reconciling,
        parked=parked,
    )
