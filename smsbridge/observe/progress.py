"""A running worker's progress, logged at intervals: counts by state and status, and rates.

``smsbridge worker --progress-interval SECONDS`` (default 60) logs one
``smsbridge.worker.progress`` line per interval and a last one when the worker stops::

    smsbridge.worker.progress claimed=12000 sent=11990 rate_per_s=199.8 ...
        statuses=accepted:11990,rejected:10 outbox=pending:400,retry_wait:3,done:11597

``claimed`` and ``sent`` count since the worker started, ``statuses`` its recipients'
results by status, ``rate_per_s`` the recipients the providers took per second since the
last line, and ``outbox`` the items of the whole outbox by state (every worker's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from smsbridge.observe.events import WORKER_PROGRESS
from smsbridge.observe.logs import emit
from smsbridge.outbox.base import ItemState, OutboxError
from smsbridge.worker_health import HealthMonitor

__all__ = ["ProgressLog"]

logger = logging.getLogger(WORKER_PROGRESS)


class ProgressLog:
    """Logs a worker's progress every ``interval`` seconds (INFO, ``smsbridge.worker.progress``).

    Args:
        interval: Seconds between lines.
        health: The worker's counts (claimed, sent, statuses).
        counts: The outbox's items by state (one query per line, never more often).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        interval: float,
        health: HealthMonitor,
        counts: Callable[[], Mapping[ItemState, int]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"the progress interval must be positive, not {interval!r}")
        self.interval = interval
        self._health = health
        self._counts = counts
        self._clock = clock
        self._last = clock()
        self._last_sent = 0
        self._last_claimed = 0

    def tick(self, *, final: bool = False) -> bool:
        """Log a line if an interval has passed since the last (or ``final``).

        A database error while counting the outbox leaves ``outbox`` out of that line;
        it never stops the worker.

        Returns:
            Whether a line was logged.
        """
        now = self._clock()
        elapsed = now - self._last
        if not final and elapsed < self.interval:
            return False
        if not logger.isEnabledFor(logging.INFO):
            self._last = now
            return False
        health = self._health.snapshot()
        statuses = self._health.statuses()
        try:
            outbox: dict[str, int] | None = {
                state.value: count for state, count in self._counts().items() if count
            }
        except OutboxError:
            outbox = None
        seconds = max(elapsed, 1e-9)
        fields = {
            "owner": health.owner,
            "claimed": health.claimed,
            "sent": health.sent,
            "interval_s": round(elapsed, 3),
            "rate_per_s": round((health.sent - self._last_sent) / seconds, 1),
            "claimed_per_s": round((health.claimed - self._last_claimed) / seconds, 1),
            "statuses": statuses,
            "outbox": outbox,
            "final": final,
        }
        emit(logger, logging.INFO, WORKER_PROGRESS, fields)
        self._last, self._last_sent, self._last_claimed = now, health.sent, health.claimed
        return True
