"""Recording outcomes and delivery reports, for both SQL stores.

Not public: use :class:`smsbridge.outbox.SqliteStore` or
:class:`smsbridge.outbox.postgres.PostgresStore`.

A report and the result that stores its message id must never miss each other: the
report is either found by the result (parked, then applied by :meth:`SqlOutcomes.finish`)
or finds the stored id. Both take the same message-key lock first (``_lock_keys``, a
no-op where write transactions already exclude each other), then lock the item rows
they change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from smsbridge.errors import ErrorInfo
from smsbridge.outbox import codec
from smsbridge.outbox._held import Held
from smsbridge.outbox._sql_common import ConnT, SqlBase, operation
from smsbridge.outbox.base import (
    ItemNotFoundError,
    ItemOutcome,
    ItemState,
    LeaseError,
    OutboxItem,
    OutboxStateError,
    message_key,
    next_status,
)
from smsbridge.results import DeliveryReport, SendResult
from smsbridge.status import Status

__all__ = ["SqlOutcomes"]

log = logging.getLogger("smsbridge.outbox")

_CLOSE_ATTEMPT = (
    "UPDATE attempts SET finished_at = ?, outcome = ?, error = ?, outcome_unknown = ? "
    "WHERE reference = ? AND finished_at IS NULL"
)
"""Record how an item's open attempt ended."""


class SqlOutcomes(SqlBase[ConnT]):
    """Results, retries, unknown outcomes and delivery reports."""

    def finish(self, reference: str, *, owner: str, result: SendResult, now: float) -> OutboxItem:
        """Record the provider's answer for the open attempt and release the lease.

        The item is done, except for an ``UNKNOWN`` status, which leaves it awaiting
        reconciliation. A report that arrived first and said more (e.g. ``DELIVERED``
        before the submit response) is kept. Reports parked because their message id
        was unknown are matched to the new message id and applied now.

        Args:
            reference: The item.
            owner: The worker; it must still own the lease (it may have expired).
            result: The outcome for this recipient.
            now: The current time.

        Returns:
            The item as stored.

        Raises:
            LeaseError: When another worker took the item over, or nobody holds it.
            ItemNotFoundError: For an unknown reference.
        """
        with self._tx() as conn:
            self._finish(conn, [(reference, result)], owner, now)
            return self._row(conn, reference)

    @operation("finish")
    def finish_many(
        self,
        results: Sequence[tuple[str, SendResult]],
        *,
        owner: str,
        now: float,
        outcomes: dict[str, ItemOutcome] | None = None,
        later: bool = False,
    ) -> int:
        """:meth:`finish` for every recipient of one request, in one commit.

        Args:
            results: The results, by reference.
            owner: The worker holding the items.
            now: The current time.
            outcomes: Filled with each item as stored, when given: what a sender
                reports back, without a read after the commit.
            later: The items were written with their attempt just before (nothing
                else has changed them): a store whose commits are not flushed to disk
                anyway (SQLite under ``synchronous=NORMAL``) may hold the results for
                its next write, or a fraction of a second (:mod:`smsbridge.outbox._held`).
                Reads through this store see them at once. Results that leave an item
                unsettled are always written at once.

        Returns:
            How many results were recorded. The items are not read back: the caller
            has the results, and a 10,000-row request should not decode 10,000 items.

        Raises:
            LeaseError: When ``owner`` lacks the lease on any of them (nothing recorded).
            ItemNotFoundError: For an unknown reference.
        """
        if later and self._later is not None:
            settled = _fresh_outcomes(results, float(now))
            if settled is not None and self._later.hold((list(results), owner, float(now))):
                if outcomes is not None:
                    outcomes.update(settled)
                return len(results)
        with self._tx() as conn:
            return self._finish(conn, results, owner, now, outcomes)

    def _write_later(self, conn: ConnT) -> list[Held]:
        later = self._later
        taken = later.take() if later is not None else []
        for results, owner, now in taken:
            rest = self._finish_untouched(conn, results, owner, now)
            if not rest:
                continue
            # One request's results that can no longer be written (the lease was taken
            # over) are left to reconciliation, not the others' loss. _finish checks
            # every lease before it writes anything, so a refusal leaves nothing to undo.
            try:
                self._finish(conn, rest, owner, now)
            except (LeaseError, ItemNotFoundError) as exc:
                log.warning("a held result was not written (%s); reconciliation settles it", exc)
        return taken

    def _finish_untouched(
        self,
        conn: ConnT,
        results: Sequence[tuple[str, SendResult]],
        owner: str,
        now: float,
    ) -> list[tuple[str, SendResult]]:
        """Write held results whose items nothing touched since their attempt began, a
        guarded update of the item and the closing of its attempt per row; return the
        others, for :meth:`_finish`.

        Untouched: still in flight, still ours, no status from a report, and no report
        parked for the message id the result brings. That is where :meth:`_finish`'s
        rules reduce to taking the result as it is; anything else takes the full way.
        It takes no key lock: results are held only where a write transaction excludes
        every other writer (SQLite), so no report can land between check and write.
        """
        rest: list[tuple[str, SendResult]] = []
        when = float(now)
        for reference, result in results:
            key = message_key(result.message_id)
            error = None if result.error is None else codec.error_to_json(result.error)
            written = self._run(
                conn,
                "UPDATE items SET state = 'done', provider = COALESCE(?, provider), "
                "status = ?, message_id = ?, message_key = ?, parts = ?, cost = ?, "
                "last_error = COALESCE(?, last_error), updated_at = ?, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE reference = ? AND lease_owner = ? AND state = 'inflight' "
                "AND status IS NULL AND NOT EXISTS (SELECT 1 FROM reports "
                "WHERE reference IS NULL AND provider = COALESCE(?, items.provider) "
                "AND message_key = ?)",
                (
                    result.provider,
                    result.status.value,
                    result.message_id,
                    key,
                    result.parts,
                    codec.cost_to_json(result.cost),
                    error,
                    when,
                    reference,
                    owner,
                    result.provider,
                    key,
                ),
            ).rowcount
            if written != 1:
                rest.append((reference, result))
                continue
            self._run(
                conn,
                _CLOSE_ATTEMPT,
                (when, result.status.value, error, False, reference),
            )
        return rest

    def _finish(
        self,
        conn: ConnT,
        results: Sequence[tuple[str, SendResult]],
        owner: str,
        now: float,
        outcomes: dict[str, ItemOutcome] | None = None,
    ) -> int:
        keys = [message_key(result.message_id) for _, result in results]
        attempt_rows: list[tuple[object, ...]] = []
        item_rows: list[tuple[object, ...]] = []
        self._lock_keys(conn, (key for key in keys if key is not None))
        # Every check before any write: a refusal leaves the transaction as it was (held
        # results rely on it, see _write_later).
        leases = self._held_leases(conn, [reference for reference, _ in results], owner, None)
        parked: dict[str, bool] = {}
        when = float(now)
        for lease, (reference, result), key in zip(leases, results, keys, strict=True):
            stored_status = None if lease.status is None else Status(lease.status)
            status, _, _ = next_status(stored_status, ItemState(lease.state), result.status)
            provider = result.provider or lease.provider
            error = None if result.error is None else codec.error_to_json(result.error)
            attempt_rows.append(
                (when, result.status.value, error, result.status is Status.UNKNOWN, reference)
            )
            state = ItemState.UNKNOWN if status is Status.UNKNOWN else ItemState.DONE
            if key is not None and provider is not None:
                if provider not in parked:
                    # Reports waiting for an id are rare: look for them per request,
                    # and per item only when some exist.
                    parked[provider] = self._any_parked(conn, provider)
                if parked[provider]:
                    status, state = self._unpark(conn, reference, provider, key, status, state)
            last_error = lease.last_error if error is None else error
            item_rows.append(
                (
                    state.value,
                    provider,
                    None if status is None else status.value,
                    result.message_id,
                    key,
                    result.parts,
                    codec.cost_to_json(result.cost),
                    last_error,
                    when,
                    reference,
                )
            )
            if outcomes is not None and state is ItemState.DONE:
                # (An UNKNOWN one's next look depends on columns not read here.)
                outcomes[reference] = _done(
                    reference, result, provider, status, codec.error_from_json(last_error), when
                )
        self._run_many(
            conn,
            _CLOSE_ATTEMPT,
            attempt_rows,
        )
        self._run_many(
            conn,
            "UPDATE items SET state = ?, provider = ?, status = ?, message_id = ?, "
            "message_key = ?, parts = ?, cost = ?, last_error = ?, updated_at = ?, "
            "lease_owner = NULL, lease_until = NULL WHERE reference = ?",
            item_rows,
        )
        return len(item_rows)

    def _any_parked(self, conn: ConnT, provider: str) -> bool:
        row = self._run(
            conn,
            "SELECT 1 FROM reports WHERE reference IS NULL AND provider = ? LIMIT 1",
            (provider,),
        ).fetchone()
        return row is not None

    def _unpark(
        self,
        conn: ConnT,
        reference: str,
        provider: str,
        key: str,
        status: Status | None,
        state: ItemState,
    ) -> tuple[Status | None, ItemState]:
        parked = self._run(
            conn,
            "SELECT id, report FROM reports WHERE reference IS NULL AND provider = ? "
            "AND message_key = ? ORDER BY id",
            (provider, key),
        ).fetchall()
        for report_id, text in parked:
            reported = codec.report_from_json(text).status
            status, state, changed = next_status(status, state, reported)
            self._run(
                conn,
                "UPDATE reports SET reference = ?, disposition = ? WHERE id = ?",
                (reference, "applied" if changed else "ignored", report_id),
            )
        return status, state

    @operation("retry_later")
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
        """Close the open attempt with ``error``; the item is due again later.

        Args:
            reference: The item.
            owner: The worker; it must still own the lease.
            error: Why the attempt failed.
            next_attempt_at: When the item is due again.
            exclude_provider: A provider that refused it for good; failover skips it.
            outcome: The status the attempt ended with, if the provider gave one.
            now: The current time.

        Returns:
            The item as stored.

        Raises:
            LeaseError: When ``owner`` does not own the lease.
            OutboxStateError: When the item is already done (a report settled it).
            ItemNotFoundError: For an unknown reference.
        """
        with self._tx() as conn:
            (item,) = self._held(conn, [reference], owner, None)
            if item.state is ItemState.DONE:
                raise OutboxStateError(f"item {reference!r} is already done")
            excluded = list(item.excluded_providers)
            if exclude_provider is not None and exclude_provider not in excluded:
                excluded.append(exclude_provider)
            self._close_attempt(conn, reference, now, outcome, error, False)
            self._run(
                conn,
                "UPDATE items SET state = 'retry_wait', next_attempt_at = ?, last_error = ?, "
                "excluded_providers = {texts}, status = COALESCE(?, status), updated_at = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE reference = ?",
                (
                    float(next_attempt_at),
                    codec.error_to_json(error),
                    self._dialect.encode_texts(excluded),
                    None if outcome is None else outcome.value,
                    float(now),
                    reference,
                ),
            )
            return self._row(conn, reference)

    @operation("mark_unknown")
    def mark_unknown(
        self,
        reference: str,
        *,
        owner: str,
        error: ErrorInfo,
        now: float,
        next_attempt_at: float | None = None,
    ) -> OutboxItem:
        """Close the open attempt as "outcome unknown" and release the lease.

        The provider is kept: the item must be reconciled with it (claimed again from
        ``next_attempt_at``, with ``needs_reconciliation``). If a report already said the
        provider took the message, the item is done instead.

        Args:
            reference: The item.
            owner: The worker; it must still own the lease.
            error: What made the outcome unknown (e.g. a read timeout).
            now: The current time.
            next_attempt_at: When to reconcile; ``now`` when ``None``.

        Returns:
            The item as stored.

        Raises:
            LeaseError: When ``owner`` does not own the lease.
            OutboxStateError: When the item is already done.
            ItemNotFoundError: For an unknown reference.
        """
        with self._tx() as conn:
            (item,) = self._held(conn, [reference], owner, None)
            if item.state is ItemState.DONE:
                raise OutboxStateError(f"item {reference!r} is already done")
            status = item.status or Status.UNKNOWN
            state = ItemState.DONE if status.is_success else ItemState.UNKNOWN
            self._close_attempt(conn, reference, now, Status.UNKNOWN, error, True)
            self._run(
                conn,
                "UPDATE items SET state = ?, status = ?, next_attempt_at = ?, last_error = ?, "
                "updated_at = ?, lease_owner = NULL, lease_until = NULL WHERE reference = ?",
                (
                    state.value,
                    status.value,
                    float(now if next_attempt_at is None else next_attempt_at),
                    codec.error_to_json(error),
                    float(now),
                    reference,
                ),
            )
            return self._row(conn, reference)

    def _close_attempt(
        self,
        conn: ConnT,
        reference: str,
        now: float,
        outcome: Status | None,
        error: ErrorInfo | None,
        unknown: bool,
    ) -> None:
        self._run(
            conn,
            _CLOSE_ATTEMPT,
            (
                float(now),
                None if outcome is None else outcome.value,
                codec.error_to_json(error),
                unknown,
                reference,
            ),
        )

    # -- delivery reports -------------------------------------------------------------

    @operation("record_report")
    def record_report(self, report: DeliveryReport, *, now: float, park: bool = True) -> bool:
        """Store a delivery report and apply its status where the rules allow.

        The item is found by ``(provider, message id)`` (ids compared without case and
        leading zeros; the report's recipient breaks a tie between items sharing an id),
        else by the report's client reference when that item's attempt went to the same
        provider. A final status is never overwritten and a non-final one only moves
        forward. A report for an id not stored yet is parked and applied when
        :meth:`finish` stores that id. Every report is kept for :meth:`history`.

        Args:
            report: The report.
            now: The current time.
            park: Keep a report matching no item for :meth:`finish`; when False such a
                report raises :class:`ItemNotFoundError` and nothing is stored.

        Returns:
            True when an item's status changed.

        Raises:
            ItemNotFoundError: No item matches and ``park`` is False.
            OutboxError: For database errors.
            CodecError: When ``report.raw`` holds a value that cannot be stored.
        """
        text = codec.report_to_json(report)
        key = message_key(report.message_id)
        with self._tx() as conn:
            rows: list[Any] = []
            if key is not None:
                self._lock_keys(conn, [key])
                rows = self._run(
                    conn,
                    "SELECT reference, recipient, status, state FROM items "
                    "WHERE provider = ? AND message_key = ?{for_update_in_order}",
                    (report.provider, key),
                ).fetchall()
                if len(rows) > 1 and report.recipient is not None:
                    rows = [row for row in rows if row[1] == report.recipient] or rows
            if not rows and report.reference is not None:
                row = self._run(
                    conn,
                    "SELECT reference, recipient, status, state, provider FROM items "
                    "WHERE reference = ?{for_update}",
                    (report.reference,),
                ).fetchone()
                if row is not None and row[4] != report.provider:
                    # Another provider's report about a message we since sent elsewhere:
                    # history, not status.
                    self._store_report(conn, report.reference, report, key, "ignored", now, text)
                    return False
                if (
                    row is not None
                    and report.recipient is not None
                    and row[1] != report.recipient
                    and key is not None
                ):
                    # Another row of a request whose rows share one reference on the
                    # wire (Capabilities.shared_row_reference): park it until the
                    # result that stores its message id arrives, never apply it to
                    # the first row.
                    row = None
                rows = [row] if row is not None else []
            if not rows:
                if not park:
                    raise ItemNotFoundError(f"no {report.provider} message matches the report")
                self._store_report(conn, None, report, key, "pending", now, text)
                return False
            changed_any = False
            for reference, _, old, state, *_ in rows:
                status, new_state, changed = next_status(
                    None if old is None else Status(old), ItemState(state), report.status
                )
                if changed:
                    assert status is not None
                    self._run(
                        conn,
                        "UPDATE items SET status = ?, state = ?, updated_at = ? "
                        "WHERE reference = ?",
                        (status.value, new_state.value, float(now), reference),
                    )
                if report.cost is not None:
                    # A charge the provider reported (Clickatell callbacks, getmsgcharge)
                    # is what the message actually cost, whatever the status did.
                    self._run(
                        conn,
                        "UPDATE items SET cost = ? WHERE reference = ?",
                        (codec.cost_to_json(report.cost), reference),
                    )
                disposition = "applied" if changed else "ignored"
                self._store_report(conn, reference, report, key, disposition, now, text)
                changed_any = changed_any or changed
            return changed_any

    def _store_report(
        self,
        conn: ConnT,
        reference: str | None,
        report: DeliveryReport,
        key: str | None,
        disposition: str,
        now: float,
        text: str,
    ) -> None:
        self._run(
            conn,
            "INSERT INTO reports (reference, provider, message_key, disposition, received_at, "
            "report) VALUES (?, ?, ?, ?, ?, ?)",
            (reference, report.provider, key, disposition, float(now), text),
        )


def _fresh_outcomes(
    results: Sequence[tuple[str, SendResult]], now: float
) -> dict[str, ItemOutcome] | None:
    """What :meth:`SqlOutcomes._finish` stores for items in flight since their first
    attempt, untouched since (no stored status: the result's is taken as it is);
    ``None`` when one of them would stay unsettled."""
    settled: dict[str, ItemOutcome] = {}
    for reference, result in results:
        if result.status is Status.UNKNOWN:
            return None
        settled[reference] = _done(
            reference, result, result.provider, result.status, result.error, now
        )
    return settled


def _done(
    reference: str,
    result: SendResult,
    provider: str | None,
    status: Status | None,
    last_error: ErrorInfo | None,
    when: float,
) -> ItemOutcome:
    """A settled item as :meth:`SqlOutcomes._finish` stores it."""
    return ItemOutcome(
        reference=reference,
        recipient=result.recipient,
        state=ItemState.DONE,
        provider=provider,
        status=status,
        message_id=result.message_id,
        parts=result.parts,
        cost=result.cost,
        attempts=result.attempts,
        next_attempt_at=when,
        updated_at=when,
        last_error=last_error,
    )
