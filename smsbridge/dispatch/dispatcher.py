"""The durable dispatcher: the outbox and the router's decisions, one request at a time.

:class:`Dispatcher` writes every recipient of a prepared message to the outbox before
anything is sent, then works through due items. Each request is recorded (one commit for
all its items) before it leaves, and its outcome (or the time of the next attempt) is
written back in one commit. Retry times are stored, never slept on, so a restarted
process carries on where the last one stopped. Decisions follow the router's table (see
:mod:`smsbridge.router.router` and ``docs/failover.md``); breakers live in the outbox so
several workers share them.

Items go out grouped as their provider declares (:meth:`~smsbridge.Provider.
request_key`): items with equal request keys share one request up to the provider's
size limit, whatever differs per row (text, template values). A provider that builds
stored chunks (BulkSMS) has the chunk saved first, so an unknown outcome is settled by
resending the very same bytes (same ``stop_dup_id``); other providers get their rows
through ``send_rows``; a provider that declares no key gets one request per item.

Every process gets its own lease name (:func:`unique_owner`), leases are renewed while
their requests are in flight, and lease times come from the store's clock
(:meth:`Dispatcher.now`), so neither a second process nor a skewed clock takes over an
item whose request is still out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import Self

from smsbridge.errors import MessageNotFoundError, SmsBridgeError
from smsbridge.limits import Limit, LimitBoard
from smsbridge.model import Message
from smsbridge.outbox import codec
from smsbridge.outbox.base import (
    AddResult,
    History,
    ItemExistsError,
    ItemOutcome,
    ItemState,
    LeaseError,
    NewItem,
    OutboxError,
    OutboxItem,
    OutboxStateError,
    OutboxStore,
    StorageError,
)
from smsbridge.outbox.clock import StoreClock
from smsbridge.provider import Provider
from smsbridge.router.breaker import BreakerBoard
from smsbridge.router.decide import ProviderFacts
from smsbridge.router.router import Router
from smsbridge.status import Status

from .breakers import OutboxBreakerStorage
from .chunked import ChunkSender
from .chunking import as_chunking
from .items import item_message, item_references, stored_options
from .summary import Summary, summarize

__all__ = ["Dispatcher", "dead_here", "unique_owner"]

log = logging.getLogger("smsbridge.dispatch")


def unique_owner() -> str:
    """A lease name no other process has: ``"<host>:<pid>:<12 hex digits>"``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def dead_here(owner: str) -> bool:
    """Whether ``owner`` is a :func:`unique_owner` name of a process of this host that
    no longer runs (its leases can be taken back at once, without waiting them out).

    Names of other hosts, of this process, of live processes and names given by hand
    are never dead: their leases run out as usual.
    """
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 12:
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive under another user, or not ours to ask: keep the lease
        return False
    return False


Job = Callable[[], None]


def _default_not_found(exc: SmsBridgeError) -> bool:
    return isinstance(exc, MessageNotFoundError)


class Dispatcher(ChunkSender):
    """Sends outbox items through a router's providers, one recorded request at a time.

    Args:
        router: Providers, policy, retry policy, breaker settings and delivery mode.
        store: The outbox.
        owner: This worker's lease name. The default (:func:`unique_owner`) is unique
            per process and per dispatcher, so any number of processes may share a
            store. A name given here must be used by one live process at a time: a
            process restarted with the same name takes that name's leases back at
            once in :meth:`resume` instead of waiting for them to expire.
        lease_seconds: Lease length. Leases of items in this dispatcher's hands are
            renewed every third of it while their requests are in flight, so a slow
            request never loses its item to another worker; after a crash, another
            worker takes the items over once the lease has run out.
        clock: Seconds on the store's clock; by default the store's own
            (:class:`~smsbridge.outbox.clock.StoreClock`: the database server's for
            PostgreSQL, this host's for SQLite), so every worker's leases and due
            times are measured on one clock.
        sleep: How :meth:`drain` waits for the next due item.
        rand: Randomness for backoff jitter.
        unknown_recheck: Seconds before an unresolved unknown outcome is looked at again.
        not_found: Whether an error from a query by reference means "the provider never
            took this message" (resending is then safe). Default: a
            :class:`~smsbridge.errors.MessageNotFoundError`.
        concurrency: Requests in flight at once, across providers (threads); each
            provider's own cap (``capabilities.max_connections``) still holds.
        limits: Per provider name: rate (token bucket) and concurrency.
        claim_size: Items leased per round; a round groups its items into requests,
            so it should hold several of the largest requests (BulkSMS: 10,000 rows).
            The leases of a round's items are renewed until the round ends.

    The request hooks are the router's (:attr:`Router.hooks`), wired once.

    Raises:
        ConfigurationError: For limits naming unknown providers or invalid values.
    """

    def __init__(
        self,
        router: Router,
        store: OutboxStore,
        *,
        owner: str | None = None,
        lease_seconds: float = 60,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        unknown_recheck: float = 300.0,
        not_found: Callable[[SmsBridgeError], bool] = _default_not_found,
        concurrency: int = 1,
        limits: Mapping[str, Limit] | None = None,
        claim_size: int = 10_000,
    ) -> None:
        self.router = router
        self.store = store
        self.owner = owner or unique_owner()
        self.lease_seconds = lease_seconds
        self.clock: Callable[[], float] = clock or StoreClock(store)
        self.sleep = sleep
        self.rand = rand
        self.unknown_recheck = unknown_recheck
        self.not_found = not_found
        self.concurrency = max(1, concurrency)
        self.claim_size = claim_size
        self.limits = LimitBoard(router.providers, limits)
        self.breakers = BreakerBoard(
            threshold=router.breakers.threshold,
            reset_timeout=router.breakers.reset_timeout,
            storage=OutboxBreakerStorage(store),
            clock=self.clock,
            on_change=lambda *change: self.router.hooks.events.breaker_changed(*change),
        )
        self._by_name = {p.name: p for p in router.providers}
        self._facts: dict[str, ProviderFacts] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._allows: dict[str, bool] = {}
        self._clean: set[str] = set()
        self._clean_since: dict[str, float] = {}
        self._out: dict[str, int] = {}
        self._out_lock = threading.Lock()
        self._finished = threading.local()
        self._renewer: _LeaseRenewer | None = None
        self._install_allocators()

    # -- public API -------------------------------------------------------------------

    def submit(self, message: Message) -> list[str]:
        """Write one outbox item per recipient of a prepared message (E.164 numbers,
        reference set), before any attempt. Submitting the same references again adds
        nothing.

        Args:
            message: The prepared message.

        Returns:
            The items' references, in ``message.to`` order.

        Raises:
            InvalidMessageError: When the message has no reference.
            OutboxError: For database errors.
        """
        references = item_references(message)
        several = len(references) > 1
        items = [
            NewItem(
                reference=reference,
                recipient=number,
                body=message.body,
                sender=message.sender,
                options=stored_options(message.options, message.template, message.variables),
                batch=message.reference if several else None,
            )
            for reference, number in zip(references, message.to, strict=True)
        ]
        self.store.add(items, now=self.clock())
        return references

    def add_and_send(
        self, items: Sequence[NewItem], outcomes: dict[str, ItemOutcome] | None = None
    ) -> AddResult:
        """Write items; a lone new one that is due now is sent at once, written with
        its first attempt in one commit (no claim, no separate write).

        Per-message sending is then a commit before the request and one after it.
        Everything else is only written, for :meth:`run_once`'s claims: items written
        leased to this process would wait out the lease if it died before working them,
        where unleased ones go to any process at once.

        Args:
            items: The items.
            outcomes: Filled with the stored outcome of an item settled by this call:
                its sender need not read it back.

        Returns:
            What was written, as :meth:`~smsbridge.outbox.OutboxStore.add` says.
        """
        now = self.clock()
        if len(items) == 1:
            item = items[0]
            if _due(item, now) and item.batch is None:
                with self._handing(outcomes, later=True):
                    if self._first_request(item, now):
                        return AddResult(1, 0)
        return self.store.add(items, now=now)

    def add_and_work(
        self, items: Sequence[NewItem], outcomes: dict[str, ItemOutcome] | None = None
    ) -> AddResult:
        """Write a caller's window of items and work the due ones at once, unclaimed.

        The due items are written leased to this process (one commit per thousand), and
        the round works them from the values in hand: no claim reads them back, and the
        commit that settles a request hands its outcomes to ``outcomes``. Whatever that
        round leaves unsettled (a retry, an unknown outcome), items stored already (a
        batch run again) and items due later are left to :meth:`run_once` as usual. If
        this process dies, the leases run out and any worker takes the items over.

        Args:
            items: The window, e.g. a batch's next ten thousand recipients.
            outcomes: Filled with the stored outcome of each item settled here.

        Returns:
            What was written (:attr:`~smsbridge.outbox.AddResult.leased`: the items
            this call worked).
        """
        now = self.clock()
        due: list[NewItem] = []
        later: list[NewItem] = []
        for item in items:
            (due if _due(item, now) else later).append(item)
        until = now + self.lease_seconds
        try:
            written = self.store.add(due, now=now, lease=(self.owner, until))
        except OutboxError:
            # What was written before the failure goes back to any worker at once (if
            # the store still takes this write; else the lease runs out).
            with contextlib.suppress(OutboxError):
                self.store.renew_leases(
                    self.owner, [i.reference for i in due], now=now, lease_seconds=0
                )
            raise
        if later:
            rest = self.store.add(later, now=now)
            written = AddResult(
                written.added + rest.added,
                written.existing + rest.existing,
                (*written.duplicates, *rest.duplicates),
                written.leased,
            )
        mine = frozenset(written.leased)
        held = [_leased(i, now, self.owner, until) for i in due if i.reference in mine]
        if not held:
            return written
        references = [item.reference for item in held]
        self._hold(references, True)
        try:
            self._round(held, outcomes)
        except StorageError as exc:
            # The window is in the store: a caller counting what is written counts it.
            raise exc.count(written.added + written.existing) from None
        finally:
            self._hold(references, False)
        return written

    def _first_request(self, new: NewItem, now: float) -> bool:
        """Send a lone new item with its write and its attempt in one commit.

        Returns:
            False, having written nothing, when the common path must take it: no
            provider is open to it now, its provider sends stored chunks (kept for a
            byte-identical replay), or its reference is stored already.
        """
        item = _leased(new, now, self.owner, now + self.lease_seconds)
        message = item_message(item)
        self._fresh_breakers()  # a round of one item
        provider = self._choose(item, message)
        if provider is None or as_chunking(provider) is not None:
            return False
        # _request holds the item (renews its lease) while its request is out.
        try:
            self._request(provider, [item], lambda: provider.send(message), new=[new])
        except ItemExistsError:
            return False
        return True

    def run_once(self, limit: int | None = None) -> int:
        """Claim due items and make one step on each (grouped into requests).

        Args:
            limit: Most items to claim; ``claim_size`` by default.

        Returns:
            How many items were claimed.
        """
        items = self.store.claim(
            self.owner,
            limit=limit or self.claim_size,
            now=self.clock(),
            lease_seconds=self.lease_seconds,
        )
        if not items:
            return 0
        references = [item.reference for item in items]
        self._hold(references, True)
        try:
            self._round(items)
        finally:
            self._hold(references, False)
        return len(items)

    def _round(
        self, items: Sequence[OutboxItem], outcomes: dict[str, ItemOutcome] | None = None
    ) -> None:
        self._fresh_breakers()
        jobs = self._plan(items)
        if outcomes is not None:
            jobs = [partial(self._run_handing, outcomes, job) for job in jobs]
        if self.concurrency == 1 or len(jobs) == 1:
            for job in jobs:
                self._run(job)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="smsbridge")
            for _ in self._pool.map(self._run, jobs):
                pass

    @contextlib.contextmanager
    def _handing(
        self, outcomes: dict[str, ItemOutcome] | None, *, later: bool = False
    ) -> Iterator[None]:
        """Let this thread's finishing commits fill ``outcomes`` (see ``finish_many``);
        with ``later``, the answers to its first requests may be held for the store's
        next write (items written with their attempt, untouched since)."""
        self._finished.outcomes = outcomes
        self._finished.later = later
        try:
            yield
        finally:
            self._finished.outcomes = None
            self._finished.later = False

    def _run_handing(self, outcomes: dict[str, ItemOutcome], job: Job) -> None:
        # Jobs may run on pool threads: the collector is set on the thread that runs one.
        with self._handing(outcomes):
            job()

    def _fresh_breakers(self) -> None:
        # Breakers are read afresh each round (see Requests._open), unless one was read
        # closed within BREAKER_REFRESH (see Requests._allowed).
        self._allows = {}
        self._clean = set()

    def drain(self, timeout: float) -> None:
        """Run until nothing is pending, waiting for a retry, in flight or waiting for a
        replay, or until ``timeout`` seconds have passed. Unknown outcomes parked for a
        later look do not keep it running.

        Args:
            timeout: Seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.run_once():
                continue
            due = self._next_due()
            if due is None:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self.sleep(min(max(due - self.clock(), 0.005), remaining, 1.0))

    def status(self, reference: str) -> History | None:
        """The item with its attempts and reports, or ``None``."""
        return self.store.history(reference)

    def resume(self, timeout: float | None = None, *, patience: float = 60.0) -> Summary:
        """Finish what is in the outbox (e.g. after a crash) and say what is left.

        Takes back the leases of this dispatcher's own name (only meaningful for a
        stable name given to a restarted process; a default name is new) and those of
        processes of this host that are gone (:meth:`release_dead`), then works
        until nothing is due within ``patience`` seconds. Items that were in flight are
        reconciled with the provider they went to before anything is sent again; items
        another live process holds are left to it.

        Args:
            timeout: Most seconds to work; ``None`` for as long as there is work.
            patience: Longest wait for an item due later (a retry, a lookup once the
                provider's horizon has passed, a lease another process may still
                renew); anything due later than that is reported, not waited for.

        Returns:
            What the outbox holds now: settled items by status, unsettled ones with why.
        """
        self.store.release(self.owner, now=self.clock())
        self.release_dead()
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.run_once():
                continue
            due = self._next_due()
            if due is None:
                break
            wait = due - self.clock()
            if wait > patience:
                break
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                break
            self.sleep(min(max(wait, 0.005), remaining, 1.0))
        return summarize(self.store, now=self.clock(), recheck=self.unknown_recheck)

    def release_dead(self) -> int:
        """Drop the leases of processes of this host that died holding them
        (:func:`dead_here`), so their items are taken over now, not once the leases run
        out; in-flight ones are reconciled with their provider first, as always.

        Returns:
            How many leases were dropped.
        """
        released = 0
        for owner in self.store.lease_owners(now=self.clock()):
            if dead_here(owner):
                log.info("taking back the leases of %s (that process is gone)", owner)
                released += self.store.release(owner, now=self.clock())
        return released

    # -- leases of requests in flight -------------------------------------------------

    def _hold(self, references: Sequence[str], held: bool) -> None:
        """Count references this dispatcher works on (claimed this round, or with a
        request out); their leases are renewed meanwhile."""
        with self._out_lock:
            for reference in references:
                if held:
                    self._out[reference] = self._out.get(reference, 0) + 1
                elif self._out.get(reference, 0) <= 1:
                    self._out.pop(reference, None)
                else:
                    self._out[reference] -= 1
            if held and self._renewer is None:
                self._renewer = _LeaseRenewer(self)
                self._renewer.start()

    def renew_leases(self) -> int:
        """Extend the leases of every item this dispatcher holds; how many.

        Called every third of ``lease_seconds`` by a background thread while requests
        are out. A failure (the database is away) is logged and tried again at the next
        beat; if the leases run out meanwhile, another worker reconciles the items
        with their provider, never resends them blindly.
        """
        with self._out_lock:
            references = list(self._out)
        if not references:
            return 0
        return self.store.renew_leases(
            self.owner, references, now=self.clock(), lease_seconds=self.lease_seconds
        )

    def close(self) -> None:
        """Stop the worker threads and drop this worker's leases, so another worker can
        take its items at once. The store stays open (it belongs to the caller)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._renewer is not None:
            self._renewer.stop()
            self._renewer = None
        self.store.release(self.owner, now=self.clock())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- planning a round -------------------------------------------------------------

    @staticmethod
    def _run(job: Job) -> None:
        try:
            job()
        except (LeaseError, OutboxStateError):
            # Another worker took the items over, or a report settled them meanwhile.
            return

    def _next_due(self) -> float | None:
        due: float | None = None
        for state in (
            ItemState.PENDING,
            ItemState.RETRY_WAIT,
            ItemState.INFLIGHT,
            ItemState.UNKNOWN,
        ):
            for item in self.store.iter_items(state=state):
                when = item.next_attempt_at
                if state is ItemState.INFLIGHT:
                    when = item.lease_until if item.lease_until is not None else self.clock()
                elif state is ItemState.UNKNOWN and when - item.updated_at >= self.unknown_recheck:
                    continue  # parked for a later look, not a replay due soon
                elif item.lease_until is not None:
                    # Held by a worker (a window written leased to it): not ours before
                    # the lease runs out.
                    when = max(when, item.lease_until)
                due = when if due is None else min(due, when)
        return due

    def _plan(self, items: Sequence[OutboxItem]) -> list[Job]:
        """Turn claimed items into requests, grouped by the providers' request keys."""
        jobs: list[Job] = []
        groups: dict[tuple[str, Hashable], list[_Group]] = {}
        shapes: dict[int, str] = {}
        replays: dict[str, list[OutboxItem]] = {}
        now = self.clock()
        for item in items:
            if item.needs_reconciliation:
                provider = self._by_name.get(item.provider or "")
                if provider is not None and as_chunking(provider) is not None:
                    replays.setdefault(provider.name, []).append(item)
                else:
                    jobs.append(partial(self._reconcile, item))
                continue
            if self.router.retry.exhausted(item.attempts):
                self._give_up(item, Status.FAILED_TEMPORARY, item.last_error, now)
                continue
            message = item_message(item)
            provider = self._choose(item, message)
            if provider is None:
                self._no_provider(item, message, now)
                continue
            chunking = as_chunking(provider) is not None
            key = provider.request_key(message)
            if key is None and chunking:
                # A chunking provider without a declared key: rows must share text,
                # sender and options (their stored form; a mapping is unhashable).
                shape = shapes.get(id(item.options))
                if shape is None:
                    shape = shapes[id(item.options)] = codec.options_to_json(item.options)
                key = (item.body, item.sender, shape)
            if key is None or provider.capabilities.max_recipients_per_request == 1:
                jobs.append(partial(self._send_single, provider, item))
                continue
            self._add_to_group(groups.setdefault((provider.name, key), []), item, message, provider)
        for (name, _), batches in groups.items():
            provider = self._by_name[name]
            send = self._send_chunks if as_chunking(provider) is not None else self._send_rows
            for batch in batches:
                jobs.append(partial(send, provider, batch.items, batch.messages))
        for name, pending in replays.items():
            jobs.append(partial(self._replay, self._by_name[name], pending))
        return jobs

    @staticmethod
    def _add_to_group(
        batches: list[_Group], item: OutboxItem, message: Message, provider: Provider
    ) -> None:
        # One request never carries a number twice: results are matched by number too.
        size = provider.capabilities.max_recipients_per_request
        last = batches[-1] if batches else None
        if last is not None and len(last.items) < size and item.recipient not in last.numbers:
            last.add(item, message)
            return
        for batch in batches:
            if len(batch.items) < size and item.recipient not in batch.numbers:
                batch.add(item, message)
                return
        group = _Group()
        group.add(item, message)
        batches.append(group)


def _due(item: NewItem, now: float) -> bool:
    """Whether a new item may go out at ``now`` (it has no later time of its own)."""
    return item.next_attempt_at is None or item.next_attempt_at <= now


def _leased(item: NewItem, now: float, owner: str, until: float) -> OutboxItem:
    """The stored form of an item just written with a lease: what a claim would read."""
    return OutboxItem(
        reference=item.reference,
        recipient=item.recipient,
        body=item.body,
        sender=item.sender,
        options=item.options,
        batch=item.batch,
        state=ItemState.PENDING,
        provider=None,
        status=None,
        message_id=None,
        parts=None,
        cost=None,
        attempts=0,
        next_attempt_at=now if item.next_attempt_at is None else item.next_attempt_at,
        created_at=now,
        updated_at=now,
        lease_owner=owner,
        lease_until=until,
        excluded_providers=(),
        last_error=None,
    )


class _LeaseRenewer(threading.Thread):
    """Renews the leases of a dispatcher's in-flight items every third of a lease."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__(name="smsbridge-leases", daemon=True)
        self._dispatcher = dispatcher
        self._stopped = threading.Event()

    def run(self) -> None:
        interval = max(self._dispatcher.lease_seconds / 3, 0.05)
        while not self._stopped.wait(interval):
            try:
                self._dispatcher.renew_leases()
            except SmsBridgeError as exc:
                log.warning("could not renew leases (will try again): %s", exc)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


class _Group:
    """Items bound for one multi-recipient request."""

    __slots__ = ("items", "messages", "numbers")

    def __init__(self) -> None:
        self.items: list[OutboxItem] = []
        self.messages: list[Message] = []  # built while planning; not built twice
        self.numbers: set[str] = set()

    def add(self, item: OutboxItem, message: Message) -> None:
        self.items.append(item)
        self.messages.append(message)
        self.numbers.add(item.recipient)
