"""What the senders call when something worth observing happens, and the silent default.

The dispatcher and the router hold an :class:`EventSink` (``Router.hooks.events``) and
report plain facts to it: the items of a request about to leave, a decision, a lookup, a
breaker change. The bridge wires an :class:`~smsbridge.observe.relay.EventRelay`; a
router built without one gets :data:`NO_EVENTS`, which does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from smsbridge.errors import ErrorInfo
    from smsbridge.outbox.base import OutboxItem
    from smsbridge.provider import Provider
    from smsbridge.router.breaker import BreakerState
    from smsbridge.router.decide import Decision, Outcome

__all__ = ["NO_EVENTS", "EventSink"]


class EventSink(Protocol):
    """Receives the facts the event hooks are built from."""

    def attempting(self, provider: Provider, items: Sequence[OutboxItem]) -> None:
        """A request for ``items`` is about to leave for ``provider``."""

    def decided(
        self, provider: Provider, item: OutboxItem, decision: Decision, attempts: int, now: float
    ) -> None:
        """An unsettled decision (retry, reconcile, park) about to be written."""

    def looked_up(
        self, provider: Provider, item: OutboxItem, outcome: Outcome, decision: Decision, now: float
    ) -> None:
        """A lookup by reference was answered (or failed) and decided on."""

    def parked(self, item: OutboxItem, error: ErrorInfo, when: float, now: float) -> None:
        """An unknown item is left for a later look, without a decision."""

    def breaker_changed(self, provider: str, old: BreakerState, new: BreakerState) -> None:
        """A breaker changed state."""


class _Silent:
    """Nobody listens."""

    def attempting(self, provider: Provider, items: Sequence[OutboxItem]) -> None:
        return None

    def decided(
        self, provider: Provider, item: OutboxItem, decision: Decision, attempts: int, now: float
    ) -> None:
        return None

    def looked_up(
        self, provider: Provider, item: OutboxItem, outcome: Outcome, decision: Decision, now: float
    ) -> None:
        return None

    def parked(self, item: OutboxItem, error: ErrorInfo, when: float, now: float) -> None:
        return None

    def breaker_changed(self, provider: str, old: BreakerState, new: BreakerState) -> None:
        return None


NO_EVENTS: EventSink = _Silent()
"""The sink of a router built without one."""
