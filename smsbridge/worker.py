"""Long-running workers over a shared outbox, and enqueueing without sending.

An application (or ``smsbridge enqueue``) writes messages to the outbox with
:func:`enqueue`; any number of :class:`Worker` processes (``smsbridge worker``), on one
host or several sharing a PostgreSQL outbox, claim due items under leases and send them.
Each worker has a unique lease name, ``host:pid:random``, so no two workers, not even a
restarted one on the same host, ever share leases; a killed worker's items come back
when their leases run out.

Shutdown is graceful on SIGTERM and SIGINT: the worker claims nothing more, lets the
request in flight finish and record its outcome, and gives back every claim it has not
started, so another worker can take them at once.

A worker rides out its database: a ``TRANSIENT`` :class:`~smsbridge.outbox.OutboxError`
(server restarting, crashed or unreachable, a lock timeout) ends the round, not the
worker. It logs one line, waits (exponential backoff with full jitter, a few seconds at
most) and carries on; once the database answers again it first gives back every lease
it holds, so that results it could not record are reconciled with the provider at once
instead of after their leases run out.
"""

from __future__ import annotations

import logging
import random
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from types import FrameType, TracebackType
from typing import Self

import attrs

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.config import Config
from smsbridge.dispatch import Dispatcher
from smsbridge.dispatch.dispatcher import unique_owner
from smsbridge.dispatch.prepare import batch_entries, prepare_message
from smsbridge.limits import Limit, SharedLimitBoard, shared_limits_for
from smsbridge.model import Batch, Message
from smsbridge.numbers import NumberNormaliser
from smsbridge.observe.progress import ProgressLog
from smsbridge.outbox.base import ItemState, NewItem, OutboxError, OutboxStore
from smsbridge.outbox.factory import open_store
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.backoff import RetryPolicy
from smsbridge.worker_health import HealthMonitor, WorkerHealth

__all__ = ["DATABASE_BACKOFF", "EnqueueResult", "Worker", "enqueue", "unique_owner"]

_ACTIVE = (ItemState.PENDING, ItemState.RETRY_WAIT, ItemState.INFLIGHT)

DATABASE_BACKOFF = RetryPolicy(base=0.25, cap=4.0)
"""Waits between rounds while the database is away: full jitter under 0.25 s, 0.5 s, 1 s...
capped at 4 s, so a worker is back within about 4 s of the database accepting connections
and a fleet of workers does not reconnect in one wave."""

logger = logging.getLogger("smsbridge.worker")


class Worker:
    """Works an outbox until told to stop.

    Args:
        bridge: The providers, routing, hooks and store (its ``dispatcher`` does the
            work). Build it with a unique ``owner`` (:func:`unique_owner`);
            :meth:`from_config` does.
        location: What the store was opened from; PostgreSQL needs it for cluster-wide
            limits.
        lease_seconds: Lease on claimed items; longer than any request plus the wait for
            a connection slot. A killed worker's items are claimable after it.
        claim_size: Items claimed per round; a graceful stop takes at most one request
            of the round, the rest are given back.
        poll_interval: Longest sleep when nothing is due.
        limits: Per provider: rate and concurrency, shared by every worker.
        share_limits: Keep connection caps and rates cluster-wide through the store.
        owns_bridge: Close the bridge (and a store it did not open) in :meth:`close`.
        owns_store: Close the store in :meth:`close`.
        backoff: Waits between rounds while the database is away (only its ``base`` and
            ``cap`` matter): :data:`DATABASE_BACKOFF`.
        rand: Randomness for the backoff's jitter.
        on_health: Called with a :class:`~smsbridge.worker_health.WorkerHealth` after
            every round, idle pause and database error, and when :meth:`run` ends (e.g.
            a :class:`~smsbridge.worker_health.HealthFile`). An ``OSError`` it raises is
            logged once and otherwise ignored: a full disk must not stop the sending.
        progress_interval: Log a ``smsbridge.worker.progress`` line (counts by state and
            status, rates) every this many seconds and when :meth:`run` ends
            (:class:`~smsbridge.observe.progress.ProgressLog`); ``None``: never.
    """

    def __init__(
        self,
        bridge: SmsBridge,
        *,
        location: str | None = None,
        lease_seconds: float = 60.0,
        claim_size: int = 1000,
        poll_interval: float = 1.0,
        limits: Mapping[str, Limit] | None = None,
        share_limits: bool = True,
        owns_bridge: bool = False,
        owns_store: bool = False,
        backoff: RetryPolicy = DATABASE_BACKOFF,
        rand: Callable[[], float] = random.random,
        on_health: Callable[[WorkerHealth], None] | None = None,
        progress_interval: float | None = None,
    ) -> None:
        self.bridge = bridge
        self.dispatcher: Dispatcher = bridge.dispatcher
        self.dispatcher.lease_seconds = lease_seconds
        self.dispatcher.claim_size = claim_size
        self.poll_interval = poll_interval
        self.backoff = backoff
        self.on_health = on_health
        self._rand = rand
        self._owns_bridge = owns_bridge
        self._owns_store = owns_store
        self._stopping = False
        self._owes_release = False
        self._health_failed = False
        self.released = 0
        """Leases given back when :meth:`run` ended (not counted, so 0, when they went
        back after waiting for the threads of a round the database broke off)."""
        self.health = HealthMonitor(self.owner)
        """Counts and state for :attr:`on_health`."""
        self._count_results()
        self.progress: ProgressLog | None = None
        if progress_interval is not None:
            self.progress = ProgressLog(progress_interval, self.health, bridge.store.counts)
        self.board: SharedLimitBoard | None = None
        if share_limits:
            shared = shared_limits_for(bridge.store, location)
            store: object = bridge.store
            own_shared = shared is not store
            try:
                self.board = SharedLimitBoard(
                    bridge.router.providers,
                    limits,
                    shared=shared,
                    owner=self.owner,
                    ttl=lease_seconds,
                    wait=lease_seconds,
                    close_shared=own_shared,
                )
            except BaseException:
                if own_shared:
                    shared.close()
                raise
            self.dispatcher.limits = self.board

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        store: str | None = None,
        concurrency: int = 1,
        limits: Mapping[str, Limit] | None = None,
        lease_seconds: float = 60.0,
        claim_size: int = 1000,
        poll_interval: float = 1.0,
        share_limits: bool = True,
        on_health: Callable[[WorkerHealth], None] | None = None,
        progress_interval: float | None = None,
    ) -> Worker:
        """A worker for the configuration's providers and routing, on its own store.

        Args:
            config: The loaded ``smsbridge.toml``.
            store: The outbox location, overriding ``config.store``.
            concurrency: Requests in flight at once in this worker (threads).
            limits: Per provider: rate and concurrency.
            lease_seconds: See :class:`Worker`.
            claim_size: See :class:`Worker`.
            poll_interval: See :class:`Worker`.
            share_limits: See :class:`Worker`.
            on_health: See :class:`Worker`.
            progress_interval: See :class:`Worker`.

        Raises:
            ConfigurationError: For a configuration that builds no bridge.
            OutboxError: When the outbox cannot be opened (a worker does not wait for a
                database that is down when it starts: its supervisor restarts it).
        """
        location = store or config.store
        outbox = open_store(location)
        try:
            bridge = config.build_bridge(
                store=outbox, owner=unique_owner(), concurrency=concurrency, limits=limits
            )
        except BaseException:
            outbox.close()
            raise
        try:
            return cls(
                bridge,
                location=location,
                limits=limits,
                lease_seconds=lease_seconds,
                claim_size=claim_size,
                poll_interval=poll_interval,
                share_limits=share_limits,
                owns_bridge=True,
                owns_store=True,
                on_health=on_health,
                progress_interval=progress_interval,
            )
        except BaseException:
            bridge.close()
            outbox.close()
            raise

    @property
    def owner(self) -> str:
        """This worker's lease name."""
        return self.dispatcher.owner

    @property
    def store(self) -> OutboxStore:
        """The outbox."""
        return self.bridge.store

    def stop(self, *_: object) -> None:
        """Ask the worker to stop: no new claims, no new requests; the one in flight
        finishes. Only sets flags, so it is safe in a signal handler (its signature
        fits ``signal.signal``)."""
        self._stopping = True
        if self.board is not None:
            self.board.stop()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (main thread only)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, *, until_idle: bool = False, timeout: float | None = None) -> int:
        """Claim and send until stopped (or idle, or out of time), then give back
        every claim not started.

        A ``TRANSIENT`` :class:`~smsbridge.outbox.OutboxError` from a round (claiming,
        recording, giving back) ends that round only: the worker logs it, waits
        (:attr:`backoff`, interrupted by :meth:`stop`) and tries again. Items whose
        request went out but whose outcome could not be recorded stay in flight under
        this worker's lease; the first round that reaches the database again gives every
        lease back, so they are reconciled with their provider (asked by reference, or
        replayed with the same id), never sent afresh, and without waiting for the
        leases to run out.

        Args:
            until_idle: Return once nothing is pending, waiting for a retry or in flight
                anywhere in the outbox.
            timeout: Seconds to run at most.

        Returns:
            How many items this worker claimed (a retried item counts each time; a round
            the database broke off is not counted).

        Raises:
            OutboxError: For a ``PERMANENT`` database error (a bug, a newer schema,
                missing rights), which waiting would not mend. The leases are given back
                first, as far as the database lets them be.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        handled = 0
        clean = False
        try:
            while not self._stopping:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    claimed, idle = self._round(until_idle)
                except OutboxError as exc:
                    if not exc.transient:
                        raise
                    self._wait_for_database(exc, deadline)
                    continue
                handled += claimed
                self._report()
                if self.progress is not None:
                    self.progress.tick()
                if claimed:
                    continue
                if idle:
                    break
                self._pause(self.poll_interval, deadline)
            clean = True
        finally:
            self._leave(settle=self._owes_release or not clean)
            if self.progress is not None:
                self.progress.tick(final=True)
        return handled

    def _round(self, until_idle: bool) -> tuple[int, bool]:
        """One round: claim and work due items; returns (claimed, idle).

        Raises:
            OutboxError: For database errors (the step that failed is rolled back).
        """
        if self._owes_release:
            # The database answers again. What this worker could not record is
            # reconciled now, by whichever worker claims it, not when its lease runs out.
            self._settle()
            self._owes_release = False
            logger.info("outbox database available again; leases given back")
        claimed = self.dispatcher.run_once()
        idle = not claimed and until_idle and self.idle()
        self.health.progress(claimed)
        return claimed, idle

    def _wait_for_database(self, exc: OutboxError, deadline: float | None) -> None:
        self._owes_release = True
        error = " ".join(str(exc).split())  # one log line, even for libpq's two-line text
        failures = self.health.unavailable(error)
        delay = self.backoff.delay(failures, rand=self._rand)
        logger.warning(
            "outbox database unavailable (%d in a row; next try in %.1f s) on %r: %s",
            failures,
            delay,
            self.store,
            error,
        )
        self._report()
        self._pause(delay, deadline)

    def _settle(self) -> None:
        """Wait for every request of the last round to end, then give back every lease.

        The hook this needs from the dispatcher: ``run_once`` raises as soon as one of
        the round's jobs fails, while others may still be sending on its threads, and
        their items must not be given back (and reconciled by another worker) while a
        request for them is on its way. ``Dispatcher.close`` waits for its threads, then
        releases; the dispatcher starts new threads at its next round.

        Raises:
            OutboxError: When the leases could not be given back (the threads have ended).
        """
        self.dispatcher.close()

    def _leave(self, *, settle: bool) -> None:
        """Give back every lease as :meth:`run` ends, as far as the database allows."""
        self.released = 0
        # A second try reconnects when the first found the connection lost to a restart.
        for attempt in (1, 2):
            try:
                if settle:
                    self._settle()  # gives back uncounted: released stays 0
                else:
                    self.released = self.release()
                break
            except OutboxError as exc:
                if attempt == 2 or not exc.transient:
                    logger.warning(
                        "leases not given back (they return when they expire): %s",
                        " ".join(str(exc).split()),
                    )
                    break
        self.health.stopped()
        self._report()

    def _count_results(self) -> None:
        # The request hooks belong to the bridge's router (wired once): wrap after_send.
        router = self.dispatcher.router
        previous = router.hooks.on_results
        health = self.health

        def counted(provider: Provider, results: list[SendResult]) -> None:
            health.results(results)
            if previous is not None:
                previous(provider, results)

        router.hooks = attrs.evolve(router.hooks, on_results=counted)

    def _report(self) -> None:
        if self.on_health is None:
            return
        try:
            self.on_health(self.health.snapshot())
        except OSError as exc:
            if not self._health_failed:
                self._health_failed = True
                logger.warning("health not written (only this failure is logged): %s", exc)

    def idle(self) -> bool:
        """True when no item in the outbox is pending, waiting for a retry or in flight."""
        counts = self.store.counts()
        return not any(counts.get(state, 0) for state in _ACTIVE)

    def _pause(self, seconds: float, deadline: float | None) -> None:
        # Short slices so a stop request is noticed promptly: the signal handler only
        # sets a flag (taking a lock inside a handler could deadlock the main thread).
        end = time.monotonic() + seconds
        if deadline is not None:
            end = min(end, deadline)
        while not self._stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def release(self) -> int:
        """Give back every lease this worker holds; returns how many.

        Raises:
            OutboxError: For database errors.
        """
        return self.store.release(self.owner, now=time.time())

    def close(self) -> None:
        """Stop, give back the claims, and close what this worker opened. Closing works
        with the database away too: the leases are then left to expire."""
        self.stop()
        try:
            if self._owns_bridge:
                try:
                    self.bridge.close()
                except OutboxError:
                    # Giving the leases back failed (run already tried and said so); the
                    # providers' connections are closed all the same.
                    for provider in self.bridge.providers:
                        provider.close()
            else:
                try:
                    self.release()
                except OutboxError as exc:
                    logger.debug("leases not given back on close: %s", exc)
        finally:
            if self.board is not None:
                self.board.close()
            if self._owns_store:
                self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@attrs.frozen(kw_only=True)
class EnqueueResult:
    """What :func:`enqueue` wrote.

    Args:
        added: Items written.
        existing: Items whose reference was already in the outbox (not written again).
        duplicates: Recipients left out because their number repeated.
        refused: Recipients never written (invalid number, template error).
        references: Every written or existing item's reference, in input order.
    """

    added: int
    existing: int
    duplicates: int
    refused: tuple[SendResult, ...]
    references: tuple[str, ...]


class _Tally:
    def __init__(self) -> None:
        self.duplicates = 0
        self.refused: list[SendResult] = []
        self.references: list[str] = []


def enqueue(
    store: OutboxStore,
    messages: Message | Batch | Iterable[Message],
    *,
    region: str | None = None,
    strict_numbers: bool = False,
    window: int = 10_000,
    now: float | None = None,
) -> EnqueueResult:
    """Write messages to the outbox for workers to send; nothing is sent here.

    Numbers are normalised to E.164 and de-duplicated per message (per batch); every
    item gets the reference :class:`~smsbridge.SmsBridge` would give it, so enqueueing
    the same referenced message twice writes nothing the second time.

    Args:
        store: The outbox.
        messages: A message, an iterable of messages, or a (lazy) batch.
        region: Default region for numbers without a country code.
        strict_numbers: Refuse numbers that are possible but not assigned.
        window: Items written per ``store.add`` call.
        now: The time items become due (default: now).

    Returns:
        Counts, refused recipients and references.

    Raises:
        StorageError: When the outbox cannot take more (full, read-only...). Its
            ``written`` counts every item of ``messages`` in the outbox (added by this
            call or already there); everything before them is committed, so calling
            again with the same references after fixing the cause adds only the rest.
        OutboxError: For other database errors.
    """
    from smsbridge.outbox.base import StorageError

    normalise = NumberNormaliser(region, strict_numbers)
    tally = _Tally()
    if isinstance(messages, Batch):
        items = _batch_items(messages, normalise, tally)
    elif isinstance(messages, Message):
        items = _message_items([messages], normalise, tally)
    else:
        items = _message_items(messages, normalise, tally)
    added = existing = 0
    while True:
        chunk = list(islice(items, window))
        if not chunk:
            break
        try:
            result = store.add(chunk, now=time.time() if now is None else now)
        except StorageError as exc:
            # The store counts this call's chunk; earlier windows are committed too.
            exc.count(added + existing + (exc.written or 0))
            raise
        added += result.added
        existing += result.existing
        if result.duplicates:
            # Numbers the batch already holds: the store dropped them, not sent twice.
            repeated = set(result.duplicates)
            tally.duplicates += len(repeated)
            tally.references = [r for r in tally.references if r not in repeated]
    return EnqueueResult(
        added=added,
        existing=existing,
        duplicates=tally.duplicates,
        refused=tuple(tally.refused),
        references=tuple(tally.references),
    )


def _message_items(
    messages: Iterable[Message], normalise: NumberNormaliser, tally: _Tally
) -> Iterator[NewItem]:
    for message in messages:
        # The same references and batch name SmsBridge.send gives.
        prepared = prepare_message(message, normalise, message.reference or new_reference())
        tally.refused.extend(prepared.refused.values())
        tally.duplicates += prepared.duplicates
        for item in prepared.items:
            tally.references.append(item.reference)
            yield item


def _batch_items(batch: Batch, normalise: NumberNormaliser, tally: _Tally) -> Iterator[NewItem]:
    # The references SmsBridge.iter_send_batch gives the same batch.
    for entry in batch_entries(batch, normalise, batch.reference or new_reference()):
        if isinstance(entry, SendResult):
            tally.refused.append(entry)
            continue
        tally.references.append(entry.reference)
        yield entry
