"""Recording outcomes and delivery reports in the PostgreSQL outbox.

Not public: use :class:`smsbridge.outbox.postgres.PostgresStore`.

Lock order, the same everywhere so that no two transactions wait on each other in a
circle: first the advisory locks on message keys (sorted), then item rows (sorted by
reference). A report and the result that stores its message id take the same key lock,
which is what keeps a parked report from being missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from smsbridge.errors import ErrorInfo
from smsbridge.outbox import codec
from smsbridge.outbox._pg_base import Connection, PgBase
from smsbridge.outbox.base import (
    ItemState,
    OutboxItem,
    OutboxStateError,
    message_key,
    next_status,
)
from smsbridge.outbox.pg_schema import LOCK_NAMESPACE
from smsbridge.results import DeliveryReport, SendResult
from smsbridge.status import Status

__all__ = ["PgOutcomes"]

_REPORT_LOCK = 2
"""Second-key namespace of the message-key locks (see :mod:`pg_schema`)."""


def _lock_keys(conn: Connection, keys: Iterable[str]) -> None:
    # Keyed by the message key alone, not (provider, key): a rare collision across
    # providers only makes one wait for the other, and the result does not need to read
    # its item (and so lock its row) before taking the key lock.
    for key in sorted(set(keys)):
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            (LOCK_NAMESPACE, f"{_REPORT_LOCK}:{key}"),
        )


class PgOutcomes(PgBase):
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
        return self.finish_many([(reference, result)], owner=owner, now=now)[0]

    def finish_many(
        self, results: Sequence[tuple[str, SendResult]], *, owner: str, now: float
    ) -> list[OutboxItem]:
        """:meth:`finish` for every recipient of one request, in one commit.

        Raises:
            LeaseError: When ``owner`` lacks the lease on any of them (nothing recorded).
            ItemNotFoundError: For an unknown reference.
        """
        keys = [message_key(result.message_id) for _, result in results]
        with self._tx() as conn:
            _lock_keys(conn, (key for key in keys if key is not None))
            items = self._held(conn, [reference for reference, _ in results], owner, None)
            for item, (reference, result), key in zip(items, results, keys, strict=True):
                status, _, _ = next_status(item.status, item.state, result.status)
                provider = result.provider or item.provider
                conn.execute(
                    "UPDATE attempts SET finished_at = %s, outcome = %s, error = %s, "
                    "outcome_unknown = %s WHERE reference = %s AND finished_at IS NULL",
                    (
                        float(now),
                        result.status.value,
                        codec.error_to_json(result.error),
                        result.status is Status.UNKNOWN,
                        reference,
                    ),
                )
                state = ItemState.UNKNOWN if status is Status.UNKNOWN else ItemState.DONE
                if key is not None and provider is not None:
                    status, state = self._unpark(conn, reference, provider, key, status, state)
                error = result.error or item.last_error
                conn.execute(
                    "UPDATE items SET state = %s, provider = %s, status = %s, "
                    "message_id = %s, message_key = %s, parts = %s, cost = %s, "
                    "last_error = %s, updated_at = %s, lease_owner = NULL, "
                    "lease_until = NULL WHERE reference = %s",
                    (
                        state.value,
                        provider,
                        None if status is None else status.value,
                        result.message_id,
                        key,
                        result.parts,
                        codec.cost_to_json(result.cost),
                        codec.error_to_json(error),
                        float(now),
                        reference,
                    ),
                )
            return [self._row(conn, reference) for reference, _ in results]

    @staticmethod
    def _unpark(
        conn: Connection,
        reference: str,
        provider: str,
        key: str,
        status: Status | None,
        state: ItemState,
    ) -> tuple[Status | None, ItemState]:
        parked = conn.execute(
            "SELECT id, report FROM reports WHERE reference IS NULL AND provider = %s "
            "AND message_key = %s ORDER BY id",
            (provider, key),
        ).fetchall()
        for report_id, text in parked:
            reported = codec.report_from_json(text).status
            status, state, changed = next_status(status, state, reported)
            conn.execute(
                "UPDATE reports SET reference = %s, disposition = %s WHERE id = %s",
                (reference, "applied" if changed else "ignored", report_id),
            )
        return status, state

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
            self._close_attempt(conn, reference, now, outcome, error, unknown=False)
            conn.execute(
                "UPDATE items SET state = 'retry_wait', next_attempt_at = %s, "
                "last_error = %s, excluded_providers = %s::text[], "
                "status = COALESCE(%s, status), updated_at = %s, lease_owner = NULL, "
                "lease_until = NULL WHERE reference = %s",
                (
                    float(next_attempt_at),
                    codec.error_to_json(error),
                    excluded,
                    None if outcome is None else outcome.value,
                    float(now),
                    reference,
                ),
            )
            return self._row(conn, reference)

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
            self._close_attempt(conn, reference, now, Status.UNKNOWN, error, unknown=True)
            conn.execute(
                "UPDATE items SET state = %s, status = %s, next_attempt_at = %s, "
                "last_error = %s, updated_at = %s, lease_owner = NULL, lease_until = NULL "
                "WHERE reference = %s",
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

    @staticmethod
    def _close_attempt(
        conn: Connection,
        reference: str,
        now: float,
        outcome: Status | None,
        error: ErrorInfo,
        *,
        unknown: bool,
    ) -> None:
        conn.execute(
            "UPDATE attempts SET finished_at = %s, outcome = %s, error = %s, "
            "outcome_unknown = %s WHERE reference = %s AND finished_at IS NULL",
            (
                float(now),
                None if outcome is None else outcome.value,
                codec.error_to_json(error),
                unknown,
                reference,
            ),
        )

    # -- delivery reports -------------------------------------------------------------

    def record_report(self, report: DeliveryReport, *, now: float) -> bool:
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

        Returns:
            True when an item's status changed.

        Raises:
            OutboxError: For database errors.
            CodecError: When ``report.raw`` holds a value that cannot be stored.
        """
        text = codec.report_to_json(report)
        key = message_key(report.message_id)
        with self._tx() as conn:
            rows: list[Any] = []
            if key is not None:
                _lock_keys(conn, [key])
                rows = conn.execute(
                    "SELECT reference, recipient, status, state FROM items "
                    "WHERE provider = %s AND message_key = %s ORDER BY reference FOR UPDATE",
                    (report.provider, key),
                ).fetchall()
                if len(rows) > 1 and report.recipient is not None:
                    rows = [row for row in rows if row[1] == report.recipient] or rows
            if not rows and report.reference is not None:
                row = conn.execute(
                    "SELECT reference, recipient, status, state, provider FROM items "
                    "WHERE reference = %s FOR UPDATE",
                    (report.reference,),
                ).fetchone()
                if row is not None and row[4] != report.provider:
                    # Another provider's report about a message we since sent elsewhere:
                    # history, not status.
                    self._store_report(conn, report.reference, report, key, "ignored", now, text)
                    return False
                rows = [row] if row is not None else []
            if not rows:
                self._store_report(conn, None, report, key, "pending", now, text)
                return False
            changed_any = False
            for reference, _, old, state, *_ in rows:
                status, new_state, changed = next_status(
                    None if old is None else Status(old), ItemState(state), report.status
                )
                if changed:
                    assert status is not None
                    conn.execute(
                        "UPDATE items SET status = %s, state = %s, updated_at = %s "
                        "WHERE reference = %s",
                        (status.value, new_state.value, float(now), reference),
                    )
                if report.cost is not None:
                    # A charge the provider reported (Clickatell callbacks, getmsgcharge)
                    # is what the message actually cost, whatever the status did.
                    conn.execute(
                        "UPDATE items SET cost = %s WHERE reference = %s",
                        (codec.cost_to_json(report.cost), reference),
                    )
                disposition = "applied" if changed else "ignored"
                self._store_report(conn, reference, report, key, disposition, now, text)
                changed_any = changed_any or changed
            return changed_any

    @staticmethod
    def _store_report(
        conn: Connection,
        reference: str | None,
        report: DeliveryReport,
        key: str | None,
        disposition: str,
        now: float,
        text: str,
    ) -> None:
        conn.execute(
            "INSERT INTO reports (reference, provider, message_key, disposition, "
            "received_at, report) VALUES (%s, %s, %s, %s, %s, %s)",
            (reference, report.provider, key, disposition, float(now), text),
        )
