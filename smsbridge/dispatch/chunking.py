"""Providers that build their requests as stored values ("chunks") before sending them.

Such a provider has ``plan_messages(messages)`` (yielding chunks and refused results),
``send_chunk(chunk)``, and an ``allocator`` attribute handing out the id each chunk
carries (BulkSMS ``stop_dup_id``). The dispatcher gives it a :class:`StoreAllocator`, so
those ids come from a durable counter in the outbox, never from a hash.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

from smsbridge.model import Message
from smsbridge.outbox.base import CounterStore
from smsbridge.provider import Provider
from smsbridge.results import SendResult

__all__ = ["Chunk", "ChunkMember", "ChunkingProvider", "StoreAllocator", "as_chunking"]

_COUNTER_HIGH = 2**31 - 1


class StoreAllocator:
    """Chunk ids (BulkSMS ``stop_dup_id``) from a durable counter in the outbox.

    Implements the provider's allocator protocol (``allocate() -> int``). The first
    value a process takes is at least a clock-derived start (milliseconds, wrapped into
    the range), so a fresh or restored outbox file does not hand out ids a gateway saw
    within its de-duplication window; after that the stored counter goes up by one.

    Args:
        store: The outbox holding the counter.
        name: The counter's name, e.g. ``"bulksms:stop_dup_id"``.
        high: The largest id (the counter wraps back to 1 after it).
        clock: Wall-clock seconds, for the start.
    """

    def __init__(
        self,
        store: CounterStore,
        name: str,
        *,
        high: int = _COUNTER_HIGH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.high = high
        self._clock = clock
        self._seeded = False
        self._lock = threading.Lock()
        self._local = threading.local()

    def allocate(self) -> int:
        """The next id: the replayed one inside :meth:`replaying`, else a new one.

        Raises:
            OutboxError: For database errors.
        """
        forced: int | None = getattr(self._local, "forced", None)
        if forced is not None:
            return forced
        with self._lock:
            low = 1
            if not self._seeded:
                low = int(self._clock() * 1000) % self.high + 1
                self._seeded = True
        value = self.store.allocate(self.name, low=low, high=self.high)
        taken: list[int] | None = getattr(self._local, "taken", None)
        if taken is not None:
            taken.append(value)
        return value

    @contextmanager
    def recording(self) -> Iterator[list[int]]:
        """Collect the ids this thread allocates inside the block, in order."""
        taken: list[int] = []
        self._local.taken = taken
        try:
            yield taken
        finally:
            self._local.taken = None

    @contextmanager
    def replaying(self, value: int) -> Iterator[None]:
        """Inside the block this thread's :meth:`allocate` returns ``value`` again, so
        a chunk rebuilt from its items carries the id it was first sent with."""
        self._local.forced = value
        try:
            yield
        finally:
            self._local.forced = None

    def __repr__(self) -> str:
        return f"StoreAllocator({self.name!r})"


class ChunkMember(Protocol):
    """One recipient of a chunk."""

    @property
    def reference(self) -> str | None: ...

    @property
    def number(self) -> str: ...


class Chunk(Protocol):
    """A provider request built ahead of sending (see the module docstring)."""

    @property
    def body(self) -> bytes: ...

    @property
    def recipients(self) -> Sequence[ChunkMember]: ...


class ChunkingProvider(Protocol):
    """The chunk operations a provider may offer (duck-typed; BulkSMS has them)."""

    name: str
    allocator: Any

    def plan_messages(self, messages: Iterable[Message]) -> Iterator[Chunk | SendResult]: ...

    def send_chunk(self, chunk: Any) -> list[SendResult]: ...


def as_chunking(provider: Provider) -> ChunkingProvider | None:
    """The provider as a :class:`ChunkingProvider`, or ``None`` when it is not one.

    Args:
        provider: Any provider.

    Returns:
        The same object, typed, when it builds and sends stored chunks.
    """
    if (
        callable(getattr(provider, "plan_messages", None))
        and callable(getattr(provider, "send_chunk", None))
        and hasattr(provider, "allocator")
    ):
        return cast("ChunkingProvider", provider)
    return None
