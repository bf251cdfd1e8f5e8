"""Batches for :class:`~smsbridge.aio.AsyncSmsBridge`: written window by window on the
worker threads, settled by the settler, read back on the threads.

Package-internal: :class:`~smsbridge.aio.AsyncSmsBridge` mixes :class:`AsyncBatches`
in. Each window is what :meth:`SmsBridge.iter_send_batch
<smsbridge.SmsBridge.iter_send_batch>` writes and settles, with the same references,
duplicates and storage-error counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from itertools import islice
from typing import Any

import attrs

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.dispatch.answers import DuplicateCounter
from smsbridge.dispatch.prepare import batch_entries
from smsbridge.model import Batch
from smsbridge.outbox import NewItem, StorageError
from smsbridge.results import BatchResult, SendResult

from .settler import Settler, Watch

__all__ = ["AsyncBatches"]


@attrs.define
class _Window:
    """One window of a batch: its entries, the repeated references, its watch."""

    entries: list[NewItem | SendResult]
    repeated: frozenset[str] = frozenset()
    watch: Watch | None = None


class AsyncBatches:
    """``send_batch`` and ``iter_send_batch`` of the async bridge."""

    bridge: SmsBridge
    _settler: Settler
    _hand_over: Callable[..., asyncio.Future[Any]]
    _run: Callable[..., Any]
    _await_watch: Callable[[Watch | None], Any]
    _check_open: Callable[[], None]

    async def send_batch(self, batch: Batch) -> BatchResult:
        """Send a batch and collect every recipient's result.

        As :meth:`SmsBridge.send_batch <smsbridge.SmsBridge.send_batch>`; for very large
        batches prefer :meth:`iter_send_batch`.
        """
        counter = DuplicateCounter()
        results = [r async for r in self._iter_send_batch(batch, counter)]
        return BatchResult(results, duplicates=counter.count)

    def iter_send_batch(self, batch: Batch) -> AsyncIterator[SendResult]:
        """Send a batch through the outbox, yielding results window by window.

        As :meth:`SmsBridge.iter_send_batch <smsbridge.SmsBridge.iter_send_batch>`:
        ``async for result in bridge.iter_send_batch(batch)``. A window once written is
        worked until settled or ``max_wait``, whether or not the loop goes on reading.

        Raises:
            StorageError: When the outbox fails; ``written`` counts the batch's items in
                the outbox, and running the same batch again sends nothing twice.
            OutboxError: For other outbox failures.
        """
        return self._iter_send_batch(batch, DuplicateCounter())

    async def _iter_send_batch(
        self, batch: Batch, duplicates: DuplicateCounter
    ) -> AsyncIterator[SendResult]:
        self._check_open()
        loop = asyncio.get_running_loop()
        prefix = batch.reference or new_reference()
        entries = batch_entries(batch, self.bridge.normalise, prefix)
        written = [0]
        while True:
            deadline = time.monotonic() + self.bridge.max_wait
            settled: asyncio.Future[None] = loop.create_future()
            window = await self._hand_over(
                self._write_window, entries, prefix, written, duplicates, deadline, settled
            )
            await self._await_watch(window.watch)
            results = await self._run(self._window_results, window)
            if not results:
                return
            for result in results:
                yield result

    def _write_window(
        self,
        entries: Iterator[NewItem | SendResult],
        prefix: str,
        written: list[int],
        duplicates: DuplicateCounter,
        deadline: float,
        settled: asyncio.Future[None],
    ) -> _Window:
        """Worker thread: read, prepare and write the next window; watch what it wrote."""
        window = _Window(list(islice(entries, self.bridge.batch_window)))
        items = [entry for entry in window.entries if isinstance(entry, NewItem)]
        if not items:
            return window
        try:
            added = self.bridge.store.add(items, now=self.bridge.dispatcher.clock())
        except StorageError as exc:
            exc.count(written[0] + (exc.written or 0))
            raise
        written[0] += added.added + added.existing
        window.repeated = frozenset(added.duplicates)
        duplicates.count += len(window.repeated)
        references = tuple(i.reference for i in items if i.reference not in window.repeated)
        if references:
            window.watch = Watch(references, prefix, deadline, settled)
            self._settler.watch(window.watch)
        return window

    def _window_results(self, window: _Window) -> list[SendResult]:
        """Worker thread: a window's results, in the batch's order."""
        stored = {} if window.watch is None else self.bridge.store.outcomes(window.watch.references)
        results: list[SendResult] = []
        answers = self.bridge.answers
        for entry in window.entries:
            if isinstance(entry, SendResult):
                results.append(entry)
            elif entry.reference not in window.repeated:
                results.append(answers.result(entry.reference, stored.get(entry.reference)))
        return results
