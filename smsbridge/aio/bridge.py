"""``AsyncSmsBridge``: :class:`~smsbridge.SmsBridge` for asyncio applications.

Every blocking step (preparing numbers, outbox writes and reads, provider requests) runs
on the bridge's own worker threads, so the event loop never waits on a disk or a socket.
A message is handed over in a task of its own: once ``send`` has started, its message is
written and attempted even if the awaiting task is cancelled, and whatever waiting is left
(a retry, a failover, a batch) is done by one settler thread for all coroutines (see
:mod:`smsbridge.aio.settler`), never by a thread per caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, Self, TypeVar, overload

import attrs

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.dispatch.answers import merge_results, raise_request_error
from smsbridge.dispatch.prepare import PreparedMessage, prepare_message, send_arguments
from smsbridge.dispatch.summary import Summary
from smsbridge.errors import ConfigurationError
from smsbridge.limits import Limit
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.outbox import (
    History,
    ItemOutcome,
    OutboxError,
    OutboxStore,
)
from smsbridge.plugins import LoadedPlugins
from smsbridge.provider import Provider
from smsbridge.results import BatchResult, SendResult
from smsbridge.router import Delivery, Policy, RetryPolicy

from .batches import AsyncBatches
from .jobs import Jobs
from .settler import Settler, Watch

if TYPE_CHECKING:
    from smsbridge.pricing import Quote

__all__ = ["AsyncSmsBridge"]

P = ParamSpec("P")
T = TypeVar("T")


@attrs.define
class _Waiting:
    """A send handed to the settler: what building its results needs."""

    message: Message
    prepared: PreparedMessage
    single: bool
    references: tuple[str, ...]
    watch: Watch | None = None


class AsyncSmsBridge(AsyncBatches):
    """Send messages through configured providers, durably, from asyncio code.

    The surface of :class:`~smsbridge.SmsBridge` with ``await``: :meth:`send`,
    :meth:`send_batch`, :meth:`iter_send_batch` (an async iterator), :meth:`status`,
    :meth:`resume`, :meth:`quote`; ``async with`` closes it. Results and errors are the
    synchronous bridge's.

    Args:
        providers: Provider instances or registered names, in order of preference.
        threads: Worker threads for blocking steps. A send holds one for its outbox
            write and first request (each provider's HTTP pool and limits still cap
            what is in flight); sends beyond it wait in a queue without a thread.
        store: The outbox (opened here, once, synchronously).
        region: Default region for numbers written without a country code.
        strict_numbers: Refuse numbers that are possible but not assigned.
        plugin_manager: Where provider names and event hooks are looked up.
        policy: The routing policy.
        retry: Attempt budget and backoff for transient failures.
        delivery: What to do with unknown outcomes.
        max_wait: Longest time one ``send`` (or one window of a batch) waits before
            returning what is still waiting as ``QUEUED``.
        owner: This bridge's lease name.
        concurrency: Requests in flight at once in a settling round (retries, batches).
        limits: Per provider name: rate and concurrency.
        batch_window: Recipients of a batch written and dispatched together.
        durability: ``"normal"`` or ``"full"``, for an outbox opened from a path.

    Every argument but ``threads`` means what it means for
    :class:`~smsbridge.SmsBridge`, which this bridge builds and wraps (:attr:`bridge`).

    Raises:
        ConfigurationError: As :class:`~smsbridge.SmsBridge` does, or ``threads < 1``.
        OutboxError: When the outbox cannot be opened.
    """

    def __init__(
        self,
        providers: Sequence[Provider | str],
        *,
        threads: int = 32,
        store: OutboxStore | str | os.PathLike[str] | None = None,
        region: str | None = None,
        strict_numbers: bool = False,
        plugin_manager: LoadedPlugins | None = None,
        policy: Policy | None = None,
        retry: RetryPolicy | None = None,
        delivery: Delivery = Delivery.AT_MOST_ONCE,
        max_wait: float = 10.0,
        owner: str | None = None,
        concurrency: int = 1,
        limits: Mapping[str, Limit] | None = None,
        batch_window: int = 10_000,
        durability: Literal["normal", "full"] = "normal",
    ) -> None:
        if threads < 1:
            raise ConfigurationError(f"threads must be at least 1, not {threads!r}")
        self.bridge = SmsBridge(
            providers,
            store=store,
            region=region,
            strict_numbers=strict_numbers,
            plugin_manager=plugin_manager,
            policy=policy,
            retry=retry,
            delivery=delivery,
            max_wait=max_wait,
            owner=owner,
            concurrency=concurrency,
            limits=limits,
            batch_window=batch_window,
            durability=durability,
        )
        """The wrapped synchronous bridge (its store, dispatcher and providers)."""
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="smsbridge-aio")
        self._settler = Settler(self.bridge)
        self._jobs = Jobs(self._executor, threads)
        self._closed = False

    @property
    def providers(self) -> tuple[Provider, ...]:
        """The providers, in order of preference."""
        return self.bridge.providers

    @property
    def max_wait(self) -> float:
        """Longest time one ``send`` (or one window of a batch) waits for settlement."""
        return self.bridge.max_wait

    # -- sending ---------------------------------------------------------------------

    @overload
    async def send(
        self,
        to: str,
        body: str,
        /,
        *,
        sender: str | None = None,
        reference: str | None = None,
        options: SendOptions | None = None,
    ) -> SendResult: ...

    @overload
    async def send(
        self,
        to: list[str] | tuple[str, ...],
        body: str,
        /,
        *,
        sender: str | None = None,
        reference: str | None = None,
        options: SendOptions | None = None,
    ) -> BatchResult: ...

    @overload
    async def send(self, message: Message, /) -> SendResult | BatchResult: ...

    async def send(
        self,
        message: Message | str | list[str] | tuple[str, ...],
        body: str | None = None,
        /,
        *,
        sender: str | None = None,
        reference: str | None = None,
        options: SendOptions | None = None,
    ) -> SendResult | BatchResult:
        """Write a message to the outbox and wait (without blocking) until it settles.

        Arguments, results and errors are those of :meth:`SmsBridge.send
        <smsbridge.SmsBridge.send>`. Cancelling the awaiting task does not cancel the
        message: it is written and worked as long as ``max_wait`` allows, exactly once,
        and :meth:`status` finds it by its reference (pass ``reference=`` to know it).

        Raises:
            ProviderError: When every recipient was refused with a request-scope error.
            InvalidMessageError: For a message that cannot be built.
            TypeError: For a ``Message`` given with direct-form arguments, or no body.
            OutboxError: For outbox failures.
            RuntimeError: When the bridge is closed.
        """
        build, single = send_arguments(message, body, sender, reference, options)
        return await self._send(build, single=single)

    async def _send(
        self, build: Callable[[], Message], *, single: bool
    ) -> SendResult | BatchResult:
        # The loop only schedules: building, writing, sending and reading happen on the
        # worker threads, so a thousand sends started at once cost it microseconds each.
        self._check_open()
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.max_wait
        settled: asyncio.Future[None] = loop.create_future()
        first = await self._hand_over(self._write_and_send, build, single, deadline, settled)
        if not isinstance(first, _Waiting):
            return first
        await self._await_watch(first.watch)
        return await self._run(self._results, first)

    def _write_and_send(
        self,
        build: Callable[[], Message],
        single: bool,
        deadline: float,
        settled: asyncio.Future[None],
    ) -> SendResult | BatchResult | _Waiting:
        """Worker thread: build, prepare, write (a lone message with its first request)
        and read; what still waits is handed to the settler before this returns."""
        bridge = self.bridge
        message = build()
        prepared = prepare_message(message, bridge.normalise, message.reference or new_reference())
        references = tuple(item.reference for item in prepared.items)
        pending = _Waiting(message, prepared, single, references)
        if not prepared.items:
            return self._results(pending, {})
        stored = bridge.answers.write(prepared.items)
        if not any(bridge.answers.waiting(item) for item in stored.values()):
            return self._results(pending, stored)
        batch = prepared.reference if len(references) > 1 else None
        pending.watch = Watch(references, batch, deadline, settled)
        self._settler.watch(pending.watch)
        return pending

    def _results(
        self, pending: _Waiting, stored: dict[str, ItemOutcome] | None = None
    ) -> SendResult | BatchResult:
        """Worker thread: the results as the synchronous bridge builds them."""
        if stored is None:
            stored = self.bridge.store.outcomes(pending.references)
        results = [self.bridge.answers.result(r, stored.get(r)) for r in pending.references]
        raise_request_error(results)
        merged = merge_results(len(pending.message.to), pending.prepared.refused, results)
        if pending.single and len(merged) == 1:
            return merged[0]
        return BatchResult(merged, duplicates=pending.prepared.duplicates)

    async def _await_watch(self, watch: Watch | None) -> None:
        """Wait for the settler's word, or the watch's deadline."""
        if watch is None:
            return
        try:
            async with asyncio.timeout_at(_loop_time(watch.deadline)):
                await asyncio.shield(watch.future)
        except TimeoutError:
            self._settler.forget(watch)
        # A cancellation raises out of the shield above and leaves the watch registered:
        # the settler keeps working the items until they settle or the deadline passes.

    # -- the outbox ------------------------------------------------------------------

    async def status(self, reference: str) -> History | None:
        """A message's record: the item, every attempt and every delivery report.

        Args:
            reference: The client reference (a batch recipient's own reference).

        Returns:
            The history, or ``None`` for an unknown reference.
        """
        return await self._run(self.bridge.store.history, reference)

    async def resume(self, timeout: float | None = None, *, patience: float = 60.0) -> Summary:
        """Finish whatever a previous run left in the outbox, as
        :meth:`SmsBridge.resume <smsbridge.SmsBridge.resume>` does.

        It takes this bridge's own leases back first, so it starts once the sends being
        handed over have been, and sends started meanwhile are handed over after it.

        Returns:
            The outbox's state (:class:`~smsbridge.dispatch.Summary`).
        """
        self._check_open()

        def alone() -> Summary:
            with self._settler.round_lock:
                return self.bridge.resume(timeout, patience=patience)

        return await self._jobs.exclusive(alone)

    async def quote(
        self,
        message_or_batch: Message | Batch,
        providers: Sequence[str | Provider] | None = None,
        **options: Any,
    ) -> Quote:
        """What sending would cost through each provider; sends nothing.

        As :meth:`SmsBridge.quote <smsbridge.SmsBridge.quote>` (provider quote APIs are
        asked from the worker threads).
        """
        return await self._run(self.bridge.quote, message_or_batch, providers, **options)

    # -- threads ---------------------------------------------------------------------

    def _hand_over(
        self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Future[T]:
        """Queue a write for the worker threads. It runs to its end even if the caller is
        cancelled (see :mod:`smsbridge.aio.jobs`); ``resume`` and ``close`` wait for it."""
        return self._jobs.shared(functools.partial(fn, *args, **kwargs))

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking read on the worker threads."""
        self._check_open()
        return await self._jobs.shared(functools.partial(fn, *args, **kwargs))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this AsyncSmsBridge is closed")

    async def close(self) -> None:
        """Wait for the messages being handed over, stop the settler, close the bridge
        (providers, and the store if it opened it). Safe to call twice.

        Items still waiting stay in the outbox for :meth:`resume`.
        """
        if self._closed:
            return
        self._closed = True
        await self._jobs.wait_all()
        try:
            await self._jobs.exclusive(self._close_threads)
        finally:
            self._executor.shutdown(wait=False)

    def _close_threads(self) -> None:
        self._settler.stop()
        self.bridge.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.close()
            return
        # A store that failed the block usually fails the release of the leases too;
        # that second error must not hide the first (the leases simply expire).
        with contextlib.suppress(OutboxError):
            await self.close()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"<AsyncSmsBridge providers=[{names}]>"


def _loop_time(deadline: float) -> float:
    """A ``time.monotonic()`` deadline on the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline - time.monotonic())
