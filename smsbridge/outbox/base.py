"""The outbox interface: value types and the store protocol every backend implements.

The outbox is the durable record behind "no message lost, none sent twice". Each
recipient's message is one *item*, keyed by its client reference, written before the
first attempt. Workers *claim* due items under a lease, record each attempt before the
request leaves (naming the provider, so an interrupted attempt is reconciled with that
provider and never silently re-sent elsewhere), then record the outcome. Delivery reports
update the same item later.

Every method takes the current time as an explicit ``now`` (seconds since the epoch, as
from :func:`time.time`): the store has no clock of its own, so tests drive it with a fake
one and several processes agree on lease expiry through the timestamps they pass.

The protocol is shaped for two backends: SQLite (one writer at a time, ``BEGIN
IMMEDIATE``) and PostgreSQL (``SELECT ... FOR UPDATE SKIP LOCKED`` in :meth:`claim`). No
method hands out a cursor or a transaction, so both fit behind it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol, Self, runtime_checkable

import attrs

from smsbridge.errors import ErrorInfo, Kind, SmsBridgeError
from smsbridge.model import SendOptions
from smsbridge.results import Cost, DeliveryReport, SendResult
from smsbridge.status import Status

__all__ = [
    "AddResult",
    "Attempt",
    "AttemptStore",
    "BreakerState",
    "BreakerStore",
    "Chunk",
    "ChunkStore",
    "CounterStore",
    "History",
    "ItemNotFoundError",
    "ItemState",
    "ItemStore",
    "LeaseError",
    "NewItem",
    "NewerSchemaError",
    "OutboxError",
    "OutboxItem",
    "OutboxStateError",
    "OutboxStore",
    "ReportStore",
    "StorageBusyError",
    "StorageError",
    "StorageFullError",
    "StorageIOError",
    "StorageReadOnlyError",
    "message_key",
    "next_status",
]


class OutboxError(SmsBridgeError):
    """The outbox could not do what was asked (database error, newer schema...).

    A ``TRANSIENT`` kind means the database was busy or locked: trying again may work.
    """


class NewerSchemaError(OutboxError):
    """The outbox's database was written by a newer smsbridge; nothing here touches it.

    Its tables may hold what this version cannot read or would corrupt, so the store
    refuses to open it. Upgrade smsbridge (or open another file or schema).

    Args:
        store: The file path, or the PostgreSQL schema's name.
        found: The version the database has.
        supported: The newest version this smsbridge knows.
    """

    def __init__(self, *, store: str, found: int, supported: int) -> None:
        self.store = store
        self.found = found
        self.supported = supported
        super().__init__(
            f"the outbox {store} has schema version {found}, newer than this smsbridge "
            f"understands ({supported}); upgrade smsbridge"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_newer_schema, (self.store, self.found, self.supported))


def _newer_schema(store: str, found: int, supported: int) -> NewerSchemaError:
    return NewerSchemaError(store=store, found=found, supported=supported)


_DOING: Mapping[str, str] = MappingProxyType(
    {
        "open": "opening it",
        "add": "adding items",
        "claim": "claiming items",
        "begin_attempt": "recording an attempt",
        "finish": "recording a result",
        "retry_later": "scheduling a retry",
        "mark_unknown": "recording an unknown outcome",
        "release": "releasing leases",
        "record_report": "recording a delivery report",
        "read": "reading items",
        "allocate": "advancing a counter",
        "save_chunk": "saving a request body",
        "load_chunk": "reading a request body",
        "get_breaker": "reading breaker state",
        "put_breaker": "saving breaker state",
        "set_meta": "recording a named value",
        "get_meta": "reading a named value",
    }
)
"""What each ``StorageError.operation`` is called in a message."""


class StorageError(OutboxError):
    """The outbox's database failed a read or a write: the storage, not the data.

    Nothing half-done is kept: every method is one transaction (``add`` one per chunk),
    so what was committed before the failure stays and the failed transaction is rolled
    back. The subclasses name the causes an operator can fix; this class itself covers
    any other database error. Messages name the store and the operation, so "which file
    is full?" never needs a debugger.

    Args:
        detail: The database's own words (``"database or disk is full"``).
        store: The file path, or the URL with its password replaced by ``***``: it
            appears in messages, so it must never carry a secret.
        operation: The store method that failed (``"add"``, ``"claim"``...; see
            :attr:`doing`), when known.
        written: For a write of many items: how many of the input's items are in the
            outbox (added now or already there) despite the failure.
        kind: ``TRANSIENT`` when trying again may work; the class default otherwise.
    """

    problem: ClassVar[str] = "failed"
    """What happened to the store, as a message says it after its name."""
    advice: ClassVar[str] = "read the database's message and check the outbox's disk"
    """What the operator should do before running the same work again."""

    def __init__(
        self,
        detail: str,
        *,
        store: str | None = None,
        operation: str | None = None,
        written: int | None = None,
        kind: Kind | None = None,
    ) -> None:
        self.detail = detail
        self.store = store
        self.operation = operation
        self.written = written
        super().__init__(self._render(), kind=kind)

    @property
    def doing(self) -> str:
        """The operation as a message says it (``"adding items"``)."""
        if self.operation is None:
            return "using it"
        return _DOING.get(self.operation, f"running {self.operation}")

    @property
    def headline(self) -> str:
        """``"outbox /var/lib/sms/outbox.sqlite3 is full (...) while adding items"``."""
        name = f"outbox {self.store}" if self.store else "the outbox"
        return f"{name} {self.problem} while {self.doing}"

    def locate(self, operation: str) -> Self:
        """Name the operation unless an inner call already did; returns ``self``.

        The store's public methods call this as the error passes through them, so the
        innermost (most precise) name wins.
        """
        if self.operation is None:
            self.operation = operation
            self._refresh()
        return self

    def count(self, written: int) -> Self:
        """Set :attr:`written` (a caller that wrote more before knows the larger
        total); returns ``self``."""
        self.written = written
        self._refresh()
        return self

    def _render(self) -> str:
        written = "" if self.written is None else f" ({self.written:,} written before it)"
        return f"{self.headline}{written}: {self.detail}"

    def _refresh(self) -> None:
        self.message = self._render()
        self.args = (self.message,)

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword arguments are not in args: rebuild from the detail, then restore.
        return (type(self), (self.detail,), self.__dict__)


class StorageFullError(StorageError):
    """No space left: the disk (or file system quota) is full, or SQLite reached its
    page limit. Free space; what was committed is kept."""

    problem = "is full (disk or database full)"
    advice = "free space"


class StorageReadOnlyError(StorageError):
    """The store refuses writes: a read-only file, folder or file system (including an
    immutable file, which SQLite may only report as an I/O error), or a database opened
    read-only. Reads still work."""

    problem = "is read-only"
    advice = "make the outbox file, its folder and its file system writable"


class StorageIOError(StorageError):
    """The disk failed a read or write for a reason not found to be space or
    permissions. Check the disk before trusting it again."""

    problem = "could not be read or written (I/O error)"
    advice = "check the disk (kernel log, file system) before running it again"


class StorageBusyError(StorageError):
    """Another process held the database's lock longer than the store's ``timeout``.
    ``TRANSIENT``: the same call may work later (the dispatcher retries it)."""

    default_kind = Kind.TRANSIENT
    problem = "is locked by another process"
    advice = "wait for the other writer, or raise the store's timeout"


class LeaseError(OutboxError):
    """The worker does not hold the lease on an item (never claimed, expired and taken
    by another worker, or released). The item is someone else's to finish now.

    Args:
        references: The items whose lease was missing.
    """

    def __init__(self, message: str, *, references: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.references = tuple(references)


class ItemNotFoundError(OutboxError, KeyError):
    """No item has this reference."""

    def __str__(self) -> str:
        # KeyError would otherwise quote the message like a key.
        return OutboxError.__str__(self)


class OutboxStateError(OutboxError):
    """The item is in a state that does not allow the operation (e.g. a new attempt on
    an item that is already done)."""


class ItemExistsError(OutboxStateError):
    """An item to be written with its first attempt is stored already (the same
    reference sent again): nothing was written; work it like any stored item."""


class ItemState(enum.Enum):
    """Where an item stands in the outbox's own life cycle (not the provider's status)."""

    PENDING = "pending"
    """Written, never attempted."""
    INFLIGHT = "inflight"
    """An attempt was recorded and no outcome yet. Claimed again after its lease
    expired, it means "the worker crashed mid-request": reconcile with ``provider``."""
    RETRY_WAIT = "retry_wait"
    """The last attempt failed in a way another attempt may fix; due at
    ``next_attempt_at``."""
    UNKNOWN = "unknown"
    """The last attempt's outcome is unknown (e.g. a timeout after the request left).
    Must be reconciled with ``provider`` before anything is re-sent."""
    DONE = "done"
    """Accepted by a provider or failed for good; only delivery reports change it now."""


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _non_empty(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty str, not {value!r}")


@attrs.frozen(slots=True, kw_only=True)
class NewItem:
    """A message for one recipient, as handed to :meth:`OutboxStore.add`.

    Args:
        reference: The client reference (idempotency key), unique in the store.
        recipient: The E.164 number.
        body: The text.
        sender: Sender id, or ``None`` for the account default.
        options: The message's :class:`~smsbridge.SendOptions`.
        batch: The batch reference this item belongs to, if any.
        next_attempt_at: Not claimed before this time; ``None`` means "now" at ``add``.
        options_json: ``options`` as the store writes them
            (:func:`smsbridge.outbox.codec.options_to_json`), when the caller has them
            encoded already: a template batch's rows share all their options but the
            values, so they are encoded once per batch, not once per recipient.
    """

    reference: str = attrs.field(validator=_non_empty)
    recipient: str = attrs.field(validator=_non_empty)
    body: str
    sender: str | None = None
    options: SendOptions = attrs.field(factory=SendOptions)
    batch: str | None = None
    next_attempt_at: float | None = None
    options_json: str | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True)
class OutboxItem:
    """One recipient's message and everything the outbox knows about it.

    Args:
        reference: The client reference (idempotency key).
        recipient: The E.164 number.
        body: The text.
        sender: Sender id or ``None``.
        options: The message's send options.
        batch: The batch reference, if any.
        state: The outbox life-cycle state.
        provider: Provider of the current or last attempt.
        status: The latest known provider status (from the result or a later report).
        message_id: The provider's id for the current or last attempt.
        parts: SMS parts billed, when the provider said.
        cost: The charge, when the provider said.
        attempts: How many attempts were recorded.
        next_attempt_at: When the item is due (again).
        created_at: When it was added.
        updated_at: When it last changed.
        lease_owner: The worker holding it, or ``None``.
        lease_until: When that lease expires.
        excluded_providers: Providers that refused it for good; failover skips them.
        last_error: The latest error, if any.
    """

    reference: str
    recipient: str
    body: str
    sender: str | None
    options: SendOptions
    batch: str | None
    state: ItemState
    provider: str | None
    status: Status | None
    message_id: str | None
    parts: int | None
    cost: Cost | None
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    lease_owner: str | None
    lease_until: float | None
    excluded_providers: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    last_error: ErrorInfo | None

    @property
    def needs_reconciliation(self) -> bool:
        """True when an earlier attempt may have reached ``provider`` without us
        learning the outcome: ask that provider (by reference) before re-sending, and
        never fail over to another one on a guess."""
        return self.state in (ItemState.INFLIGHT, ItemState.UNKNOWN)


@attrs.frozen(slots=True, kw_only=True)
class Attempt:
    """One submission of an item to a provider.

    Args:
        id: The store's id for the attempt (increasing in time).
        reference: The item's client reference.
        provider: The provider it went to.
        started_at: When it was recorded, just before the request left.
        finished_at: When its outcome was recorded; ``None`` while open.
        outcome: The status it ended with, if one is known.
        error: The error it ended with, if any.
        outcome_unknown: True when the request may have been acted upon but no usable
            answer came back (or the worker crashed mid-request).
    """

    id: int
    reference: str
    provider: str
    started_at: float
    finished_at: float | None = None
    outcome: Status | None = None
    error: ErrorInfo | None = None
    outcome_unknown: bool = False


@attrs.frozen(slots=True, kw_only=True)
class History:
    """An item with its attempts and delivery reports, oldest first.

    Args:
        item: The item as it stands.
        attempts: Every attempt recorded for it.
        reports: Every delivery report matched to it, applied or not.
    """

    item: OutboxItem
    attempts: tuple[Attempt, ...]
    reports: tuple[DeliveryReport, ...]


@attrs.frozen(slots=True, kw_only=True)
class ItemOutcome:
    """Where an item stands, without its message (text, sender, options).

    What a sender reports back for each recipient of a batch: reading only these
    columns spares decoding every recipient's options (and template variables).
    The attributes are those of :class:`OutboxItem` of the same names.
    """

    reference: str
    recipient: str
    state: ItemState
    provider: str | None
    status: Status | None
    message_id: str | None
    parts: int | None
    cost: Cost | None
    attempts: int
    next_attempt_at: float
    updated_at: float
    last_error: ErrorInfo | None


@attrs.frozen(slots=True)
class AddResult:
    """What :meth:`OutboxStore.add` did.

    Args:
        added: Items written.
        existing: Items skipped because their reference was already stored (or repeated
            in the same input).
        duplicates: References of items skipped because their batch already holds their
            number under another reference (a number repeated in a batch is sent once).
        leased: References written leased to the caller (``add(..., lease=...)``).
    """

    added: int
    existing: int
    duplicates: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    leased: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen(slots=True)
class BreakerState:
    """A provider's circuit-breaker state, shared by every worker using the store.

    Args:
        state: ``"closed"``, ``"open"`` or ``"half-open"`` (the router owns the meaning).
        failures: Consecutive failures counted so far.
        opened_at: When the breaker last opened, or ``None``.
    """

    state: str = "closed"
    failures: int = 0
    opened_at: float | None = None


class Chunk(NamedTuple):
    """A provider request body stored so that a resend is byte-identical.

    Args:
        provider: The provider the payload was built for.
        payload: The exact bytes.
        references: The items the payload carries, in payload order.
    """

    provider: str
    payload: bytes
    references: tuple[str, ...]


@runtime_checkable
class ItemStore(Protocol):
    """Items: writing them and reading where they stand."""

    def add(
        self, items: Iterable[NewItem], *, now: float, lease: tuple[str, float] | None = None
    ) -> AddResult:
        """Write items unless their reference exists (idempotent), or their batch holds
        their number already (then their reference is in ``duplicates``); streams.
        With ``lease`` (owner, until) they are written leased to that owner."""
        ...

    def get_many(self, references: Sequence[str]) -> dict[str, OutboxItem]:
        """The stored items among ``references``, by reference (read set-wise)."""
        ...

    def outcomes(self, references: Sequence[str]) -> dict[str, ItemOutcome]:
        """Where the items among ``references`` stand, without their messages."""
        ...

    def get(self, reference: str) -> OutboxItem | None:
        """The item with this reference, or ``None``."""
        ...

    def history(self, reference: str) -> History | None:
        """The item with its attempts and reports, or ``None``."""
        ...

    def counts(self, batch: str | None = None) -> Mapping[ItemState, int]:
        """Items per state, in the whole store or one batch."""
        ...

    def iter_items(
        self, batch: str | None = None, state: ItemState | None = None
    ) -> Iterator[OutboxItem]:
        """Stream items in insertion order, optionally filtered."""
        ...


@runtime_checkable
class AttemptStore(Protocol):
    """Leases and attempts: what a dispatcher does to the items it works.

    Methods that change an item held under a lease take the worker's ``owner`` name
    and raise :class:`LeaseError` when that worker does not hold it."""

    def claim(
        self, owner: str, *, limit: int, now: float, lease_seconds: float
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due items: pending or waiting items whose time has
        come, and in-flight items whose lease expired (``needs_reconciliation``)."""
        ...

    def begin_attempt(
        self,
        reference: str,
        *,
        owner: str,
        provider: str,
        now: float,
        lease_seconds: float | None = None,
    ) -> Attempt:
        """Durably record an attempt before its request leaves."""
        ...

    def begin_attempts(
        self,
        references: Sequence[str],
        *,
        owner: str,
        provider: str,
        now: float,
        lease_seconds: float | None = None,
        new: Sequence[NewItem] = (),
    ) -> list[Attempt]:
        """:meth:`begin_attempt` for the recipients of one request, in one commit;
        ``new`` items are written first in the same commit (see the SQL stores)."""
        ...

    def finish(self, reference: str, *, owner: str, result: SendResult, now: float) -> OutboxItem:
        """Record the provider's answer for the open attempt and release the lease."""
        ...

    def finish_many(
        self,
        results: Sequence[tuple[str, SendResult]],
        *,
        owner: str,
        now: float,
        outcomes: dict[str, ItemOutcome] | None = None,
        later: bool = False,
    ) -> int:
        """:meth:`finish` for the recipients of one request, in one commit; returns how
        many were recorded (the items are not read back: the caller holds the results).
        With ``outcomes``, each item's stored :class:`ItemOutcome` is put there too.
        With ``later`` (items written with their attempt just before, untouched since),
        a store may commit the results with its next write instead, as long as its own
        reads see them at once; a store may always ignore it."""
        ...

    def retry_later(
        self,
        reference: str,
        *,
        owner: str,
        error: ErrorInfo,
        next_attempt_at: float,
        exclude_provider: str | None = None,
        outcome: Status | None = None,
        now: float,
    ) -> OutboxItem:
        """Close the open attempt with ``error`` and make the item due again later."""
        ...

    def mark_unknown(
        self,
        reference: str,
        *,
        owner: str,
        error: ErrorInfo,
        now: float,
        next_attempt_at: float | None = None,
    ) -> OutboxItem:
        """Close the open attempt as "outcome unknown"; reconciliation is due later."""
        ...

    def release(self, owner: str, *, now: float) -> int:
        """Drop every lease ``owner`` holds; returns how many."""
        ...

    def renew_leases(
        self, owner: str, references: Sequence[str], *, now: float, lease_seconds: float
    ) -> int:
        """Extend ``owner``'s leases on these items (requests in flight); how many."""
        ...

    def lease_owners(self, *, now: float) -> list[str]:
        """The names holding an unexpired lease at ``now``."""
        ...


@runtime_checkable
class ReportStore(Protocol):
    """Delivery reports, matched to items."""

    def record_report(self, report: DeliveryReport, *, now: float, park: bool = True) -> bool:
        """Store a delivery report and apply it when allowed; True if status changed.

        A report carrying a charge sets the matched item's cost, even when the status
        does not move (reports parked before the submit result keep their charge in the
        history only). With ``park=False`` a report matching no item raises
        :class:`ItemNotFoundError` and nothing is stored.
        """
        ...


@runtime_checkable
class CounterStore(Protocol):
    """Durable counters and named integers every process shares (references,
    recorded batch sizes, limits' state)."""

    def allocate(self, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int:
        """The next value of a durable counter, wrapping from ``high`` to ``low``."""
        ...

    def set_meta(self, name: str, value: int | None) -> None:
        """Store a named integer for every process (``None`` forgets it); the names
        share one namespace with :meth:`allocate`'s counters."""
        ...

    def get_meta(self, name: str) -> int | None:
        """The named integer, or ``None`` when none is stored."""
        ...

    def find_meta(self, prefix: str) -> Mapping[str, int]:
        """Every named integer whose name starts with ``prefix``."""
        ...


@runtime_checkable
class ChunkStore(Protocol):
    """Request bodies kept for a byte-identical resend."""

    def save_chunk(
        self, key: str, provider: str, payload: bytes, references: Sequence[str], *, now: float
    ) -> None:
        """Store a request body for a byte-identical resend."""
        ...

    def load_chunk(self, key: str) -> Chunk | None:
        """The stored request body, or ``None``."""
        ...

    def chunk_of(self, reference: str) -> str | None:
        """The key of the latest chunk carrying this item, or ``None``."""
        ...


@runtime_checkable
class BreakerStore(Protocol):
    """Circuit-breaker states every process shares."""

    def get_breaker(self, provider: str) -> BreakerState:
        """The provider's shared breaker state (closed when never stored)."""
        ...

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        """Store the provider's breaker state."""
        ...

    def breakers(self) -> Mapping[str, BreakerState]:
        """Every stored breaker state, by provider."""
        ...


@runtime_checkable
class OutboxStore(
    ItemStore, AttemptStore, ReportStore, CounterStore, ChunkStore, BreakerStore, Protocol
):
    """The durable store behind the router: every narrow protocol above, and ``close``.
    See ``docs/outbox.md`` for the life cycle. Code that needs one part (breakers,
    counters) asks for that protocol, so a part can be stored elsewhere.

    Methods that change an item held under a lease take the worker's ``owner`` name and
    raise :class:`LeaseError` when that worker does not hold it. All of them raise
    :class:`OutboxError` for database failures; the SQLite store raises a
    :class:`StorageError` naming itself and the method, and :meth:`add` says how many
    items it had committed (``written``).
    """

    def close(self) -> None:
        """Release the store's connections."""
        ...


def message_key(message_id: str | None) -> str | None:
    """The form of a provider message id used to match delivery reports.

    Providers echo their own ids back inconsistently (``"0A1b"`` submitted, ``"a1B"``
    reported; numeric ids with and without leading zeros), so ids are compared
    case-insensitively and without leading zeros.

    Args:
        message_id: The id as the provider gave it.

    Returns:
        The matching key, or ``None`` for no id.
    """
    if message_id is None or not message_id.strip():
        return None
    return message_id.strip().lower().lstrip("0") or "0"


def next_status(
    status: Status | None, state: ItemState, reported: Status
) -> tuple[Status | None, ItemState, bool]:
    """Apply a delivery report's status to an item, by the rules every store shares.

    A final status never moves; a non-final one moves only forward
    (:meth:`Status.can_become`). When the news says a provider took the message
    (``is_success``) while the item waits for a retry or a reconciliation, the item is
    done: sending it again would duplicate it. An in-flight item stays in flight; its
    worker records the result.

    Args:
        status: The item's current status.
        state: The item's current state.
        reported: The status the report carries.

    Returns:
        The new status, the new state, and whether the status changed.
    """
    if status is not None and (status is reported or not status.can_become(reported)):
        return status, state, False
    if reported.is_success and state in (ItemState.RETRY_WAIT, ItemState.UNKNOWN):
        state = ItemState.DONE
    return reported, state, True
