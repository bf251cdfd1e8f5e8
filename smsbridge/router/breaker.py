"""A circuit breaker per provider.

After ``threshold`` consecutive provider-scope failures the breaker opens and the router
stops sending to that provider; after ``reset_timeout`` one probe is let through
(half-open): its success closes the breaker, its failure opens it again. The state lives
behind a small interface so the durable outbox can share it between workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import attrs

__all__ = ["BreakerBoard", "BreakerState", "BreakerStorage", "MemoryBreakerStorage"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@attrs.frozen(slots=True)
class BreakerState:
    """One provider's breaker: ``state``, consecutive ``failures``, when it opened."""

    state: str = CLOSED
    failures: int = 0
    opened_at: float | None = None


class BreakerStorage(Protocol):
    """Where breaker states live (memory, or the outbox for several workers)."""

    def get_breaker(self, provider: str) -> BreakerState: ...

    def put_breaker(self, provider: str, state: BreakerState) -> None: ...


class MemoryBreakerStorage:
    """Breaker states in this process only."""

    def __init__(self) -> None:
        self._states: dict[str, BreakerState] = {}

    def get_breaker(self, provider: str) -> BreakerState:
        return self._states.get(provider, BreakerState())

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        self._states[provider] = state


class BreakerBoard:
    """The breakers of every provider.

    Args:
        threshold: Consecutive provider-scope failures that open a breaker.
        reset_timeout: Seconds an open breaker waits before a half-open probe.
        storage: Where states are kept.
        clock: Monotonic-enough seconds (wall clock when shared between processes).
        on_change: Called with the provider, the old and the new state after a change
            of ``state`` (outside the lock).
    """

    def __init__(
        self,
        *,
        threshold: int = 5,
        reset_timeout: float = 30.0,
        storage: BreakerStorage | None = None,
        clock: Callable[[], float],
        on_change: Callable[[str, BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self.storage: BreakerStorage = storage or MemoryBreakerStorage()
        self.clock = clock
        self.on_change = on_change
        self._lock = threading.Lock()

    def allows(self, provider: str) -> bool:
        """Whether a request may go to ``provider`` now (moves open → half-open)."""
        with self._lock:
            state = self.storage.get_breaker(provider)
            if state.state == CLOSED:
                return True
            # Half-open: one probe is already out; others wait for its verdict.
            if state.state != OPEN:
                return False
            assert state.opened_at is not None
            if self.clock() - state.opened_at < self.reset_timeout:
                return False
            new = BreakerState(HALF_OPEN, state.failures, state.opened_at)
            self.storage.put_breaker(provider, new)
        if self.on_change is not None:
            self.on_change(provider, state, new)
        return True

    def success(self, provider: str) -> None:
        """A request reached the provider and it answered sensibly."""
        with self._lock:
            old = self.storage.get_breaker(provider)
            if old != BreakerState():
                self.storage.put_breaker(provider, BreakerState())
        if old.state != CLOSED and self.on_change is not None:
            self.on_change(provider, old, BreakerState())

    def failure(self, provider: str) -> None:
        """A provider-scope failure (outage, 5xx, account problem)."""
        with self._lock:
            state = self.storage.get_breaker(provider)
            failures = state.failures + 1
            if state.state == HALF_OPEN or failures >= self.threshold:
                new = BreakerState(OPEN, failures, self.clock())
            else:
                new = BreakerState(CLOSED, failures, None)
            self.storage.put_breaker(provider, new)
        if new.state != state.state and self.on_change is not None:
            self.on_change(provider, state, new)

    def state(self, provider: str) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"``."""
        return self.storage.get_breaker(provider).state
