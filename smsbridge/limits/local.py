"""Limits within one process: rate limits and concurrency caps per provider.

A :class:`TokenBucket` spaces requests (``rate`` per second, up to ``burst`` at once); a
:class:`ConcurrencyCap` bounds simultaneous requests (BulkSMS allows one connection).
:class:`ProviderLimits` holds both for one provider and :class:`LimitBoard` one per
provider, built from the provider's ``capabilities.max_connections`` and the
application's settings. Both take an injectable clock and sleep, so tests run them
without waiting. :class:`LocalLimits` is the one-process form of the cluster-wide state
(:class:`~smsbridge.limits.SharedLimits`), for an outbox no other process shares.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager

import attrs

from smsbridge.errors import ConfigurationError
from smsbridge.provider import Provider

__all__ = [
    "ConcurrencyCap",
    "Limit",
    "LimitBoard",
    "LocalLimits",
    "ProviderLimits",
    "TokenBucket",
]


class TokenBucket:
    """At most ``rate`` requests per second on average, ``burst`` at once.

    Args:
        rate: Tokens added per second.
        burst: Bucket size (tokens available after a quiet spell); at least 1.
        clock: Monotonic seconds.
        sleep: How :meth:`acquire` waits.

    Raises:
        ConfigurationError: For a rate that is not positive or a burst below 1.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ConfigurationError(f"rate must be positive, not {rate!r}")
        if burst < 1:
            raise ConfigurationError(f"burst must be at least 1, not {burst!r}")
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = max(now - self._stamp, 0.0)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._stamp = now

    def reserve(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` now, possibly going into debt; returns seconds to wait first.

        Reserving (rather than polling) keeps waiting threads in arrival order: each
        one's wait already accounts for those ahead of it.

        Args:
            tokens: The request's cost; at most ``burst``.

        Returns:
            How long the caller must wait before its request may leave (0: at once).

        Raises:
            ValueError: When ``tokens`` exceeds ``burst`` (it could never be served).
        """
        if tokens > self.burst:
            raise ValueError(f"a request of {tokens} tokens exceeds the burst of {self.burst}")
        with self._lock:
            self._refill(self.clock())
            self._tokens -= tokens
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, tokens: float = 1.0) -> float:
        """Wait until ``tokens`` may be spent, then spend them.

        Returns:
            The seconds waited.

        Raises:
            ValueError: When ``tokens`` exceeds ``burst``.
        """
        wait = self.reserve(tokens)
        if wait > 0:
            self.sleep(wait)
        return wait

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate}, burst={self.burst})"


class ConcurrencyCap:
    """At most ``limit`` requests at the same time (a counting semaphore).

    Args:
        limit: Simultaneous requests allowed; at least 1.

    Raises:
        ConfigurationError: For a limit below 1.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ConfigurationError(f"a concurrency cap must be at least 1, not {limit!r}")
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._active = 0
        self.peak = 0
        """The most requests ever active at once (for tests and benchmarks)."""

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of a request, waiting for one if needed."""
        self._slots.acquire()
        with self._lock:
            self._active += 1
            self.peak = max(self.peak, self._active)
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
            self._slots.release()

    def __repr__(self) -> str:
        return f"ConcurrencyCap({self.limit})"


@attrs.frozen(kw_only=True)
class Limit:
    """What an application allows one provider.

    Args:
        rate: Requests per second (``None``: unlimited).
        burst: Requests allowed at once after a quiet spell.
        concurrency: Simultaneous requests; never above the provider's own
            ``capabilities.max_connections``.
    """

    rate: float | None = None
    burst: float = 1.0
    concurrency: int | None = None


class ProviderLimits:
    """One provider's bucket and cap, entered around each request.

    Args:
        bucket: The rate limit, or ``None``.
        cap: The concurrency cap, or ``None``.
    """

    def __init__(self, bucket: TokenBucket | None, cap: ConcurrencyCap | None) -> None:
        self.bucket = bucket
        self.cap = cap

    @contextmanager
    def request(self) -> Iterator[None]:
        """Take a connection slot, then a token, for one request.

        The slot comes first so a request that waited for its token still leaves
        at the moment the bucket allows, not after another wait for a slot.
        """
        if self.cap is None:
            if self.bucket is not None:
                self.bucket.acquire()
            yield
            return
        with self.cap.slot():
            if self.bucket is not None:
                self.bucket.acquire()
            yield


class LimitBoard:
    """Limits for every provider of a router.

    Args:
        providers: The providers; each one's ``capabilities.max_connections`` caps it.
        limits: Per provider name, what the application allows (rate, concurrency).
        clock: Monotonic seconds for the token buckets.
        sleep: How buckets wait.

    Raises:
        ConfigurationError: For limits naming a provider that is not configured.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        limits: Mapping[str, Limit] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        wanted = dict(limits or {})
        names = {p.name for p in providers}
        unknown = sorted(set(wanted) - names)
        if unknown:
            raise ConfigurationError(f"limits name providers that are not configured: {unknown}")
        self._by_name: dict[str, ProviderLimits] = {}
        for provider in providers:
            limit = wanted.get(provider.name, Limit())
            ceiling = provider.capabilities.max_connections
            allowed = [n for n in (limit.concurrency, ceiling) if n is not None]
            cap = ConcurrencyCap(min(allowed)) if allowed else None
            bucket = (
                None
                if limit.rate is None
                else TokenBucket(limit.rate, limit.burst, clock=clock, sleep=sleep)
            )
            self._by_name[provider.name] = ProviderLimits(bucket, cap)

    def __getitem__(self, provider: str) -> ProviderLimits:
        return self._by_name[provider]

    def request(self, provider: str) -> AbstractContextManager[None]:
        """The context to enter around one request to ``provider``."""
        return self._by_name[provider].request()


class LocalLimits:
    """:class:`~smsbridge.limits.SharedLimits` for one process (an in-memory outbox has no
    other)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, str] = {}
        self._tats: dict[str, float] = {}

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """See :meth:`~smsbridge.limits.SharedLimits.try_slot`."""
        with self._lock:
            if self._slots.get(key, owner) != owner:
                return False
            self._slots[key] = owner
            return True

    def free_slot(self, key: str, *, owner: str) -> None:
        """See :meth:`~smsbridge.limits.SharedLimits.free_slot`."""
        with self._lock:
            if self._slots.get(key) == owner:
                del self._slots[key]

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """See :meth:`~smsbridge.limits.SharedLimits.reserve`."""
        with self._lock:
            tat = max(self._tats.get(key, now), now) + interval
            self._tats[key] = tat
        return max(0.0, tat - interval - tolerance - now)

    def close(self) -> None:
        """Nothing to close."""
