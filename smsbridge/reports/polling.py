"""Polling: close out messages whose delivery report never came.

For deployments that cannot receive callbacks, or as a safety net behind them. Every
message the outbox holds as done (a provider took it) whose status is not final and has
not changed for ``older_than`` seconds is queried from its provider by message id
(Clickatell ``querymsg``, BulkSMS ``get_report``), and the answer is recorded like any
other report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.outbox import ItemState, ItemStore, OutboxError, ReportStore
from smsbridge.provider import Provider
from smsbridge.reports.combine import PartCombiner
from smsbridge.reports.receiver import ReportReceiver

if TYPE_CHECKING:
    from smsbridge.plugins import PluginManager

__all__ = ["PollSummary", "Poller", "PollingStore"]

logger = logging.getLogger("smsbridge.reports")


class PollingStore(ItemStore, ReportStore, Protocol):
    """What polling needs of a store: the items it asks about, and where answers go."""


@attrs.frozen(slots=True, kw_only=True)
class PollSummary:
    """What one :meth:`Poller.poll_once` did.

    Args:
        queried: Messages asked about.
        changed: Messages whose status changed.
        failed: Queries that raised (logged; asked again next round).
        skipped: Overdue messages whose provider cannot be asked by id.
    """

    queried: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0


class Poller:
    """Queries providers for messages still not final after ``older_than`` seconds.

    Args:
        providers: Providers to ask, by name; those without ``query_by_id`` are skipped.
        store: The outbox to read overdue messages from and record answers in.
        older_than: Seconds without a status change before a message is asked about.
        clock: Seconds since the epoch.
        plugin_manager: Whose ``smsbridge_delivery_report`` hook sees each answer.
        limit: Most messages asked about per round (``None``: all).

    Raises:
        ConfigurationError: A negative ``older_than``.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        store: PollingStore,
        *,
        older_than: float,
        clock: Callable[[], float] = time.time,
        plugin_manager: PluginManager | None = None,
        limit: int | None = None,
    ) -> None:
        if older_than < 0:
            raise ConfigurationError("older_than must not be negative")
        self._providers = {p.name: p for p in providers}
        self._store = store
        self._older_than = older_than
        self._clock = clock
        self._limit = limit
        # The receiver's recording path, so polled answers meet the same rules and hooks.
        self._recorder = ReportReceiver(
            [],
            store=store,
            auth={},
            plugin_manager=plugin_manager,
            clock=clock,
            combiner=PartCombiner(max_messages=1),
        )

    def poll_once(self) -> PollSummary:
        """Ask about every overdue message once and record the answers.

        Returns:
            Counts of what happened.

        Raises:
            OutboxError: The store failed.
        """
        cutoff = self._clock() - self._older_than
        overdue = [
            item
            for item in self._store.iter_items(state=ItemState.DONE)
            if item.status is not None
            and not item.status.is_final
            and item.updated_at <= cutoff
            and item.message_id is not None
        ]
        queried = changed = failed = skipped = 0
        for item in overdue:
            if self._limit is not None and queried >= self._limit:
                break
            provider = self._providers.get(item.provider or "")
            if provider is None or not provider.capabilities.query_by_id:
                skipped += 1
                continue
            queried += 1
            try:
                report = provider.query(message_id=item.message_id)
            except OutboxError:
                raise
            except SmsBridgeError as exc:
                failed += 1
                logger.warning(
                    "status query to %s failed (%s, code %s)",
                    provider.name,
                    type(exc).__name__,
                    exc.code,
                )
                continue
            # The query answers for this item: the outbox matches on reference too.
            report = attrs.evolve(report, reference=report.reference or item.reference)
            before = item.status
            self._recorder.record(report)
            after = self._store.get(item.reference)
            if after is not None and after.status is not before:
                changed += 1
        return PollSummary(queried=queried, changed=changed, failed=failed, skipped=skipped)
