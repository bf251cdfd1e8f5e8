"""What the SQLite and PostgreSQL stores share: the dialect, row decoding, lease checks.

Not public: use :class:`smsbridge.outbox.SqliteStore` or
:class:`smsbridge.outbox.postgres.PostgresStore`.

The two stores run the same algorithms over the same tables; what differs is the SQL
dialect (placeholders, how a list of text is stored, row locks) and how a connection and
a transaction are had. The shared code (this module, :mod:`._sql_items`,
:mod:`._sql_outcomes`, :mod:`._sql_reads`) writes its statements once, with ``?``
placeholders and a few named fragments that a :class:`Dialect` fills in; each store
supplies its connection plumbing and the handful of statements that are genuinely
different (a ``SKIP LOCKED`` claim, ``unnest`` batches, a server-side cursor).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, ClassVar, Generic, NamedTuple, ParamSpec, Protocol, Self, TypeVar

import attrs

from smsbridge.model import SendOptions
from smsbridge.outbox import codec
from smsbridge.outbox._held import Held, HeldResults
from smsbridge.outbox.base import (
    Attempt,
    ItemNotFoundError,
    ItemState,
    LeaseError,
    OutboxItem,
    StorageError,
)
from smsbridge.status import Status

__all__ = [
    "ATTEMPT_COLUMNS",
    "ITEM_COLUMNS",
    "ConnT",
    "Connection",
    "Cursor",
    "Dialect",
    "SqlBase",
    "decode_attempt",
    "operation",
]

ITEM_COLUMNS = (
    "reference, recipient, body, sender, options, batch, state, provider, status, "
    "message_id, parts, cost, attempts, next_attempt_at, created_at, updated_at, "
    "lease_owner, lease_until, excluded_providers, last_error"
)
"""The ``items`` columns :meth:`SqlBase._item` decodes, in its order."""

LEASE_COLUMNS = "reference, state, status, provider, lease_owner, lease_until, last_error, attempts"
"""The ``items`` columns a :class:`Lease` holds, in its order."""


class Lease(NamedTuple):
    """The few columns an attempt's start and end check and carry over.

    Reading these instead of whole items keeps a request's bookkeeping to a tuple per
    row: a 10,000-row request would otherwise decode 10,000 items twice to look at
    four columns.
    """

    reference: str
    state: str
    status: str | None
    provider: str | None
    owner: str | None
    until: float | None
    last_error: str | None
    """As stored (JSON), to write back unchanged when a result brings no error."""
    attempts: int
    """Requests counted so far: with none, no attempt can be open to close."""


ATTEMPT_COLUMNS = (
    "id, reference, provider, started_at, finished_at, outcome, error, outcome_unknown"
)
"""The ``attempts`` columns :func:`decode_attempt` decodes, in its order."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def operation(name: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Name the store method a :class:`StorageError` passes through (see
    :meth:`StorageError.locate`), so its message says what was being done.

    Args:
        name: The operation, as :attr:`StorageError.operation` gives it.

    Returns:
        A decorator for a store method that returns (not a generator).
    """

    def decorate(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def named(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            except StorageError as exc:
                exc.locate(name)
                raise

        return named

    return decorate


class Cursor(Protocol):
    """The part of a DB-API cursor the shared code uses (sqlite3 and psycopg both fit)."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed."""
        ...

    def fetchone(self) -> Any:
        """The next row, or ``None``."""
        ...

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        ...


class Connection(Protocol):
    """The part of a connection the shared code uses (sqlite3 and psycopg both fit)."""

    def execute(self, query: str, params: Sequence[Any] = ..., /) -> Cursor:
        """Run one statement."""
        ...


ConnT = TypeVar("ConnT", bound=Connection)


@attrs.frozen(kw_only=True, cache_hash=True)
class Dialect:
    """How one database spells what the shared statements need.

    Shared statements are written with ``?`` placeholders and these named fragments,
    each of which :meth:`sql` replaces (fragments are written with ``?`` too):

    ``{columns}``, ``{attempt_columns}``
        :data:`ITEM_COLUMNS` and :data:`ATTEMPT_COLUMNS`.
    ``{texts}``
        A parameter holding a list of text, as :attr:`encode_texts` encodes it.
    ``{real}``
        A float parameter that may be ``None`` (PostgreSQL cannot type a bare NULL).
    ``{for_update}``
        Appended to a ``SELECT`` of items the transaction goes on to change.
    ``{for_update_in_order}``
        The same for a ``SELECT`` that may match several items: locks them in one order
        everywhere, so two transactions never wait on each other in a circle.

    Args:
        placeholder: What ``?`` becomes: ``"?"`` or ``"%s"``.
        texts: The ``{texts}`` fragment.
        real: The ``{real}`` fragment.
        for_update: The ``{for_update}`` fragment (empty where a transaction already
            excludes every other writer).
        for_update_in_order: The ``{for_update_in_order}`` fragment.
        encode_texts: A list of text as a parameter.
        decode_texts: A list of text as a column value comes back.
    """

    placeholder: str
    texts: str
    real: str
    for_update: str
    for_update_in_order: str
    encode_texts: Callable[[list[str]], object]
    decode_texts: Callable[[Any], Iterable[str]]

    def sql(self, text: str) -> str:
        """The statement ``text`` in this dialect (rendered once, then cached).

        Args:
            text: A shared statement with ``?`` placeholders and named fragments.

        Returns:
            The statement to execute.
        """
        return _render(self, text)


@lru_cache(maxsize=2048)
def _render(dialect: Dialect, text: str) -> str:
    fragments = {
        "columns": ITEM_COLUMNS,
        "attempt_columns": ATTEMPT_COLUMNS,
        "texts": dialect.texts,
        "real": dialect.real,
        "for_update": dialect.for_update,
        "for_update_in_order": dialect.for_update_in_order,
    }
    return text.format_map(fragments).replace("?", dialect.placeholder)


_IN_CHUNK = 500
"""Most references in one ``IN (...)`` list (SQLite allows 32,766 parameters)."""


def _check_leases(
    leases: Sequence[tuple[str, str | None, float | None]], owner: str, now: float | None
) -> None:
    lost = [
        reference
        for reference, holder, until in leases
        if holder != owner or (now is not None and (until is None or until <= now))
    ]
    if lost:
        raise LeaseError(
            f"worker {owner!r} does not hold the lease on {', '.join(lost[:5])}"
            + (f" and {len(lost) - 5} more" if len(lost) > 5 else ""),
            references=lost,
        )


_KNOWN_OPTIONS: dict[str, SendOptions] = {}
"""Options by their stored text: written by :func:`remember_options` when items are
added, read by claims. Bounded by :data:`_KNOWN_LIMIT`; emptied when full."""

_KNOWN_LIMIT = 10_000


def remember_options(text: str, options: SendOptions) -> None:
    """Keep ``options`` as the decoded form of ``text`` for the claims that follow.

    Items of one batch share their options text, so decoding it once is what keeps a
    claim cheap; a personalised batch stores a distinct text per recipient, and the
    process that added it (a bridge, usually the one that claims next) knows the value
    already. SendOptions is frozen: sharing one value between items is safe.
    """
    if len(_KNOWN_OPTIONS) >= _KNOWN_LIMIT:
        _KNOWN_OPTIONS.clear()
    _KNOWN_OPTIONS[text] = options


def _options(text: str) -> SendOptions:
    found = _KNOWN_OPTIONS.get(text)
    if found is None:
        found = codec.options_from_json(text)
        remember_options(text, found)
    return found


def decode_attempt(row: Sequence[Any]) -> Attempt:
    """An :class:`Attempt` from a row of :data:`ATTEMPT_COLUMNS`."""
    return Attempt(
        id=row[0],
        reference=row[1],
        provider=row[2],
        started_at=row[3],
        finished_at=row[4],
        outcome=None if row[5] is None else Status(row[5]),
        error=codec.error_from_json(row[6]),
        # SQLite stores the flag as 0 or 1.
        outcome_unknown=bool(row[7]),
    )


class SqlBase(abc.ABC, Generic[ConnT]):
    """The plumbing every shared part of a store relies on; each store fills it in.

    A store provides :attr:`_dialect`, its transactions (:meth:`_tx` for changes,
    :meth:`_read_tx` for reads), and :meth:`_lock_rows`; where a transaction does not
    exclude other writers by itself it also provides :meth:`_lock_keys`.
    """

    _dialect: ClassVar[Dialect]

    _later: HeldResults | None = None
    """Results held for the next write (:mod:`smsbridge.outbox._held`); ``None`` where
    every result is committed at once."""

    def _write_later(self, conn: ConnT) -> list[Held]:
        """Write the held results in ``conn``'s transaction; returns what it wrote, for
        the transaction to give back if it fails."""
        return []

    @abc.abstractmethod
    def _tx(self) -> AbstractContextManager[ConnT]:
        """One transaction that may change rows, committed on success, errors
        translated to :class:`~smsbridge.outbox.OutboxError`."""

    @abc.abstractmethod
    def _read_tx(self, *, snapshot: bool = False) -> AbstractContextManager[ConnT]:
        """One transaction that only reads.

        Args:
            snapshot: Every statement must see the same snapshot (a read made of several
                queries, such as a history).
        """

    @abc.abstractmethod
    def _lock_rows(
        self, conn: ConnT, references: Sequence[str], columns: str
    ) -> list[Sequence[Any]]:
        """``columns`` (the first being ``reference``) of the items, in the order given,
        protected from other writers until the transaction ends.

        Raises:
            ItemNotFoundError: For an unknown reference.
        """

    def _lock_keys(self, conn: ConnT, keys: Iterable[str]) -> None:
        """Serialize this transaction with any other touching the same message keys.

        Nothing to do by default: a store whose write transactions exclude each other
        already has that.
        """

    def _run(self, conn: ConnT, query: str, params: Sequence[Any] = ()) -> Cursor:
        """Execute a shared statement (see :class:`Dialect`)."""
        return conn.execute(self._dialect.sql(query), params)

    @abc.abstractmethod
    def _run_many(self, conn: ConnT, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute a shared statement once per parameter row, in one batch (a request's
        worth of rows costs one call, not one round trip each)."""

    def _fetch_items(self, conn: ConnT, references: Sequence[str]) -> dict[str, OutboxItem]:
        """The stored items among ``references``, by reference, read set-wise."""
        rows = self._fetch_rows(conn, references, ITEM_COLUMNS)
        return {reference: self._item(row) for reference, row in rows.items()}

    def _fetch_rows(
        self, conn: ConnT, references: Sequence[str], columns: str
    ) -> dict[str, Sequence[Any]]:
        """``columns`` (``reference`` first) of the stored items among ``references``."""
        found: dict[str, Sequence[Any]] = {}
        for start in range(0, len(references), _IN_CHUNK):
            part = list(references[start : start + _IN_CHUNK])
            marks = ", ".join("?" * len(part))  # placeholders only, never a value
            query = f"SELECT {columns} FROM items WHERE reference IN ({marks})"  # noqa: S608
            for row in self._run(conn, query, part).fetchall():
                found[row[0]] = row
        return found

    def _item(self, row: Sequence[Any]) -> OutboxItem:
        """An :class:`OutboxItem` from a row of :data:`ITEM_COLUMNS`."""
        return OutboxItem(
            reference=row[0],
            recipient=row[1],
            body=row[2],
            sender=row[3],
            options=_options(row[4]),
            batch=row[5],
            state=ItemState(row[6]),
            provider=row[7],
            status=None if row[8] is None else Status(row[8]),
            message_id=row[9],
            parts=row[10],
            cost=codec.cost_from_json(row[11]),
            attempts=row[12],
            next_attempt_at=row[13],
            created_at=row[14],
            updated_at=row[15],
            lease_owner=row[16],
            lease_until=row[17],
            excluded_providers=self._dialect.decode_texts(row[18]),
            last_error=codec.error_from_json(row[19]),
        )

    def _row(self, conn: ConnT, reference: str) -> OutboxItem:
        row = self._run(conn, "SELECT {columns} FROM items WHERE reference = ?", (reference,))
        found = row.fetchone()
        if found is None:
            raise ItemNotFoundError(f"no outbox item has reference {reference!r}")
        return self._item(found)

    def _held(
        self, conn: ConnT, references: Sequence[str], owner: str, now: float | None
    ) -> list[OutboxItem]:
        """The items, locked, after :meth:`_held_leases`' check."""
        rows = self._lock_rows(conn, references, ITEM_COLUMNS)
        _check_leases([(row[0], row[16], row[17]) for row in rows], owner, now)
        return [self._item(row) for row in rows]

    def _held_leases(
        self, conn: ConnT, references: Sequence[str], owner: str, now: float | None
    ) -> list[Lease]:
        """The items' :class:`Lease` columns, locked, once ``owner`` is known to hold
        every one of them.

        ``now=None``: the lease only has to be ours (a result is recorded even when the
        lease ran out, as long as nobody took the item over); otherwise also unexpired.

        Raises:
            LeaseError: Naming the items ``owner`` does not hold.
        """
        leases = [Lease(*row) for row in self._lock_rows(conn, references, LEASE_COLUMNS)]
        _check_leases([(lease[0], lease.owner, lease.until) for lease in leases], owner, now)
        return leases

    # -- lifetime ---------------------------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None:
        """Close the store's connection; further calls raise
        :class:`~smsbridge.outbox.OutboxError`. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
