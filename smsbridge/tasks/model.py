"""The values of scheduled template tasks: the task, its state, its import report, the
per-number details, and the errors task operations raise.

Times are timezone-aware UTC :class:`~datetime.datetime` values in everything a caller
sees; the store keeps seconds since the epoch, like the outbox.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs

from smsbridge.errors import ErrorInfo, InvalidMessageError, SmsBridgeError
from smsbridge.model import SendOptions, Template
from smsbridge.outbox.base import ItemState
from smsbridge.status import Status

__all__ = [
    "FAILED",
    "WAITING",
    "ImportReport",
    "InvalidLine",
    "SendingHoursError",
    "Task",
    "TaskDetail",
    "TaskError",
    "TaskImportError",
    "TaskNotFoundError",
    "TaskState",
    "TaskStateError",
    "from_timestamp",
    "status_filter",
]


def from_timestamp(value: float | None) -> datetime | None:
    """Seconds since the epoch as an aware UTC datetime (``None`` stays ``None``)."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


class TaskState(enum.Enum):
    """Where a task stands. The only moves are pending → executing → completed and
    pending → cancelled."""

    PENDING = "pending"
    """Recipients imported and staged; waiting for its time (or the next worker tick)."""
    EXECUTING = "executing"
    """Its recipients are in the outbox: being sent, or sent and waiting for status
    reports."""
    COMPLETED = "completed"
    """Every number's status report returned (a final status, or a refusal before
    sending), or the task's report wait ran out; then ``reason`` counts the numbers
    without a report."""
    CANCELLED = "cancelled"
    """Stopped before it started, by the user or because it was never started in time."""


class TaskError(SmsBridgeError):
    """A task operation could not be done."""


class TaskNotFoundError(TaskError, KeyError):
    """No task has this id."""

    def __str__(self) -> str:
        # KeyError would otherwise quote the message like a key.
        return TaskError.__str__(self)


class TaskStateError(TaskError):
    """The task's state (or the time) does not allow the operation, e.g. cancelling a
    task less than the cut-off before its scheduled time."""


@attrs.frozen(slots=True)
class InvalidLine:
    """One recipient line dropped at import.

    Args:
        line: The 1-based line (CSV) or row (XLSX) in the file, the header included.
        value: The number as written in the file.
        reason: Why it was dropped.
    """

    line: int
    value: str
    reason: str


def _lines(value: Iterable[InvalidLine]) -> tuple[InvalidLine, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(slots=True, kw_only=True)
class ImportReport:
    """What an import kept and dropped.

    Args:
        imported: Unique valid numbers kept.
        duplicates: Numbers dropped because the same E.164 number came earlier.
        invalid: Lines dropped as invalid (all of them are counted).
        invalid_lines: The first invalid lines, in file order; at most ``listed_limit``
            are kept so that a huge bad file does not fill memory.
        listed_limit: How many invalid lines are listed at most.
        outside_hours: Numbers the task reaches outside the sending hours at its time.
        warnings: Sentences a person should read (sending outside the hours).
    """

    imported: int
    duplicates: int
    invalid: int
    invalid_lines: tuple[InvalidLine, ...] = attrs.field(converter=_lines)
    listed_limit: int = 1000
    outside_hours: int = 0
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    @property
    def unlisted(self) -> int:
        """Invalid lines counted but not listed."""
        return self.invalid - len(self.invalid_lines)

    def summary(self) -> str:
        """One line a person reads, as in Huawei's Group SMS Assistant."""
        return (
            f"{self.imported} number(s) imported; {self.duplicates} duplicate(s) and "
            f"{self.invalid} invalid number(s) removed"
        )


class TaskImportError(TaskError, InvalidMessageError):
    """The recipient file was refused as a whole (no valid number, too many numbers, an
    unreadable file or a header without the number column).

    Args:
        message: Why.
        report: What was counted before the refusal, when reading got that far.
    """

    def __init__(self, message: str, *, report: ImportReport | None = None) -> None:
        super().__init__(message, field="recipients")
        self.report = report


class SendingHoursError(TaskError, InvalidMessageError):
    """The task would reach recipients outside the sending hours, and nobody said that
    is intended (``allow_outside_hours``). Nothing was kept.

    Args:
        message: How many numbers, and an example with its local time.
        when: When the task would send.
        report: The import's counts.
    """

    def __init__(self, message: str, *, when: datetime, report: ImportReport) -> None:
        super().__init__(message, field="scheduled_at", value=when.isoformat())
        self.report = report


def _aware(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise InvalidMessageError(
            f"{attribute.name} must be a timezone-aware datetime", field=attribute.name
        )


@attrs.frozen(slots=True, kw_only=True)
class Task:
    """A campaign: a text (one body or a template) for the recipients of one file, sent
    now or at a scheduled time.

    Args:
        id: The task's id; also the outbox ``batch`` of its messages.
        name: A name for people.
        body: The shared text (exclusive with ``template``).
        template: The template rendered per recipient (exclusive with ``body``).
        sender: Sender id, or ``None`` for the account default.
        provider: The provider every message must go through, or ``None`` to follow
            the worker's routing policy.
        options: Send options for every message (never ``scheduled_at``: the task
            schedules itself, so providers without scheduling can carry it).
        scheduled_at: When to start; ``None`` means at the first worker tick.
        created_at: When it was created.
        state: Its life-cycle state.
        recipients: Numbers imported.
        source: The name of the file the recipients came from.
        started_at: When its recipients went into the outbox.
        finished_at: When it completed or was cancelled.
        reason: Why it was cancelled, or why it completed without every status report.
        copied_from: The task it was copied from, if any.
    """

    id: str
    name: str
    body: str | None = None
    template: Template | None = None
    sender: str | None = None
    provider: str | None = None
    options: SendOptions = attrs.field(factory=SendOptions)
    scheduled_at: datetime | None = attrs.field(default=None, validator=_aware)
    created_at: datetime = attrs.field(validator=_aware)
    state: TaskState = TaskState.PENDING
    recipients: int = 0
    source: str | None = None
    started_at: datetime | None = attrs.field(default=None, validator=_aware)
    finished_at: datetime | None = attrs.field(default=None, validator=_aware)
    reason: str | None = None
    copied_from: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.body is None) == (self.template is None):
            raise InvalidMessageError("a task needs exactly one of body or template", field="body")
        if self.options.scheduled_at is not None:
            raise InvalidMessageError(
                "set the task's scheduled_at, not options.scheduled_at", field="options"
            )

    @property
    def due_at(self) -> datetime:
        """When it is due to start: its scheduled time, else its creation time."""
        return self.scheduled_at or self.created_at

    @property
    def text(self) -> str:
        """The body or the template text."""
        return self.body if self.body is not None else (self.template.text if self.template else "")


@attrs.frozen(slots=True, kw_only=True)
class TaskDetail:
    """One number of a task and what happened to its message.

    Args:
        reference: The outbox reference of its message.
        number: The E.164 number.
        line: Its line in the imported file.
        state: The outbox state; ``None`` while the task has not started.
        status: The latest provider status (result or delivery report), if any.
        provider: The provider of the current or last attempt.
        message_id: The provider's message id.
        parts: SMS parts billed, when known.
        sent_at: When the last attempt left.
        reported_at: When the latest delivery report was received.
        error: The latest error.
    """

    reference: str
    number: str
    line: int | None
    state: ItemState | None = None
    status: Status | None = None
    provider: str | None = None
    message_id: str | None = None
    parts: int | None = None
    sent_at: datetime | None = None
    reported_at: datetime | None = None
    error: ErrorInfo | None = None

    @property
    def failed(self) -> bool:
        """True when the message is settled and did not get through: refused, failed
        for good, or reported as failed or expired after it was accepted."""
        if self.status is not None and self.status.is_failure:
            return True
        return self.state is ItemState.DONE and (self.status is None or not self.status.is_success)


FAILED = "failed"
"""A details ``status`` filter: every failed number."""
WAITING = "waiting"
"""A details ``status`` filter: numbers with no status yet."""


def status_filter(status: Status | str | None) -> Callable[[TaskDetail], bool]:
    """The predicate for a details ``status`` filter.

    Args:
        status: A :class:`~smsbridge.Status` or its value, :data:`FAILED`,
            :data:`WAITING`, or ``None`` for everything.

    Returns:
        A predicate on :class:`TaskDetail`.

    Raises:
        InvalidMessageError: For an unknown filter.
    """
    if status is None:
        return lambda _detail: True
    if status == FAILED:
        return lambda detail: detail.failed
    if status == WAITING:
        return lambda detail: detail.status is None and not detail.failed
    try:
        wanted = Status(status)
    except ValueError:
        raise InvalidMessageError(
            f"unknown status filter {status!r}: a status, {FAILED!r} or {WAITING!r}",
            field="status",
            value=status,
        ) from None
    return lambda detail: detail.status is wanted
