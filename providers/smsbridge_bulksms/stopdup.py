"""``stop_dup_id`` values: where they come from, and the range the gateway accepts.

Ids come from a counter, never from a hash of the content or the references: a 31-bit
hash collides within ~100,000 messages, and the gateway silently drops a submission whose
id it has seen in the last hours.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = [
    "STOP_DUP_MAX",
    "STOP_DUP_MIN",
    "InMemoryStopDupAllocator",
    "StopDupAllocator",
    "clock_start",
]

STOP_DUP_MIN = 1
STOP_DUP_MAX = 2_147_483_647
"""The documented range of ``stop_dup_id``."""


@runtime_checkable
class StopDupAllocator(Protocol):
    """Hands out ``stop_dup_id`` values; each one at most once within the gateway's window.

    Ids come from a counter, never from a hash of the content or the references: a 31-bit
    hash collides within ~100,000 messages, and the gateway silently drops a submission
    whose id it has seen in the last hours. A durable implementation (the outbox) keeps
    the counter across restarts.
    """

    def allocate(self) -> int:
        """The next id, within 1..2147483647."""
        ...


def clock_start(now: float | None = None) -> int:
    """A counter start derived from the wall clock in milliseconds.

    A process restarted later starts past every id an earlier one used unless that one
    allocated more than one id per millisecond on average, so an in-memory counter does
    not replay recent ids after a restart.
    """
    millis = int((time.time() if now is None else now) * 1000)
    return millis % STOP_DUP_MAX + 1


class InMemoryStopDupAllocator:
    """A thread-safe counter of ``stop_dup_id`` values, wrapping within the valid range.

    Args:
        start: The first id; by default derived from the clock (see :func:`clock_start`).

    Raises:
        ValueError: ``start`` outside 1..2147483647.
    """

    def __init__(self, start: int | None = None) -> None:
        first = clock_start() if start is None else start
        if isinstance(first, bool) or not STOP_DUP_MIN <= first <= STOP_DUP_MAX:
            raise ValueError(f"stop_dup_id start must be within 1..{STOP_DUP_MAX}")
        self._next = first
        self._lock = threading.Lock()

    def allocate(self) -> int:
        """The next id; after 2147483647 comes 1."""
        with self._lock:
            value = self._next
            self._next = STOP_DUP_MIN if value >= STOP_DUP_MAX else value + 1
            return value

    @property
    def next(self) -> int:
        """The id the next :meth:`allocate` returns."""
        with self._lock:
            return self._next

    def __repr__(self) -> str:
        return f"InMemoryStopDupAllocator(next={self.next})"
