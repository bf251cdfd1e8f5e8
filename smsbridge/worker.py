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
"""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from types import FrameType, TracebackType
from typing import Self

import attrs

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.config import Config
from smsbridge.dispatch import Dispatcher, item_references
from smsbridge.dispatch.support import stored_options
from smsbridge.errors import InvalidNumberError, SmsBridgeError, TemplateError
from smsbridge.limits_shared import SharedLimitBoard, shared_limits_for
from smsbridge.model import Batch, Message
from smsbridge.numbers import NumberNormaliser
from smsbridge.outbox.base import ItemState, NewItem, OutboxStore
from smsbridge.outbox.factory import open_store
from smsbridge.results import SendResult
from smsbridge.router.limits import Limit
from smsbridge.status import Status

__all__ = ["EnqueueResult", "Worker", "enqueue", "unique_owner"]

_ACTIVE = (ItemState.PENDING, ItemState.RETRY_WAIT, ItemState.INFLIGHT)


def unique_owner() -> str:
    """A lease name no other worker has: ``"<host>:<pid>:<12 hex digits>"``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


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
    ) -> None:
        self.bridge = bridge
        self.dispatcher: Dispatcher = bridge.dispatcher
        self.dispatcher.lease_seconds = lease_seconds
        self.dispatcher.claim_size = claim_size
        self.poll_interval = poll_interval
        self._owns_bridge = owns_bridge
        self._owns_store = owns_store
        self._stopping = False
        self.released = 0
        """Leases given back when :meth:`run` ended."""
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

        Raises:
            ConfigurationError: For a configuration that builds no bridge.
            OutboxError: When the outbox cannot be opened.
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

        Args:
            until_idle: Return once nothing is pending, waiting for a retry or in flight
                anywhere in the outbox.
            timeout: Seconds to run at most.

        Returns:
            How many items this worker claimed (a retried item counts each time).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        handled = 0
        try:
            while not self._stopping:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                claimed = self.dispatcher.run_once()
                handled += claimed
                if claimed:
                    continue
                if until_idle and self.idle():
                    break
                self._pause(deadline)
        finally:
            self.released = self.release()
        return handled

    def idle(self) -> bool:
        """True when no item in the outbox is pending, waiting for a retry or in flight."""
        counts = self.store.counts()
        return not any(counts.get(state, 0) for state in _ACTIVE)

    def _pause(self, deadline: float | None) -> None:
        # Short slices so a stop request is noticed promptly: the signal handler only
        # sets a flag (taking a lock inside a handler could deadlock the main thread).
        end = time.monotonic() + self.poll_interval
        if deadline is not None:
            end = min(end, deadline)
        while not self._stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def release(self) -> int:
        """Give back every lease this worker holds; returns how many."""
        return self.store.release(self.owner, now=time.time())

    def close(self) -> None:
        """Stop, give back the claims, and close what this worker opened."""
        self.stop()
        try:
            if self._owns_bridge:
                self.bridge.close()
            else:
                self.release()
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
    return EnqueueResult(
        added=added,
        existing=existing,
        duplicates=tally.duplicates,
        refused=tuple(tally.refused),
        references=tuple(tally.references),
    )


def _refused(number: str, reference: str, exc: SmsBridgeError) -> SendResult:
    status = Status.INVALID_NUMBER if isinstance(exc, InvalidNumberError) else Status.REJECTED
    return SendResult(number, status, reference=reference, error=exc.info(), attempts=0)


def _message_items(
    messages: Iterable[Message], normalise: NumberNormaliser, tally: _Tally
) -> Iterator[NewItem]:
    for message in messages:
        reference = message.reference or new_reference()
        valid: list[str] = []
        seen: set[str] = set()
        for number in message.to:
            try:
                e164 = normalise(number)
            except InvalidNumberError as exc:
                tally.refused.append(_refused(number, reference, exc))
                continue
            if e164 in seen:
                tally.duplicates += 1
                continue
            seen.add(e164)
            valid.append(e164)
        if not valid:
            continue
        # The same references and batch name the dispatcher's submit gives.
        prepared = attrs.evolve(message, to=tuple(valid), reference=reference)
        references = item_references(prepared)
        options = stored_options(message.options, message.template, message.variables)
        several = len(references) > 1
        for item_reference, number in zip(references, valid, strict=True):
            tally.references.append(item_reference)
            yield NewItem(
                reference=item_reference,
                recipient=number,
                body=message.body,
                sender=message.sender,
                options=options,
                batch=reference if several else None,
            )


def _batch_items(batch: Batch, normalise: NumberNormaliser, tally: _Tally) -> Iterator[NewItem]:
    prefix = batch.reference or new_reference()
    seen: set[str] = set()
    for index, recipient in enumerate(batch, start=1):
        # The references SmsBridge.iter_send_batch gives the same batch.
        reference = recipient.reference or f"{prefix}-{index}"
        try:
            e164 = normalise(recipient.number)
            body = batch.render(recipient)
        except (InvalidNumberError, TemplateError) as exc:
            tally.refused.append(_refused(recipient.number, reference, exc))
            continue
        if e164 in seen:
            tally.duplicates += 1
            continue
        seen.add(e164)
        tally.references.append(reference)
        yield NewItem(
            reference=reference,
            recipient=e164,
            body=body,
            sender=batch.sender,
            options=stored_options(batch.options, batch.template, recipient.variables),
            batch=prefix,
        )
