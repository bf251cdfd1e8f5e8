"""The event hooks for observers: attempts, retries, failovers, breakers, reconciliation.

They are called by :class:`~smsbridge.observe.relay.EventRelay` (one per bridge) with a
frozen value of :mod:`smsbridge.observe.events`; like every event hook they only
observe, and what they return is ignored. A plugin may also define
``observes(hook_name) -> bool``: while it answers ``False`` for a hook, that hook's
event is not even built for it (the logging plugin answers from
``logger.isEnabledFor``), so an observer that is switched off costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from smsbridge.observe.events import (
        Attempt,
        BreakerChange,
        Failover,
        Reconciliation,
        Retry,
    )

__all__ = ["EventSpecs"]

_hookspec = pluggy.HookspecMarker("smsbridge")


class EventSpecs:
    """Hooks fired for what happens while messages are worked. Arguments by keyword."""

    @_hookspec
    def smsbridge_attempt(self, attempt: Attempt) -> None:
        """Observe one request to a provider once it has ended.

        Fired after ``smsbridge_after_send`` or ``smsbridge_send_failed``, in the same
        thread, for every request of every sending path (one per request, however many
        recipients it carried).

        Args:
            attempt: The provider, reference, recipient count, duration, outcome,
                statuses, parts, cost and the (redacted) error.
        """

    @_hookspec
    def smsbridge_retry(self, retry: Retry) -> None:
        """Observe an item being put back for another attempt later.

        Fired once per item and decision, after the decision is taken and before it is
        written to the outbox.

        Args:
            retry: The provider that failed, the reference, the attempts so far, the
                delay and the (redacted) error.
        """

    @_hookspec
    def smsbridge_failover(self, failover: Failover) -> None:
        """Observe an item's attempt going to another provider than its last one.

        Fired just before the request leaves, once per item that moved.

        Args:
            failover: The reference, the provider it left, the one it goes to, the
                attempts before this one and why the last one failed.
        """

    @_hookspec
    def smsbridge_breaker(self, change: BreakerChange) -> None:
        """Observe a provider's circuit breaker changing state in this process.

        Fired for closed → open, open → half-open (a probe is let through),
        half-open → open and any → closed; a failure that only counts is not a change.
        With a shared outbox each worker reports the changes it made itself.

        Args:
            change: The provider, the old and the new state, and the failure count.
        """

    @_hookspec
    def smsbridge_reconcile(self, reconciliation: Reconciliation) -> None:
        """Observe a step in settling an unknown outcome: the item left unknown, a
        lookup by reference and its answer, a replay with the same idempotency key, or
        the item parked for a later look.

        Args:
            reconciliation: The provider, the reference, the step, what follows it, and
                what a lookup found.
        """
