"""One clock for every worker of an outbox: the store's.

Leases, due times and the start of each attempt are compared across processes, so they
must be read on one clock. A store that has a clock of its own (PostgreSQL's
``clock_timestamp()``) offers ``server_time()``; :class:`StoreClock` measures the offset
between it and this host now and then and reads local time plus that offset, so a worker
whose clock is minutes off still takes no lease that is live, and costs no round trip per
reading. For SQLite (one file, one host) the host's clock is the store's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["SKEW_WARNING", "StoreClock"]

log = logging.getLogger("smsbridge.outbox")

SKEW_WARNING = 2.0
"""Seconds of disagreement with the store's clock that are logged as a warning."""


class StoreClock:
    """Seconds since the epoch on the store's clock.

    Args:
        store: Any store; one with ``server_time() -> float`` is followed.
        refresh: Seconds between two measurements of the offset.
        local: This host's clock (tests pass a fake one).
        monotonic: For spacing the measurements.
    """

    def __init__(
        self,
        store: object,
        *,
        refresh: float = 30.0,
        local: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        server = getattr(store, "server_time", None)
        self._server: Callable[[], float] | None = server if callable(server) else None
        self._refresh = refresh
        self._local = local
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._measured: float | None = None
        self._warned = False
        self.offset = 0.0
        """The store's clock minus this host's, as last measured."""

    def __call__(self) -> float:
        if self._server is not None:
            measured = self._measured
            if measured is None or self._monotonic() - measured >= self._refresh:
                self._measure()
        return self._local() + self.offset

    def _measure(self) -> None:
        assert self._server is not None
        with self._lock:
            if self._measured is not None and self._monotonic() - self._measured < self._refresh:
                return
            before = self._local()
            try:
                server = self._server()
            except Exception as exc:
                log.debug("could not read the store's clock: %s", exc)
                self._measured = self._monotonic()
                return
            after = self._local()
            self.offset = server - (before + after) / 2
            self._measured = self._monotonic()
        if abs(self.offset) > SKEW_WARNING and not self._warned:
            self._warned = True
            log.warning(
                "this host's clock is %.1f s %s the outbox database's; smsbridge measures "
                "leases and due times on the database's clock, but fix the host's clock "
                "(NTP): other software on it is not so careful",
                abs(self.offset),
                "behind" if self.offset > 0 else "ahead of",
            )
