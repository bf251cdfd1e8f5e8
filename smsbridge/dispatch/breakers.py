"""Circuit-breaker states kept in the outbox, so every worker on it shares them."""

from __future__ import annotations

from smsbridge.outbox.base import BreakerState as StoredBreakerState
from smsbridge.outbox.base import BreakerStore
from smsbridge.router.breaker import BreakerState

__all__ = ["OutboxBreakerStorage"]


class OutboxBreakerStorage:
    """Breaker states kept in an outbox store, so every worker on it shares them.

    Args:
        store: The outbox.
    """

    def __init__(self, store: BreakerStore) -> None:
        self.store = store

    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's stored state."""
        stored = self.store.get_breaker(provider)
        return BreakerState(stored.state, stored.failures, stored.opened_at)

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        """Store the provider's state for every worker."""
        self.store.put_breaker(
            provider, StoredBreakerState(state.state, state.failures, state.opened_at)
        )
