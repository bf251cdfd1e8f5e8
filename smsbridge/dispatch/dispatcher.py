"""The durable dispatcher: the outbox and the router's decisions, one request at a time.

:class:`Dispatcher` writes every recipient of a prepared message to the outbox before
anything is sent, then works through due items. Each request is recorded (one commit for
all its items) before it leaves, and its outcome (or the time of the next attempt) is
written back in one commit. Retry times are stored, never slept on, so a restarted
process carries on where the last one stopped. Decisions follow the router's table (see
:mod:`smsbridge.router.router` and ``docs/failover.md``); breakers live in the outbox so
several workers share them.

Items for a provider that builds stored chunks (BulkSMS) and share body, sender and
options go out as one multi-recipient request; the chunk is saved first, so an unknown
outcome is settled by resending the very same bytes (same ``stop_dup_id``). Everything
else goes out one item per request, so that each request has one client reference to
look up.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import Self

from smsbridge.errors import MessageNotFoundError, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox import codec
from smsbridge.outbox.base import (
    History,
    ItemState,
    LeaseError,
    NewItem,
    OutboxItem,
    OutboxStateError,
    OutboxStore,
)
from smsbridge.provider import Provider
from smsbridge.router.breaker import BreakerBoard
from smsbridge.router.limits import Limit, LimitBoard
from smsbridge.router.router import Router
from smsbridge.status import Status

from .chunked import ChunkSender
from .decisions import Decisions
from .requests import AttemptHook, FailureHook, Requests, ResultsHook
from .support import (
    NO_CARRIER,
    NO_PROVIDER,
    OutboxBreakerStorage,
    as_chunking,
    item_message,
    item_references,
    stored_options,
)

__all__ = ["Dispatcher"]

Job = Callable[[], None]


def _default_not_found(exc: SmsBridgeError) -> bool:
    return isinstance(exc, MessageNotFoundError)


class Dispatcher(Requests, ChunkSender, Decisions):
    """Sends outbox items through a router's providers, one recorded request at a time.

    Args:
        router: Providers, policy, retry policy, breaker settings and delivery mode.
        store: The outbox.
        owner: This worker's lease name. The default is stable per host, so a process
            restarted after a crash reclaims its own leases in :meth:`resume`; give
            workers running at the same time distinct names.
        lease_seconds: Lease length; longer than any request (and rate-limit wait) takes.
        clock: Wall-clock seconds (shared with other processes through the store).
        sleep: How :meth:`drain` waits for the next due item.
        rand: Randomness for backoff jitter.
        unknown_recheck: Seconds before an unresolved unknown outcome is looked at again.
        not_found: Whether an error from a query by reference means "the provider never
            took this message" (resending is then safe). Default: a
            :class:`~smsbridge.errors.MessageNotFoundError`.
        concurrency: Requests in flight at once, across providers (threads); each
            provider's own cap (``capabilities.max_connections``) still holds.
        limits: Per provider name: rate (token bucket) and concurrency.
        claim_size: Items leased per round.
        on_attempt: Called before each request leaves (the bridge's ``before_send``).
        on_failure: Called when a request fails as a whole (``send_failed``).
        on_results: Called with a request's results (``after_send``).

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
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        unknown_recheck: float = 300.0,
        not_found: Callable[[SmsBridgeError], bool] = _default_not_found,
        concurrency: int = 1,
        limits: Mapping[str, Limit] | None = None,
        claim_size: int = 1000,
        on_attempt: AttemptHook | None = None,
        on_failure: FailureHook | None = None,
        on_results: ResultsHook | None = None,
    ) -> None:
        self.router = router
        self.store = store
        self.owner = owner or f"dispatcher@{socket.gethostname()}"
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.unknown_recheck = unknown_recheck
        self.not_found = not_found
        self.concurrency = max(1, concurrency)
        self.claim_size = claim_size
        self.limits = LimitBoard(router.providers, limits)
        self.on_attempt = on_attempt
        self.on_failure = on_failure
        self.on_results = on_results
        self.breakers = BreakerBoard(
            threshold=router.breakers.threshold,
            reset_timeout=router.breakers.reset_timeout,
            storage=OutboxBreakerStorage(store),
            clock=clock,
        )
        self._by_name = {p.name: p for p in router.providers}
        self._pool: ThreadPoolExecutor | None = None
        self._allows: dict[str, bool] = {}
        self._clean: set[str] = set()
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
        # Breakers are read afresh each round (see Requests._open).
        self._allows = {}
        self._clean = set()
        jobs = self._plan(items)
        if self.concurrency == 1 or len(jobs) == 1:
            for job in jobs:
                self._run(job)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="smsbridge")
            for _ in self._pool.map(self._run, jobs):
                pass
        return len(items)

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

    def resume(self, timeout: float = 60.0) -> None:
        """Take back this worker's leases (e.g. after a crash) and finish what is due.

        Items that were in flight are reconciled with the provider they went to before
        anything is sent again.

        Args:
            timeout: Seconds to keep working.
        """
        self.store.release(self.owner, now=self.clock())
        self.drain(timeout)

    def close(self) -> None:
        """Stop the worker threads and drop this worker's leases, so another worker can
        take its items at once. The store stays open (it belongs to the caller)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
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
                due = when if due is None else min(due, when)
        return due

    def _choose(self, item: OutboxItem, message: Message) -> Provider | None:
        for provider in self._candidates(item, message):
            if self._allowed(provider.name):
                return provider
        return None

    def _plan(self, items: Sequence[OutboxItem]) -> list[Job]:
        """Turn claimed items into requests: grouped where the provider allows."""
        jobs: list[Job] = []
        groups: dict[tuple[str, str, str | None, str], list[_Group]] = {}
        options: dict[int, str] = {}
        replays: dict[str, list[OutboxItem]] = {}
        for item in items:
            if item.needs_reconciliation:
                provider = self._by_name.get(item.provider or "")
                if provider is not None and as_chunking(provider) is not None:
                    replays.setdefault(provider.name, []).append(item)
                else:
                    jobs.append(partial(self._reconcile, item))
                continue
            message = item_message(item)
            now = self.clock()
            if self.router.retry.exhausted(item.attempts):
                self._give_up(item, Status.FAILED_TEMPORARY, item.last_error, now)
                continue
            provider = self._choose(item, message)
            if provider is None:
                self._no_provider(item, message, now)
                continue
            if as_chunking(provider) is None:
                jobs.append(partial(self._send_single, provider, item))
                continue
            shape = options.get(id(item.options))
            if shape is None:
                # Options hold a read-only mapping (unhashable); their stored form is not.
                shape = options[id(item.options)] = codec.options_to_json(item.options)
            key = (provider.name, item.body, item.sender, shape)
            self._add_to_group(groups.setdefault(key, []), item, provider)
        for key, batches in groups.items():
            provider = self._by_name[key[0]]
            for batch in batches:
                jobs.append(partial(self._send_chunks, provider, batch.items))
        for name, pending in replays.items():
            jobs.append(partial(self._replay, self._by_name[name], pending))
        return jobs

    @staticmethod
    def _add_to_group(batches: list[_Group], item: OutboxItem, provider: Provider) -> None:
        # One request never carries a number twice: results are matched by number too.
        size = provider.capabilities.max_recipients_per_request
        for batch in batches:
            if len(batch.items) < size and item.recipient not in batch.numbers:
                batch.add(item)
                return
        group = _Group()
        group.add(item)
        batches.append(group)

    def _no_provider(self, item: OutboxItem, message: Message, now: float) -> None:
        if not self._candidates(item, message):
            # Refused for good everywhere (or nobody can carry it).
            self._give_up(item, Status.REJECTED, item.last_error or NO_CARRIER, now)
            return
        self.store.retry_later(
            item.reference,
            owner=self.owner,
            error=NO_PROVIDER,
            next_attempt_at=self._breaker_wait(item, message, now),
            now=now,
        )


class _Group:
    """Items bound for one multi-recipient request."""

    __slots__ = ("items", "numbers")

    def __init__(self) -> None:
        self.items: list[OutboxItem] = []
        self.numbers: set[str] = set()

    def add(self, item: OutboxItem) -> None:
        self.items.append(item)
        self.numbers.add(item.recipient)
