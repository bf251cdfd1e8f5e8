"""Limits that hold across every worker sharing one outbox, on one host or many.

A provider's ``capabilities.max_connections`` (BulkSMS: one connection, no parallel
requests) and an application's ``Limit.rate`` are promises about the *account*, not about
one process. :class:`SharedLimitBoard` keeps them cluster-wide through the outbox's
database:

* **Connection slots.** Each of a provider's ``max_connections`` is a slot that one worker
  holds for the length of a request. On PostgreSQL a slot is a session advisory lock
  (``pg_try_advisory_lock``): closing the handle unlocks it before it returns, and the
  server frees it by itself once it sees the holder's connection gone (a killed worker
  included; the server's side of a dead connection ends a moment after the client's,
  so other workers keep polling for the slot). On SQLite it is a leased row that expires after
  ``ttl`` seconds, so a killed holder blocks the provider for at most that long.
* **Rates.** ``Limit.rate`` / ``Limit.burst`` become one GCRA schedule (a "theoretical
  arrival time" row per provider) that every worker reserves from in one statement.

Anything that implements :class:`SharedLimits` can provide both. That protocol is all
this package asks of a store: a store implementing it is used as is, and
:func:`shared_limits_for` builds one for the bundled stores: on SQLite it shares the
file's one connection (:mod:`smsbridge.outbox.sqlite_file`), each of its writes a
transaction of its own; on PostgreSQL it opens a connection of its own, whose session
holds the advisory locks. Requests reach a provider's connections only through its public
:meth:`~smsbridge.provider.Provider.drain_idle`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from smsbridge.errors import ConfigurationError
from smsbridge.limits.local import Limit, LimitBoard, LocalLimits, ProviderLimits
from smsbridge.limits.postgres import PostgresLimits
from smsbridge.limits.sqlite import SqliteLimits
from smsbridge.outbox.base import LeaseError, OutboxStore
from smsbridge.outbox.sqlite import SqliteStore
from smsbridge.provider import Provider

__all__ = ["SharedLimitBoard", "SharedLimits", "shared_limits_for"]

logger = logging.getLogger("smsbridge.limits")


@runtime_checkable
class SharedLimits(Protocol):
    """Cluster-wide limit state: connection slots and rate schedules.

    ``now`` is wall-clock seconds (:func:`time.time`), as for the outbox: workers on
    several hosts agree through the timestamps they pass, so keep their clocks in sync.
    """

    def try_slot(self, key: str, *, owner: str, now: float, ttl: float) -> bool:
        """Take slot ``key`` for ``owner`` unless another owner holds it; True if taken."""
        ...

    def free_slot(self, key: str, *, owner: str) -> None:
        """Give slot ``key`` back (nothing happens when ``owner`` does not hold it)."""
        ...

    def reserve(self, key: str, *, now: float, interval: float, tolerance: float) -> float:
        """Book one request on schedule ``key``; returns the seconds to wait before it.

        Args:
            key: The schedule's name (one per provider).
            now: The current time.
            interval: Seconds per request at the sustained rate (``1 / rate``).
            tolerance: How far ahead of the schedule a request may go (the burst).
        """
        ...

    def close(self) -> None:
        """Free every slot still held and close the connection."""
        ...


def shared_limits_for(store: OutboxStore, location: str | None = None) -> SharedLimits:
    """The cluster-wide limit state for the workers of ``store``.

    Args:
        store: The outbox; used as is when it implements :class:`SharedLimits`.
        location: What the store was opened from (:func:`~smsbridge.outbox.factory.
            open_store`'s argument); needed for PostgreSQL, whose store shows only a
            redacted URL.

    Returns:
        A new object the caller closes (or ``store`` itself).

    Raises:
        ConfigurationError: For a PostgreSQL store without ``location``.
    """
    if isinstance(store, SharedLimits):
        return store
    if isinstance(store, SqliteStore):
        if store.path in ("", ":memory:"):
            return LocalLimits()
        return SqliteLimits(store.path)
    # A PostgresStore exists only once its module (and psycopg) is loaded; looking the
    # module up rather than importing it keeps psycopg optional.
    postgres: Any = sys.modules.get("smsbridge.outbox.postgres")
    if postgres is not None and isinstance(store, postgres.PostgresStore):
        if location is None or "://" not in location:
            raise ConfigurationError("cluster-wide limits on PostgreSQL need the store's URL")
        return PostgresLimits(location, schema=store.schema)
    logger.warning(
        "%s shares no limit state: connection caps and rates hold per process only",
        type(store).__name__,
    )
    return LocalLimits()


class SharedLimitBoard(LimitBoard):
    """A :class:`~smsbridge.limits.LimitBoard` whose caps and rates hold across
    every worker, and which a stopping worker closes to further requests.

    Per request it takes, in order: this process's slot (threads), a cluster-wide
    connection slot (for providers declaring ``max_connections``), then the shared rate
    schedule. After the request it closes the provider's idle connection, and waits for
    the server to close its side, before giving the cluster slot back.

    Args:
        providers: The router's providers.
        limits: Per provider name: rate, burst and concurrency.
        shared: The cluster-wide state (:func:`shared_limits_for`).
        owner: The worker's lease name.
        ttl: How long a slot lease lasts where the backend needs one (SQLite); longer
            than any request.
        wait: Longest wait for a cluster slot; the items' leases run out after that.
        grace: Extra seconds between closing the connection and freeing the slot.
        poll: Seconds between tries for a taken slot.
        sleep: How rate and slot waits sleep.
        close_shared: Close ``shared`` in :meth:`close` (not when it is the store).

    Raises:
        ConfigurationError: For limits naming unknown providers or invalid values.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        limits: Mapping[str, Limit] | None = None,
        *,
        shared: SharedLimits,
        owner: str,
        ttl: float = 60.0,
        wait: float = 60.0,
        grace: float = 0.0,
        poll: float = 0.005,
        sleep: Callable[[float], None] = time.sleep,
        close_shared: bool = True,
    ) -> None:
        super().__init__(providers, limits)
        self._close_shared = close_shared
        self.shared = shared
        self.owner = owner
        self.ttl, self.wait, self.grace, self.poll = ttl, wait, grace, poll
        self._sleep = sleep
        self._providers = {p.name: p for p in providers}
        self._slots = {
            p.name: p.capabilities.max_connections
            for p in providers
            if p.capabilities.max_connections is not None
        }
        self._rates = {
            name: (1.0 / limit.rate, (max(limit.burst, 1.0) - 1.0) / limit.rate)
            for name, limit in (limits or {}).items()
            if limit.rate is not None
        }
        self._stopping = False

    def stop(self) -> None:
        """Refuse every later request (:class:`LeaseError`): the worker is giving its
        claims back. Only sets a flag, so a signal handler may call it."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping

    def _check(self) -> None:
        if self._stopping:
            raise LeaseError("the worker is stopping; its claims go back to the outbox")

    @contextmanager
    def request(self, provider: str) -> Iterator[None]:
        """The context to enter around one request to ``provider``.

        Raises:
            LeaseError: When the worker is stopping, or no cluster slot came free within
                ``wait`` seconds (the dispatcher then leaves the items to their leases).
        """
        self._check()
        local = self[provider]
        with local.cap.slot() if local.cap is not None else contextlib.nullcontext():
            key = self._take_slot(provider)
            try:
                self._pace(provider, local)
                yield
            finally:
                if key is not None:
                    self._providers[provider].drain_idle()
                    if self.grace > 0:
                        self._sleep(self.grace)
                    self.shared.free_slot(key, owner=self.owner)

    def _take_slot(self, provider: str) -> str | None:
        count = self._slots.get(provider)
        if count is None:
            return None
        deadline = time.monotonic() + self.wait
        while True:
            self._check()
            for index in range(count):
                key = f"slot:{provider}:{index}"
                if self.shared.try_slot(key, owner=self.owner, now=time.time(), ttl=self.ttl):
                    return key
            if time.monotonic() >= deadline:
                raise LeaseError(f"no {provider} connection slot came free in {self.wait:g} s")
            self._sleep(self.poll)

    def _pace(self, provider: str, local: ProviderLimits) -> None:
        rate = self._rates.get(provider)
        if rate is None:
            if local.bucket is not None:
                local.bucket.acquire()
            return
        interval, tolerance = rate
        pause = self.shared.reserve(
            f"rate:{provider}", now=time.time(), interval=interval, tolerance=tolerance
        )
        if pause > 0:
            self._sleep(pause)

    def close(self) -> None:
        """Close the shared state's connection (freeing any slot still held)."""
        if self._close_shared:
            self.shared.close()
