"""Pieces the dispatcher is built from: item references, shared breakers, chunk ids.

Not all of it is BulkSMS-specific, but the chunk support follows the shape of a provider
that builds its requests as stored values ("chunks") before sending them: such a
provider has ``plan_messages(messages)`` (yielding chunks and refused results),
``send_chunk(chunk)``, and an ``allocator`` attribute handing out the id each chunk
carries (BulkSMS ``stop_dup_id``). The dispatcher gives it a :class:`StoreAllocator`, so
those ids come from a durable counter in the outbox, never from a hash.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

import attrs

from smsbridge.errors import ErrorInfo, InvalidMessageError, Kind, Scope
from smsbridge.model import Message, SendOptions, Template
from smsbridge.outbox.base import BreakerState as StoredBreakerState
from smsbridge.outbox.base import BreakerStore, OutboxItem, OutboxStore
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import BreakerState

__all__ = [
    "TEMPLATE_KEY",
    "VARIABLES_KEY",
    "ChunkingProvider",
    "OutboxBreakerStorage",
    "StoreAllocator",
    "as_chunking",
    "item_message",
    "item_references",
    "stored_options",
]

# An outbox item stores a text, not a template; for platforms that send only templates
# the template and its values ride along in these reserved keys of ``options.extra``.
TEMPLATE_KEY = "smsbridge_template"
VARIABLES_KEY = "smsbridge_variables"


def stored_options(
    options: SendOptions, template: Template | None, variables: Mapping[str, Any]
) -> SendOptions:
    """``options`` as an outbox item keeps them, with the template folded in."""
    if template is None:
        return options
    extra = dict(options.extra)
    extra[TEMPLATE_KEY] = {"text": template.text, "provider_ids": dict(template.provider_ids)}
    extra[VARIABLES_KEY] = dict(variables)
    return attrs.evolve(options, extra=extra)


_MAX_REFERENCE = 64
_COUNTER_HIGH = 2**31 - 1


def item_references(message: Message) -> list[str]:
    """The outbox references of a message's recipients, in ``message.to`` order.

    One recipient keeps the message reference; several get ``"<reference>-<i>"``
    (0-based), shortened through a hash when that would exceed 64 characters.

    Args:
        message: A prepared message (reference set).

    Returns:
        One reference per recipient.

    Raises:
        InvalidMessageError: When the message has no reference (it is not prepared).
    """
    reference = message.reference
    if reference is None:
        raise InvalidMessageError(
            "a dispatched message needs a client reference", field="reference", value=None
        )
    if len(message.to) == 1:
        return [reference]
    suffix_room = len(str(len(message.to) - 1)) + 1
    stem = reference
    if len(stem) + suffix_room > _MAX_REFERENCE:
        stem = hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]
    return [f"{stem}-{index}" for index in range(len(message.to))]


def item_message(item: OutboxItem) -> Message:
    """The one-recipient message an outbox item stands for.

    Args:
        item: The item.

    Returns:
        A message to ``item.recipient`` carrying the item's reference.
    """
    options = item.options
    template: Template | None = None
    variables: Mapping[str, Any] = {}
    stored = options.extra.get(TEMPLATE_KEY)
    if isinstance(stored, Mapping):
        extra = dict(options.extra)
        del extra[TEMPLATE_KEY]
        raw = extra.pop(VARIABLES_KEY, {})
        variables = raw if isinstance(raw, Mapping) else {}
        template = Template(str(stored["text"]), provider_ids=stored.get("provider_ids") or {})
        options = attrs.evolve(options, extra=extra)
    return Message(
        to=(item.recipient,),
        body=item.body,
        sender=item.sender,
        reference=item.reference,
        options=options,
        template=template,
        variables=variables,
    )


class OutboxBreakerStorage:
    """Breaker states kept in an outbox store, so every worker on it shares them.

    Args:
        store: The outbox.
    """

    def __init__(self, store: BreakerStore) -> None:
        self.store = store

    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's stored state."""
        stored = self.store.get_breaker(provider)
        return BreakerState(stored.state, stored.failures, stored.opened_at)

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        """Store the provider's state for every worker."""
        self.store.put_breaker(
            provider, StoredBreakerState(state.state, state.failures, state.opened_at)
        )


class StoreAllocator:
    """Chunk ids (BulkSMS ``stop_dup_id``) from a durable counter in the outbox.

    Implements the provider's allocator protocol (``allocate() -> int``). The first
    value a process takes is at least a clock-derived start (milliseconds, wrapped into
    the range), so a fresh or restored outbox file does not hand out ids a gateway saw
    within its de-duplication window; after that the stored counter goes up by one.

    Args:
        store: The outbox holding the counter.
        name: The counter's name, e.g. ``"bulksms:stop_dup_id"``.
        high: The largest id (the counter wraps back to 1 after it).
        clock: Wall-clock seconds, for the start.
    """

    def __init__(
        self,
        store: OutboxStore,
        name: str,
        *,
        high: int = _COUNTER_HIGH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.high = high
        self._clock = clock
        self._seeded = False
        self._lock = threading.Lock()
        self._local = threading.local()

    def allocate(self) -> int:
        """The next id: the replayed one inside :meth:`replaying`, else a new one.

        Raises:
            OutboxError: For database errors.
        """
        forced: int | None = getattr(self._local, "forced", None)
        if forced is not None:
            return forced
        with self._lock:
            low = 1
            if not self._seeded:
                low = int(self._clock() * 1000) % self.high + 1
                self._seeded = True
        value = self.store.allocate(self.name, low=low, high=self.high)
        taken: list[int] | None = getattr(self._local, "taken", None)
        if taken is not None:
            taken.append(value)
        return value

    @contextmanager
    def recording(self) -> Iterator[list[int]]:
        """Collect the ids this thread allocates inside the block, in order."""
        taken: list[int] = []
        self._local.taken = taken
        try:
            yield taken
        finally:
            self._local.taken = None

    @contextmanager
    def replaying(self, value: int) -> Iterator[None]:
        """Inside the block this thread's :meth:`allocate` returns ``value`` again, so
        a chunk rebuilt from its items carries the id it was first sent with."""
        self._local.forced = value
        try:
            yield
        finally:
            self._local.forced = None

    def __repr__(self) -> str:
        return f"StoreAllocator({self.name!r})"


class ChunkMember(Protocol):
    """One recipient of a chunk."""

    @property
    def reference(self) -> str | None: ...

    @property
    def number(self) -> str: ...


class Chunk(Protocol):
    """A provider request built ahead of sending (see the module docstring)."""

    @property
    def body(self) -> bytes: ...

    @property
    def recipients(self) -> Sequence[ChunkMember]: ...


class ChunkingProvider(Protocol):
    """The chunk operations a provider may offer (duck-typed; BulkSMS has them)."""

    name: str
    allocator: Any

    def plan_messages(self, messages: Iterable[Message]) -> Iterator[Chunk | SendResult]: ...

    def send_chunk(self, chunk: Any) -> list[SendResult]: ...


def as_chunking(provider: Provider) -> ChunkingProvider | None:
    """The provider as a :class:`ChunkingProvider`, or ``None`` when it is not one.

    Args:
        provider: Any provider.

    Returns:
        The same object, typed, when it builds and sends stored chunks.
    """
    if (
        callable(getattr(provider, "plan_messages", None))
        and callable(getattr(provider, "send_chunk", None))
        and hasattr(provider, "allocator")
    ):
        return cast("ChunkingProvider", provider)
    return None


def no_result_error() -> ErrorInfo:
    """The error recorded when a provider's answer left a recipient out."""
    return ErrorInfo(
        "no-result",
        "the provider returned no result for the recipient",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
    )


def unknown_error(provider: Provider) -> ErrorInfo:
    """The error recorded for an ``UNKNOWN`` result without one of its own."""
    return ErrorInfo(
        "unknown-outcome",
        f"{provider.name} gave no usable answer",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
    )


NO_PROVIDER = ErrorInfo(
    "no-provider",
    "no provider may take the message now (breakers open)",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)

NO_CARRIER = ErrorInfo(
    "no-provider",
    "no configured provider can carry this message (template-only platforms need an "
    "approved template, scheduling needs a provider that schedules)",
    scope=Scope.REQUEST,
    kind=Kind.PERMANENT,
)

INTERRUPTED = ErrorInfo(
    "interrupted",
    "the attempt was interrupted before its outcome was recorded",
    scope=Scope.PROVIDER,
    kind=Kind.TRANSIENT,
)

NOT_REBUILT = ErrorInfo(
    "chunk-changed",
    "the stored request could not be rebuilt byte for byte; not resending",
    scope=Scope.PROVIDER,
    kind=Kind.PERMANENT,
)


def with_attempts(result: SendResult, attempts: int) -> SendResult:
    """``result`` with its attempt count replaced."""
    return SendResult(
        result.recipient,
        result.status,
        provider=result.provider,
        message_id=result.message_id,
        reference=result.reference,
        parts=result.parts,
        cost=result.cost,
        error=result.error,
        attempts=attempts,
    )
