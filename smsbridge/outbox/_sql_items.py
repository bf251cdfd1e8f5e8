"""Adding items, claiming them and opening attempts, for both SQL stores.

Not public: use :class:`smsbridge.outbox.SqliteStore` or
:class:`smsbridge.outbox.postgres.PostgresStore`.

The rules live here; the statements that differ between the databases (a batched insert,
the claim itself, opening a request's attempts) are hooks each store implements.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence

from smsbridge.model import SendOptions
from smsbridge.outbox import codec
from smsbridge.outbox._sql_common import ConnT, SqlBase, operation, remember_options
from smsbridge.outbox.base import (
    AddResult,
    Attempt,
    ItemExistsError,
    ItemState,
    NewItem,
    OutboxItem,
    OutboxStateError,
    StorageError,
)
from smsbridge.status import Status

__all__ = ["NewRow", "SqlItems"]

NewRow = tuple[str, str, str, str | None, str, str | None, float]
"""A new item as :meth:`SqlItems._insert_items` takes it: reference, recipient, body,
sender, options (as JSON), batch, next_attempt_at."""


class SqlItems(SqlBase[ConnT]):
    """Adding, claiming, starting attempts and releasing leases."""

    @operation("add")
    def add(
        self,
        items: Iterable[NewItem],
        *,
        now: float,
        chunk_size: int = 1000,
        lease: tuple[str, float] | None = None,
    ) -> AddResult:
        """Write items whose reference is not stored yet; others are left untouched.

        The input is consumed lazily and committed ``chunk_size`` rows at a time, so a
        generator of a million items never sits in memory, and an interruption keeps
        what was committed (adding the same items again skips those).

        Args:
            items: The items, e.g. a generator.
            now: The current time; also ``next_attempt_at`` for items without one.
            chunk_size: Rows per transaction.
            lease: ``(owner, until)``: write the items leased to ``owner`` until that
                time, for a process that works them at once without claiming them
                (their references are in :attr:`AddResult.leased`). Another process
                takes them over only once the lease has run out.

        Returns:
            How many were added and how many already existed.

        Raises:
            StorageError: When a chunk cannot be committed (disk full, read-only...).
                Earlier chunks stay committed; ``written`` says how many items of the
                input are in the store (added or already there), so the caller can
                report progress and run the same add again after fixing the cause.
            OutboxError: For other database errors (earlier chunks stay committed).
            CodecError: For options that cannot be stored.
        """
        added = existing = 0
        duplicates: list[str] = []
        leased: list[str] = []
        last: tuple[SendOptions | None, str] = (None, "")
        rows: list[NewRow] = []

        def flush() -> None:
            nonlocal added, existing
            try:
                with self._tx() as conn:
                    kept, repeated = self._unique_numbers(conn, rows)
                    count = self._insert_items(conn, kept, float(now), lease) if kept else 0
                    if lease is not None and kept:
                        leased.extend(self._leased_now(conn, kept, count, lease))
            except StorageError as exc:
                exc.count(added + existing + len(duplicates))
                raise
            added += count
            existing += len(kept) - count
            duplicates.extend(repeated)
            rows.clear()

        for item in items:
            if item.options_json is not None:  # encoded by the caller (template rows)
                rows.append(_new_row(item, item.options_json, now))
            else:
                # Items of one batch share one options object: encode it once.
                if item.options is not last[0]:
                    last = (item.options, codec.options_to_json(item.options))
                    remember_options(last[1], item.options)
                rows.append(_new_row(item, last[1], now))
            if len(rows) >= chunk_size:
                flush()
        if rows:
            flush()
        return AddResult(added, existing, duplicates, leased)

    def _leased_now(
        self, conn: ConnT, rows: Sequence[NewRow], count: int, lease: tuple[str, float]
    ) -> list[str]:
        """The references among ``rows`` that an insert of ``count`` rows just wrote
        with ``lease``: all of them when the count says so, else read back (the rare
        re-run of a batch whose items are partly stored already)."""
        references = [row[0] for row in rows]
        if count == len(rows):
            return references
        owner, until = lease
        found = self._fetch_rows(conn, references, "reference, lease_owner, lease_until, attempts")
        return [
            reference
            for reference, row in found.items()
            if row[1] == owner and row[2] == until and row[3] == 0
        ]

    def _unique_numbers(
        self, conn: ConnT, rows: Sequence[NewRow]
    ) -> tuple[list[NewRow], list[str]]:
        """Drop rows whose batch holds their number under another reference already.

        Only this chunk's numbers are held here; earlier chunks (and earlier runs) are
        asked of the store, so a batch of millions costs no memory per number.
        """
        by_batch: dict[str, dict[str, str]] = {}
        for reference, recipient, _b, _s, _o, batch, _d in rows:
            if batch is not None:
                by_batch.setdefault(batch, {}).setdefault(recipient, reference)
        if not by_batch:
            return list(rows), []
        known: dict[tuple[str, str], str] = {}
        for batch, numbers in by_batch.items():
            recipients = list(numbers)
            for start in range(0, len(recipients), 500):
                part = recipients[start : start + 500]
                marks = ", ".join("?" * len(part))  # placeholders only, never a value
                query = f"SELECT recipient, reference FROM items WHERE batch = ? AND recipient IN ({marks})"  # noqa: S608, E501
                for recipient, reference in self._run(conn, query, (batch, *part)).fetchall():
                    known.setdefault((batch, recipient), reference)
        kept: list[NewRow] = []
        repeated: list[str] = []
        for row in rows:
            reference, recipient, batch = row[0], row[1], row[5]
            if batch is not None:
                owner = known.setdefault((batch, recipient), reference)
                if owner != reference:
                    repeated.append(reference)
                    continue
            kept.append(row)
        return kept, repeated

    @abc.abstractmethod
    def _insert_items(
        self,
        conn: ConnT,
        rows: Sequence[NewRow],
        now: float,
        lease: tuple[str, float] | None = None,
        provider: str | None = None,
    ) -> int:
        """Insert ``rows`` as pending items created at ``now`` (leased to ``lease``'s
        owner until its time, when given), in order, skipping any whose reference is
        stored (or repeated among them); returns how many went in. With ``provider``
        they go in already in flight to it, their first attempt counted: the caller
        opens that attempt in the same commit."""

    @operation("claim")
    def claim(
        self, owner: str, *, limit: int, now: float, lease_seconds: float
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due items for ``owner``, atomically.

        Due means: not done, ``next_attempt_at <= now``, and no live lease. That covers
        pending and retry-waiting items, unknown outcomes awaiting reconciliation, and
        in-flight items whose worker died (lease expired). The last two come back with
        ``needs_reconciliation`` true: ask their ``provider`` before sending anything.

        Args:
            owner: The worker's name, unique among live workers.
            limit: Most items to take.
            now: The current time.
            lease_seconds: How long the lease lasts; longer than a request can take.

        Returns:
            The claimed items, earliest due first, then in insertion order.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            return self._claim(conn, owner, limit, now, now + lease_seconds)

    @abc.abstractmethod
    def _claim(
        self, conn: ConnT, owner: str, limit: int, now: float, until: float
    ) -> list[OutboxItem]:
        """Lease the due items to ``owner`` until ``until``; no item may be leased twice
        by concurrent claims. Returns them as stored, in :meth:`claim`'s order."""

    def begin_attempt(
        self,
        reference: str,
        *,
        owner: str,
        provider: str,
        now: float,
        lease_seconds: float | None = None,
    ) -> Attempt:
        """Record an attempt on ``provider``, durably, before its request leaves.

        Args:
            reference: The item.
            owner: The worker, which must hold an unexpired lease on it.
            provider: Where the request is going.
            now: The current time.
            lease_seconds: Renew the lease to ``now + lease_seconds`` when given.

        Returns:
            The open attempt.

        Raises:
            LeaseError: When ``owner`` does not hold a live lease.
            OutboxStateError: When the item is done, or a report already said the
                provider took it (a resend would duplicate it).
            ItemNotFoundError: For an unknown reference.
        """
        return self.begin_attempts(
            [reference], owner=owner, provider=provider, now=now, lease_seconds=lease_seconds
        )[0]

    @operation("begin_attempt")
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
        """:meth:`begin_attempt` for every recipient of one request, in one commit.

        All or nothing: if any item fails the checks, no attempt is recorded.

        Args:
            references: The items.
            owner: The worker holding them.
            provider: Where the request is going.
            now: The current time.
            lease_seconds: Renew the leases to ``now + lease_seconds`` when given.
            new: Items (among ``references``) to write first, leased to ``owner``, in
                the same commit: a message sent as soon as it is written costs one
                commit before its request instead of two, and is still stored before
                anything leaves.

        Raises:
            LeaseError: When ``owner`` lacks a live lease on any of them.
            OutboxStateError: When any of them is done or known to be accepted.
            ItemNotFoundError: For an unknown reference.
            ItemExistsError: When one of ``new`` is stored already (nothing written).
        """
        wanted = list(references)
        until = None if lease_seconds is None else float(now + lease_seconds)
        with self._tx() as conn:
            if new:
                rows = [
                    _new_row(item, item.options_json or codec.options_to_json(item.options), now)
                    for item in new
                ]
                if until is None:
                    raise ValueError("writing new items with their attempt needs lease_seconds")
                written = self._insert_items(conn, rows, float(now), (owner, until), provider)
                if written != len(rows):
                    raise ItemExistsError(
                        "an item to be written with its first attempt is stored already"
                    )
            # Items written just now hold our lease and have no attempt yet: only the
            # others need their leases checked and their interrupted attempts closed.
            fresh = {item.reference for item in new}
            older = [reference for reference in wanted if reference not in fresh]
            tried: list[str] = []
            for lease in self._held_leases(conn, older, owner, now) if older else ():
                status = None if lease.status is None else Status(lease.status)
                if lease.state == ItemState.DONE.value or (status and status.is_success):
                    raise OutboxStateError(
                        f"item {lease.reference!r} is {lease.state} with status "
                        f"{lease.status}; not sending again"
                    )
                if lease.attempts:
                    tried.append(lease.reference)
            return self._open_attempts(conn, wanted, provider, now, until, older, tried)

    @abc.abstractmethod
    def _open_attempts(
        self,
        conn: ConnT,
        references: list[str],
        provider: str,
        now: float,
        until: float | None,
        stored: list[str],
        tried: list[str],
    ) -> list[Attempt]:
        """Open one attempt per reference (in order) on checked items.

        ``stored`` are those stored before this commit; the others were just written in
        flight, their attempt counted. An attempt still open on one of ``tried`` (those
        of ``stored`` with a request counted) was interrupted (crash, lost lease) and
        never reconciled into a result: it is closed with its outcome unknown, for the
        record. Each stored item becomes in flight with ``provider``, forgets the last
        attempt's id, parts and cost, counts the attempt, and has its lease renewed to
        ``until`` when given.
        """

    @operation("renew leases")
    def renew_leases(
        self, owner: str, references: Sequence[str], *, now: float, lease_seconds: float
    ) -> int:
        """Extend ``owner``'s leases on these items to ``now + lease_seconds``.

        Items whose lease ``owner`` no longer holds are left alone (another worker took
        them over, or they were finished meanwhile).

        Args:
            owner: The worker.
            references: Items being worked on (claimed this round, or in flight).
            now: The current time (store clock).
            lease_seconds: The new lease length from ``now``.

        Returns:
            How many leases were extended.

        Raises:
            OutboxError: For database errors.
        """
        renewed = 0
        until = float(now + lease_seconds)
        with self._tx() as conn:
            for start in range(0, len(references), 500):
                part = list(references[start : start + 500])
                marks = ", ".join("?" * len(part))
                # Only placeholders are formatted in, never a value.
                query = "UPDATE items SET lease_until = ? WHERE lease_owner = ? AND reference IN "
                renewed += self._run(conn, query + f"({marks})", (until, owner, *part)).rowcount
        return renewed

    @operation("read leases")
    def lease_owners(self, *, now: float) -> list[str]:
        """The names holding an unexpired lease at ``now`` (a recovering process checks
        whether their processes still live).

        Raises:
            OutboxError: For database errors.
        """
        with self._read_tx() as conn:
            rows = self._run(
                conn,
                "SELECT DISTINCT lease_owner FROM items "
                "WHERE lease_owner IS NOT NULL AND lease_until > ?",
                (float(now),),
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    @operation("release")
    def release(self, owner: str, *, now: float) -> int:
        """Drop every lease ``owner`` holds (graceful shutdown).

        Released in-flight items become claimable at once, flagged for reconciliation.

        Args:
            owner: The worker.
            now: The current time.

        Returns:
            How many leases were dropped.

        Raises:
            OutboxError: For database errors.
        """
        with self._tx() as conn:
            return self._run(
                conn,
                "UPDATE items SET lease_owner = NULL, lease_until = NULL, updated_at = ? "
                "WHERE lease_owner = ?",
                (float(now), owner),
            ).rowcount


def _new_row(item: NewItem, options: str, now: float) -> NewRow:
    due = now if item.next_attempt_at is None else item.next_attempt_at
    return (item.reference, item.recipient, item.body, item.sender, options, item.batch, float(due))
