"""``SmsBridge``: the application's entry point.

It validates and normalises what the application hands it, gives every message a client
reference before the first attempt, calls a provider, and turns everything into
per-recipient results. An invalid number or a missing template variable fails that
recipient alone; the rest of the batch goes on.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

import attrs

from smsbridge.errors import ConfigurationError, InvalidNumberError, SmsBridgeError
from smsbridge.model import Batch, Message, Recipient
from smsbridge.numbers import NumberNormaliser
from smsbridge.plugins import PluginManager, default_plugin_manager
from smsbridge.provider import Provider
from smsbridge.results import BatchResult, SendResult
from smsbridge.router import Delivery, Policy, RetryPolicy, Router
from smsbridge.status import Status

__all__ = ["SmsBridge", "new_reference"]


def new_reference() -> str:
    """A fresh client reference: 20 hex characters, short enough for every provider."""
    return secrets.token_hex(10)


class SmsBridge:
    """Send messages through configured providers.

    Args:
        providers: Provider instances, or registered names (built with default
            options), in order of preference.
        region: Default region for numbers written without a country code (``"GB"``).
        strict_numbers: Refuse numbers that are possible but not assigned.
        plugin_manager: Where to look up provider names and event hooks; the default
            manager with every installed plugin when ``None``.
        policy: The routing policy (priority order by default).
        retry: Attempt budget and backoff for transient failures.
        delivery: What to do with unknown outcomes: report them (at-most-once, the
            default) or resend (at-least-once).
        max_wait: Longest total time one ``send`` sleeps between retries.

    Raises:
        ConfigurationError: When no provider is given or a name is unknown.
    """

    def __init__(
        self,
        providers: Sequence[Provider | str],
        *,
        region: str | None = None,
        strict_numbers: bool = False,
        plugin_manager: PluginManager | None = None,
        policy: Policy | None = None,
        retry: RetryPolicy | None = None,
        delivery: Delivery = Delivery.AT_MOST_ONCE,
        max_wait: float = 10.0,
    ) -> None:
        if not providers:
            raise ConfigurationError("SmsBridge needs at least one provider")
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
        hook = self.plugin_manager.hook
        self.router = Router(
            self.providers,
            policy=policy,
            retry=retry,
            delivery=delivery,
            max_wait=max_wait,
            on_attempt=lambda p, m: hook.smsbridge_before_send(provider=p.name, message=m),
            on_failure=lambda p, m, e: hook.smsbridge_send_failed(
                provider=p.name, message=m, error=e
            ),
            on_results=lambda p, r: hook.smsbridge_after_send(provider=p.name, results=r),
        )

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

    def send(self, message: Message) -> SendResult | BatchResult:
        """Send a message.

        Returns:
            A :class:`SendResult` for a single recipient, a :class:`BatchResult` for
            several. Invalid numbers are per-recipient results with status
            ``INVALID_NUMBER``; they are never sent.

        Raises:
            SmsBridgeError: When the provider request failed as a whole.
        """
        reference = message.reference or new_reference()
        valid: list[str] = []
        refused: dict[int, SendResult] = {}
        seen: set[str] = set()
        duplicates = 0
        for index, number in enumerate(message.to):
            try:
                e164 = self.normalise(number)
            except InvalidNumberError as exc:
                refused[index] = _refused(number, reference, exc)
                continue
            if e164 in seen:
                duplicates += 1
                continue
            seen.add(e164)
            valid.append(e164)
        results: list[SendResult] = []
        if valid:
            prepared = attrs.evolve(message, to=tuple(valid), reference=reference)
            results = self.router.send(prepared)
        merged = _merge(len(message.to), refused, results)
        if len(message.to) == 1 and len(merged) == 1:
            return merged[0]
        return BatchResult(merged, duplicates=duplicates)

    def send_batch(self, batch: Batch) -> BatchResult:
        """Send a batch and collect every recipient's result.

        For very large batches prefer :meth:`iter_send_batch`, which does not keep the
        results in memory.
        """
        counter = _DuplicateCounter()
        results = tuple(self.iter_send_batch(batch, _duplicates=counter))
        return BatchResult(results, duplicates=counter.count)

    def iter_send_batch(
        self, batch: Batch, *, _duplicates: _DuplicateCounter | None = None
    ) -> Iterator[SendResult]:
        """Send a batch, yielding each recipient's result as soon as it is known.

        Recipients are normalised and de-duplicated on the fly; invalid ones are
        yielded as ``INVALID_NUMBER`` results and never reach the provider.
        """
        prefix = batch.reference or new_reference()
        rejected: deque[SendResult] = deque()
        duplicates = _duplicates if _duplicates is not None else _DuplicateCounter()

        def prepared() -> Iterator[Recipient]:
            seen: set[str] = set()
            for index, recipient in enumerate(batch, start=1):
                reference = recipient.reference or f"{prefix}-{index}"
                try:
                    e164 = self.normalise(recipient.number)
                except InvalidNumberError as exc:
                    rejected.append(_refused(recipient.number, reference, exc))
                    continue
                if e164 in seen:
                    duplicates.count += 1
                    continue
                seen.add(e164)
                yield Recipient(e164, recipient.variables, reference)

        provider = self.primary
        clean = attrs.evolve(batch, recipients=_Once(prepared()), reference=prefix)
        try:
            for result in provider.send_batch(clean):
                yield from _drain(rejected)
                yield result
        except SmsBridgeError as exc:
            self.plugin_manager.hook.smsbridge_send_failed(
                provider=provider.name, message=batch, error=exc
            )
            raise
        yield from _drain(rejected)

    def close(self) -> None:
        """Close every provider's connections."""
        for provider in self.providers:
            provider.close()

    def __enter__(self) -> SmsBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.providers)
        return f"<SmsBridge providers=[{names}]>"


class _DuplicateCounter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class _Once:
    """An iterable over a generator that refuses a second pass instead of yielding nothing."""

    def __init__(self, items: Iterator[Recipient]) -> None:
        self._items: Iterator[Recipient] | None = items

    def __iter__(self) -> Iterator[Recipient]:
        if self._items is None:
            raise RuntimeError("a prepared batch can be iterated only once")
        items, self._items = self._items, None
        return items


def _refused(number: str, reference: str, exc: SmsBridgeError) -> SendResult:
    return SendResult(
        number,
        Status.INVALID_NUMBER,
        reference=reference,
        error=exc.info(),
        attempts=0,
    )


def _drain(pending: deque[SendResult]) -> Iterable[SendResult]:
    while pending:
        yield pending.popleft()


def _merge(
    count: int, refused: dict[int, SendResult], results: list[SendResult]
) -> list[SendResult]:
    sent = iter(results)
    merged: list[SendResult] = []
    for index in range(count):
        if index in refused:
            merged.append(refused[index])
        else:
            nxt = next(sent, None)
            if nxt is not None:
                merged.append(nxt)
    merged.extend(sent)
    return merged
