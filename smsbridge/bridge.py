"""``SmsBridge``: the application's entry point.

It validates and normalises what the application hands it, gives every message a client
reference, writes it to the durable outbox before the first attempt, and works the
outbox until the message is settled or ``max_wait`` runs out. Results come from the
outbox, so they say what is recorded, and anything still waiting stays there for
:meth:`SmsBridge.resume`. An invalid number or a template error fails that recipient
alone; the rest of the batch goes on.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal, overload

from smsbridge.dispatch import Dispatcher
from smsbridge.dispatch.answers import (
    DuplicateCounter,
    OutboxAnswers,
    merge_results,
    raise_request_error,
)
from smsbridge.dispatch.prepare import batch_entries, prepare_message, send_arguments
from smsbridge.dispatch.summary import Summary
from smsbridge.errors import (
    ConfigurationError,
)
from smsbridge.limits import Limit
from smsbridge.model import Batch, Message, SendOptions
from smsbridge.numbers import NumberNormaliser
from smsbridge.observe.relay import EventRelay
from smsbridge.outbox import (
    History,
    ItemOutcome,
    NewItem,
    OutboxError,
    OutboxStore,
    SqliteStore,
    StorageError,
)
from smsbridge.outbox.factory import open_store
from smsbridge.plugins import PluginManager, default_plugin_manager
from smsbridge.progress import ProgressCallback, WindowTracker
from smsbridge.provider import Provider
from smsbridge.reports.receiver import ReportReceiver
from smsbridge.results import BatchResult, DeliveryReport, SendResult
from smsbridge.router import Delivery, Policy, RetryPolicy, Router, SendHooks

if TYPE_CHECKING:
    from smsbridge.pricing import Quote

__all__ = ["SmsBridge", "new_reference"]


def new_reference() -> str:
    """A fresh client reference: 20 hex characters, short enough for every provider."""
    return secrets.token_hex(10)


class SmsBridge:
    """Send messages through configured providers, durably.

    Args:
        providers: Provider instances, or registered names (built with default
            options), in order of preference.
        store: The outbox: a store object (left open by :meth:`close`), a SQLite file
            path (``":memory:"`` for a private, ephemeral one), a URL
            (``postgresql://...``, ``sqlite:///...``), or ``None`` for
            :func:`smsbridge.outbox.default_path` (``$SMSBRIDGE_HOME`` or the per-user
            data directory).
        region: Default region for numbers written without a country code (``"GB"``).
        strict_numbers: Refuse numbers that are possible but not assigned.
        plugin_manager: Where to look up provider names and event hooks; the default
            manager with every installed plugin when ``None``.
        policy: The routing policy (priority order by default).
        retry: Attempt budget and backoff for transient failures.
        delivery: What to do with unknown outcomes: report them (at-most-once, the
            default) or resend (at-least-once).
        max_wait: Longest time one ``send`` (or one window of a batch) works the outbox
            before returning what is still waiting as ``QUEUED``.
        owner: This process's lease name; unique per bridge by default, so any number
            of processes may share an outbox (see :class:`~smsbridge.dispatch.
            Dispatcher`).
        concurrency: Requests in flight at once, across providers.
        limits: Per provider name: rate and concurrency (:class:`~smsbridge.limits.Limit`).
        batch_window: Recipients of a batch written and dispatched together.
        durability: For an outbox this bridge opens from a path: ``"normal"`` (the
            default; SQLite ``synchronous=NORMAL`` in WAL mode) keeps every committed
            attempt through a crash or ``kill -9`` of the process and may lose only the
            last commits if the operating system crashes or the power fails;
            ``"full"`` (``synchronous=FULL``) also keeps them then, at the cost of one
            disk flush per commit. Ignored for a store object passed in (it was
            configured by whoever opened it). See ``docs/outbox.md``.

    Raises:
        ConfigurationError: When no provider is given, a name is unknown, or
            ``durability`` is neither ``"normal"`` nor ``"full"``.
        OutboxError: When the outbox cannot be opened.

    Attributes:
        answers: How a waiting ``send`` reads its items in the outbox; the async bridge
            reads them through the same object.
    """

    def __init__(
        self,
        providers: Sequence[Provider | str],
        *,
        store: OutboxStore | str | os.PathLike[str] | None = None,
        region: str | None = None,
        strict_numbers: bool = False,
        plugin_manager: PluginManager | None = None,
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
        if not providers:
            raise ConfigurationError("SmsBridge needs at least one provider")
        if durability not in ("normal", "full"):
            raise ConfigurationError(f"durability must be 'normal' or 'full', not {durability!r}")
        self._manager = plugin_manager
        built: list[Provider] = []
        for item in providers:
            if isinstance(item, Provider):
                built.append(item)
            elif isinstance(item, str):
                built.append(self.plugin_manager.registry.get(item).from_options())
            else:
                raise ConfigurationError(
                    f"providers must be Provider instances or names, not {type(item).__name__}"
                )
        self.providers: tuple[Provider, ...] = tuple(built)
        self.normalise = NumberNormaliser(region, strict_numbers)
        self.max_wait = max_wait
        self.batch_window = batch_window
        # Wired once, here: every request of every path reaches the plugins through the
        # router's hooks; a request's message is built only while a plugin listens.
        relay = EventRelay(self.plugin_manager.hook, self.providers)
        hooks = SendHooks(
            on_attempt=relay.before_send,
            on_failure=relay.send_failed,
            on_results=relay.after_send,
            listening=relay.wants_messages,
            events=relay,
        )
        self.router = Router(
            self.providers,
            policy=policy,
            retry=retry,
            delivery=delivery,
            max_wait=max_wait,
            hooks=hooks,
        )
        self._owns_store = not isinstance(store, OutboxStore)
        self.store: OutboxStore
        if isinstance(store, OutboxStore):
            self.store = store
        elif isinstance(store, str) and "://" in store:
            self.store = open_store(store)  # postgresql://..., sqlite:///...
        else:
            self.store = SqliteStore(
                store, synchronous="FULL" if durability == "full" else "NORMAL"
            )
        try:
            self.dispatcher = Dispatcher(
                self.router,
                self.store,
                owner=owner,
                concurrency=concurrency,
                limits=limits,
            )
        except BaseException:
            if self._owns_store:
                self.store.close()
            raise
        self.answers = OutboxAnswers(self.store, self.dispatcher)
        self._pushed: ReportReceiver | None = None
        self._pushed_lock = threading.Lock()
        for provider in self.providers:
            provider.attach_report_sink(self._record_pushed)

    def _record_pushed(self, report: DeliveryReport) -> None:
        """A report a provider received on its own connection (SMPP receipts): stored
        and announced as a callback's would be."""
        with self._pushed_lock:
            if self._pushed is None:
                self._pushed = ReportReceiver(
                    [], store=self.store, auth={}, plugin_manager=self.plugin_manager
                )
        self._pushed.record(report)

    @property
    def plugin_manager(self) -> PluginManager:
        """The plugin manager whose hooks this bridge calls."""
        if self._manager is None:
            self._manager = default_plugin_manager()
        return self._manager

    @property
    def primary(self) -> Provider:
        """The provider tried first."""
        return self.providers[0]

    # -- sending ---------------------------------------------------------------------

    @overload
    def send(
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
    def send(
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
    def send(self, message: Message, /) -> SendResult | BatchResult: ...

    def send(
        self,
        message: Message | str | list[str] | tuple[str, ...],
        body: str | None = None,
        /,
        *,
        sender: str | None = None,
        reference: str | None = None,
        options: SendOptions | None = None,
    ) -> SendResult | BatchResult:
        """Write a message to the outbox and work it until settled or ``max_wait``.

        ``send("07700 900123", "Your code is 4829")`` (one number) returns a
        :class:`SendResult`, ``send(["+44...", "+33..."], "Hi")`` (a list or tuple) a
        :class:`BatchResult`, and type checkers know which. ``send(Message(...))``
        returns a :class:`SendResult` when the message has one recipient, a
        :class:`BatchResult` otherwise; its static type is the union.

        Args:
            message: A :class:`~smsbridge.Message`, or the recipient(s) when ``body``
                is given.
            body: The text, when recipients are given directly.
            sender: Sender id (direct form only).
            reference: Client reference (direct form only).
            options: :class:`~smsbridge.SendOptions` (direct form only).

        Returns:
            The result(s). Invalid numbers are results with status ``INVALID_NUMBER``,
            never sent; recipients still waiting are ``QUEUED`` with their last error
            and stay in the outbox for :meth:`resume`.

        Raises:
            ProviderError: When every recipient was refused with a request-scope error
                (the input itself is wrong; no provider would take it).
            InvalidMessageError: For a message that cannot be built (empty body...).
            TypeError: For a ``Message`` given with ``body`` or direct-form options,
                or recipients without a body.
            OutboxError: For outbox failures.
        """
        build, single = send_arguments(message, body, sender, reference, options)
        return self._send(build(), single=single)

    def _send(self, message: Message, *, single: bool) -> SendResult | BatchResult:
        prepared = prepare_message(message, self.normalise, message.reference or new_reference())
        results: list[SendResult] = []
        if prepared.items:
            stored = self.answers.write(prepared.items)
            references = [item.reference for item in prepared.items]
            if any(self.answers.waiting(item) for item in stored.values()):
                batch = prepared.reference if len(references) > 1 else None
                self._settle(references, batch)
                stored = self.store.outcomes(references)
            results = [
                self.answers.result(reference, stored.get(reference)) for reference in references
            ]
            raise_request_error(results)
        merged = merge_results(len(message.to), prepared.refused, results)
        if single and len(merged) == 1:
            return merged[0]
        return BatchResult(merged, duplicates=prepared.duplicates)

    def send_batch(
        self,
        batch: Batch,
        *,
        progress: ProgressCallback | None = None,
        message_deadline: float | None = None,
    ) -> BatchResult:
        """Send a batch and collect every recipient's result.

        For very large batches prefer :meth:`iter_send_batch`, which does not keep the
        results in memory.

        Args:
            batch: The batch.
            progress: As for :meth:`iter_send_batch`.
            message_deadline: As for :meth:`iter_send_batch`.
        """
        counter = DuplicateCounter()
        results = tuple(
            self.iter_send_batch(
                batch, progress=progress, message_deadline=message_deadline, _duplicates=counter
            )
        )
        return BatchResult(results, duplicates=counter.count)

    def iter_send_batch(
        self,
        batch: Batch,
        *,
        progress: ProgressCallback | None = None,
        message_deadline: float | None = None,
        _duplicates: DuplicateCounter | None = None,
    ) -> Iterator[SendResult]:
        """Send a batch through the outbox, yielding results window by window.

        Recipients are normalised, de-duplicated and rendered as the batch streams;
        invalid numbers and template errors are yielded as results and never written.
        Each window of ``batch_window`` recipients is written in batched commits, then
        dispatched (grouped into multi-recipient requests where the provider allows)
        until settled or ``max_wait``.

        Args:
            batch: The batch.
            progress: Called each time results become known, long before the window
                ends, with a :class:`~smsbridge.progress.BatchProgress`: sent, failed
                and queued counts so far and the new results (a progress bar, an
                ``ID: ...`` line per message).
            message_deadline: Seconds a message may take from its first attempt before
                it is yielded as ``QUEUED`` (error code ``message-deadline``) instead of
                holding up its window; it stays in the outbox for :meth:`resume`.

        Raises:
            StorageError: When the outbox fails (full, read-only...) while writing or
                dispatching. ``written`` counts the batch's items in the outbox (added
                by this call or already there): running the same batch (same
                references) again adds the rest and sends nothing twice.
            OutboxError: For other outbox failures.
        """
        prefix = batch.reference or new_reference()
        duplicates = _duplicates if _duplicates is not None else DuplicateCounter()
        tracker = None
        if progress is not None or message_deadline is not None:
            tracker = WindowTracker(
                self.store,
                result=self.answers.result,
                waiting=self.answers.waiting,
                callback=progress,
                deadline=message_deadline,
                claim=self.dispatcher.concurrency
                * max(p.capabilities.max_recipients_per_request for p in self.providers),
            )
        entries = batch_entries(batch, self.normalise, prefix)
        written = 0
        while True:
            window = list(islice(entries, self.batch_window))
            if not window:
                return
            items = [entry for entry in window if isinstance(entry, NewItem)]
            repeated: frozenset[str] = frozenset()
            stored: dict[str, ItemOutcome] = {}
            references: list[str] = []
            worked = False
            try:
                started = time.monotonic()
                if items and tracker is None:
                    # Written leased to this process and worked at once: no claim, and
                    # the outcomes come back from the commits that settled them.
                    added = self.dispatcher.add_and_work(items, stored)
                    worked = True
                elif items:
                    added = self.store.add(items, now=self.dispatcher.clock())
                if items:
                    written += added.added + added.existing
                    repeated = frozenset(added.duplicates)
                    duplicates.count += len(repeated)
                    references = [i.reference for i in items if i.reference not in repeated]
                if tracker is not None:
                    tracker.begin(references, [e for e in window if isinstance(e, SendResult)])
                unsettled = [
                    r for r in references if r not in stored or self.answers.waiting(stored[r])
                ]
                if unsettled:
                    # max_wait counts from the window's first step, wherever it was made:
                    # a window worked already gets no more rounds once it has passed.
                    if not worked or time.monotonic() < started + self.max_wait:
                        self._settle(unsettled, prefix, tracker, started)
                    stored.update(self.store.outcomes(unsettled))
                if tracker is not None:
                    tracker.finish(stored)
            except StorageError as exc:
                # add counts its own call; the windows before it are all in the outbox.
                exc.count(written + (exc.written or 0))
                raise
            for entry in window:
                if isinstance(entry, SendResult):
                    yield entry
                elif tracker is not None and entry.reference in tracker.results:
                    yield tracker.results[entry.reference]
                elif entry.reference not in repeated:
                    yield self.answers.result(entry.reference, stored.get(entry.reference))

    def quote(
        self,
        message_or_batch: Message | Batch,
        providers: Sequence[str | Provider] | None = None,
        **options: Any,
    ) -> Quote:
        """What sending would cost through each of this bridge's providers; sends nothing.

        Args:
            message_or_batch: What would be sent.
            providers: Names or instances of this bridge's providers to compare; all of
                them when ``None``.
            **options: As for :func:`smsbridge.pricing.quote` (``table``, ``rates``,
                ``currency``, ``use_provider_api``, ``progress``).

        Returns:
            The :class:`~smsbridge.pricing.Quote`, with :meth:`~smsbridge.pricing.Quote.
            cheapest` and rows for export.
        """
        from smsbridge.pricing import bridge_quote

        options.setdefault("table", None)
        return bridge_quote(self, message_or_batch, providers, **options)

    # -- the outbox ------------------------------------------------------------------

    def status(self, reference: str) -> History | None:
        """A message's record: the item, every attempt and every delivery report.

        Args:
            reference: The client reference (a batch recipient's own reference).

        Returns:
            The history, or ``None`` for an unknown reference.
        """
        return self.store.history(reference)

    def resume(self, timeout: float | None = None, *, patience: float = 60.0) -> Summary:
        """Finish whatever a previous run left in the outbox (e.g. after a crash).

        Works until nothing is due within ``patience`` seconds (or ``timeout`` runs
        out). In-flight items are reconciled with the provider they went to before
        anything is sent again; items another live process holds are left to it.

        Args:
            timeout: Most seconds to work; ``None`` for as long as there is work.
            patience: Longest wait for an item due later; later ones are reported.

        Returns:
            The outbox's state: settled items by status, and what is still unsettled
            and why (:attr:`Summary.complete` is False then).
        """
        return self.dispatcher.resume(timeout, patience=patience)

    def _settle(
        self,
        references: Sequence[str],
        batch: str | None,
        tracker: WindowTracker | None = None,
        started: float | None = None,
    ) -> None:
        """Work the outbox until these items are settled (or past their deadline, with a
        tracker) or ``max_wait`` passes from ``started`` (now by default); one round
        always runs."""
        deadline = (time.monotonic() if started is None else started) + self.max_wait
        while True:
            # With a tracker, a request's worth per round, so progress is seen per request.
            claimed = self.dispatcher.run_once(tracker.claim if tracker is not None else None)
            if (
                tracker.refresh()
                if tracker is not None
                else self.answers.settled(references, batch)
            ):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if not claimed:
                due = self.answers.next_due(references, batch)
                wait = 0.005 if due is None else due - self.dispatcher.clock()
                time.sleep(min(max(wait, 0.005), remaining, 1.0))

    def close(self) -> None:
        """Stop dispatching, close every provider, and close the store if this bridge
        opened it (a store passed in stays open). Safe to call twice."""
        try:
            self.dispatcher.close()
        finally:
            for provider in self.providers:
                provider.close()
            if self._owns_store:
                self.store.close()

    def __enter__(self) -> SmsBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[1] is None:
            self.close()
            return
        # A store that failed the block usually fails the release of the leases too;
        # that second error must not hide the first (the leases simply expire).
        with suppress(OutboxError):
            self.close()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"<SmsBridge providers=[{names}]>"
