"""The public task API: create, inspect, cancel, delete, copy and export tasks.

:class:`Tasks` works on one outbox file; a :class:`~smsbridge.tasks.TaskRunner` on the
same file starts them when they fall due. See ``docs/tasks.md``.
"""

from __future__ import annotations

import builtins
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from smsbridge.errors import ConfigurationError, InvalidMessageError, InvalidNumberError
from smsbridge.inputs import DEFAULT_ENCODING
from smsbridge.model import SendOptions, Template
from smsbridge.numbers import NumberNormaliser
from smsbridge.outbox.base import OutboxItem, OutboxStore
from smsbridge.outbox.sqlite import SqliteStore
from smsbridge.provider import Provider
from smsbridge.status import Status
from smsbridge.tasks.hours import DEFAULT_HOURS, HoursCheck, SendingHours
from smsbridge.tasks.importer import (
    MAX_XLSX_BYTES,
    ImportCounter,
    RecipientRow,
    check_file,
    read_rows,
    valid_rows,
)
from smsbridge.tasks.model import (
    FAILED,
    WAITING,
    ImportReport,
    SendingHoursError,
    Task,
    TaskDetail,
    TaskImportError,
    TaskNotFoundError,
    TaskState,
    TaskStateError,
    from_timestamp,
    status_filter,
)
from smsbridge.tasks.outputs import quote_task, write_failed
from smsbridge.tasks.store import TaskStore

if TYPE_CHECKING:
    from smsbridge.plugins import PluginManager
    from smsbridge.pricing import CreditRates, PriceTable, Quote

__all__ = ["FAILED", "WAITING", "Tasks"]


def _new_id() -> str:
    # Short: the id plus a line number is each message's client reference, and some
    # providers cap references at 32 characters.
    return f"task-{secrets.token_hex(6)}"


class Tasks:
    """Scheduled template tasks kept in an outbox file.

    Args:
        store: The outbox: a :class:`~smsbridge.outbox.SqliteStore` (left open on
            :meth:`close`) or the path of its file (opened and closed here).
        clock: Seconds since the epoch.
        cancel_cutoff: A task can be cancelled until this long before its time.
        expire_after: A task not started this long after its time is cancelled.
        max_numbers: Most unique numbers per task.
        max_ahead: Latest scheduled time, from now.
        region: Default region for national numbers in recipient files.
        strict_numbers: Drop numbers that are possible but not assigned.
        sending_hours: The local time of day recipients may receive a task in.
        report_wait: How long after its last change a message may stay without a
            final status report before its task completes without it.
        max_xlsx_bytes: Largest XLSX recipient file.
        plugin_manager: Where a task's provider is looked up for its number rules
            (the default plugin manager when ``None``).

    Raises:
        TaskError: When the store is in memory.
        StorageError: When the file cannot be opened (a subclass says why).
        NewerSchemaError: When the file was written by a newer smsbridge.
    """

    def __init__(
        self,
        store: SqliteStore | str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        cancel_cutoff: timedelta = timedelta(minutes=5),
        expire_after: timedelta = timedelta(hours=24),
        max_numbers: int = 1_000_000,
        max_ahead: timedelta = timedelta(days=31),
        region: str | None = None,
        strict_numbers: bool = False,
        sending_hours: SendingHours = DEFAULT_HOURS,
        report_wait: timedelta = timedelta(hours=72),
        max_xlsx_bytes: int = MAX_XLSX_BYTES,
        plugin_manager: PluginManager | None = None,
    ) -> None:
        self._owns_outbox = not isinstance(store, SqliteStore)
        outbox = SqliteStore(store) if not isinstance(store, SqliteStore) else store
        self.outbox: OutboxStore = outbox
        self.path = outbox.path
        try:
            self.store = TaskStore(self.path)
        except BaseException:
            if self._owns_outbox:
                outbox.close()
            raise
        self.clock = clock
        self.cancel_cutoff = cancel_cutoff
        self.expire_after = expire_after
        self.max_numbers = max_numbers
        self.max_ahead = max_ahead
        self.normaliser = NumberNormaliser(region, strict_numbers)
        self.region = region
        self.strict_numbers = strict_numbers
        self.sending_hours = sending_hours
        self.report_wait = report_wait
        self.max_xlsx_bytes = max_xlsx_bytes
        self.plugin_manager = plugin_manager

    # -- creating -------------------------------------------------------------------

    def create(
        self,
        name: str,
        recipients: str | os.PathLike[str],
        *,
        body: str | None = None,
        template: Template | str | None = None,
        sender: str | None = None,
        provider: str | None = None,
        options: SendOptions | None = None,
        scheduled_at: datetime | None = None,
        number_column: str | None = None,
        sheet: str | None = None,
        copied_from: str | None = None,
        on_line: Callable[[], None] | None = None,
        encoding: str = DEFAULT_ENCODING,
        allow_outside_hours: bool = False,
    ) -> tuple[Task, ImportReport]:
        """Import a recipient file and create a pending task.

        Numbers are normalised to E.164 and de-duplicated; invalid ones (and lines
        missing a template variable) are dropped and listed in the report. A task bound
        to a provider checks each number the way that provider will
        (:meth:`~smsbridge.provider.Provider.normalise_number`), so a number the
        provider would delete is an invalid line here. Recipients reached outside the
        sending hours at the task's time (their local time, from the number) refuse the
        task unless ``allow_outside_hours``; then they are a warning of the report.

        Args:
            name: A name for people.
            recipients: A CSV or XLSX file with a header row (see
                :mod:`smsbridge.tasks.importer`).
            body: The shared text (exclusive with ``template``).
            template: A :class:`~smsbridge.Template` or its text, filled per line.
            sender: Sender id.
            provider: Send only through this provider; ``None`` follows the routing
                policy of the worker that runs it.
            options: Send options for every message (not ``scheduled_at``).
            scheduled_at: A timezone-aware start time, at most ``max_ahead`` from now;
                ``None`` starts the task at the next worker tick.
            number_column: The header of the number column (found when ``None``).
            sheet: The XLSX sheet (the first by default).
            copied_from: The task this one copies (set by :meth:`copy`).
            on_line: Called once per line read (a progress bar's tick).
            encoding: The CSV's encoding, unless it starts with a byte-order mark.
            allow_outside_hours: Create the task even when it reaches recipients
                outside ``sending_hours`` (the report then warns).

        Returns:
            The task and its import report.

        Raises:
            InvalidMessageError: For a bad text, template, scheduled time or an
                unknown ``provider``.
            TaskImportError: When the file's name or size breaks the rules, it is
                unreadable, holds no valid number (the reason names the first invalid
                lines) or more than ``max_numbers``.
            SendingHoursError: When recipients would get it outside the sending hours
                and ``allow_outside_hours`` is false.
        """
        now = self.clock()
        if isinstance(template, str):
            template = Template(template)
        scheduled = self._check_schedule(scheduled_at, now)
        normaliser = self._number_rules(provider)
        task = Task(
            id=_new_id(),
            name=name,
            body=body,
            template=template,
            sender=sender,
            provider=provider,
            options=options or SendOptions(),
            scheduled_at=scheduled,
            created_at=datetime.fromtimestamp(now, UTC),
            source=Path(recipients).name,
            copied_from=copied_from,
        )
        hours = HoursCheck(task.due_at, self.sending_hours)
        check_file(recipients, max_xlsx_bytes=self.max_xlsx_bytes)
        counter = ImportCounter(source=str(recipients))
        try:
            rows = read_rows(
                recipients, number_column=number_column, sheet=sheet, encoding=encoding
            )
            if on_line is not None:
                rows = _observed(rows, on_line)
            good = valid_rows(rows, normaliser, counter, template)
            self.store.stage(task.id, good, counter, max_numbers=self.max_numbers)
            if counter.imported == 0:
                raise TaskImportError(counter.refusal(), report=counter.report())
            for row in self.store.staged(task.id):  # unique numbers only
                hours.see(row.number)
            report = _with_hours(counter.report(), hours)
            warning = hours.warning()
            if warning is not None and not allow_outside_hours:
                raise SendingHoursError(
                    f"{warning}; choose another time or allow it explicitly "
                    "(allow_outside_hours=True, --outside-hours)",
                    when=task.due_at,
                    report=report,
                )
            task = attrs.evolve(task, recipients=counter.imported)
            self.store.insert(task, now=now)
        except BaseException:
            self.store.discard(task.id)
            raise
        return task, report

    def _number_rules(self, provider: str | None) -> Callable[[str], str]:
        """How numbers are checked: the bound provider's rules, else smsbridge's."""
        if provider is None:
            return self.normaliser
        from smsbridge.plugins import default_plugin_manager  # the registry loads plugins

        manager = self.plugin_manager or default_plugin_manager()
        try:
            cls = manager.registry.get(provider)
        except ConfigurationError as exc:
            raise InvalidMessageError(str(exc), field="provider", value=provider) from None
        region, strict = self.region, self.strict_numbers
        return lambda number: cls.normalise_number(number, region=region, strict=strict)

    def copy(
        self,
        task_id: str,
        name: str,
        recipients: str | os.PathLike[str],
        *,
        scheduled_at: datetime | None = None,
        number_column: str | None = None,
        sheet: str | None = None,
        on_line: Callable[[], None] | None = None,
        encoding: str = DEFAULT_ENCODING,
        allow_outside_hours: bool = False,
    ) -> tuple[Task, ImportReport]:
        """A new task with another task's text, sender, provider and options; the
        recipients are imported again from ``recipients``.

        Args:
            task_id: The task to copy (any state, deleted ones excepted).
            name: The new task's name.
            recipients: Its recipient file.
            scheduled_at: Its start time (``None``: at the next tick).
            number_column: As for :meth:`create`.
            sheet: As for :meth:`create`.
            on_line: As for :meth:`create`.
            encoding: As for :meth:`create`.
            allow_outside_hours: As for :meth:`create`.

        Returns:
            The new task and its import report.

        Raises:
            TaskNotFoundError: For an unknown id.
            TaskImportError: As for :meth:`create`.
            SendingHoursError: As for :meth:`create`.
        """
        source = self.get(task_id)
        return self.create(
            name,
            recipients,
            body=source.body,
            template=source.template,
            sender=source.sender,
            provider=source.provider,
            options=source.options,
            scheduled_at=scheduled_at,
            number_column=number_column,
            sheet=sheet,
            copied_from=source.id,
            on_line=on_line,
            encoding=encoding,
            allow_outside_hours=allow_outside_hours,
        )

    # -- reading --------------------------------------------------------------------

    def list(
        self, state: TaskState | None = None, *, name: str | None = None
    ) -> builtins.list[Task]:
        """Every task, oldest first, optionally only those in ``state``.

        Args:
            state: Only tasks in this state.
            name: Only tasks whose name contains this text (any case), as the
                console's filter by task name.
        """
        return self.store.select(state, name=name)

    def get(self, task_id: str) -> Task:
        """The task.

        Raises:
            TaskNotFoundError: For an unknown id.
        """
        task = self.store.get(task_id)
        if task is None:
            raise TaskNotFoundError(f"no task has id {task_id!r}")
        return task

    def details(
        self, task_id: str, *, number: str | None = None, status: Status | str | None = None
    ) -> Iterator[TaskDetail]:
        """Stream the task's numbers with what happened to each, in file order.

        Args:
            task_id: The task.
            number: Only this number (normalised like the file's numbers).
            status: Only numbers with this :class:`~smsbridge.Status` (or its value),
                :data:`FAILED` for every failed one, or :data:`WAITING` for those with
                no status yet.

        Returns:
            A lazy iterator of details.

        Raises:
            TaskNotFoundError: For an unknown id.
            InvalidMessageError: For an unknown status filter.
        """
        task = self.get(task_id)
        wanted = status_filter(status)
        if number is not None:
            try:
                number = self._number_rules(task.provider)(number)
            except InvalidNumberError:
                return iter(())
        return (d for d in self._details(task, number) if wanted(d))

    def _details(self, task: Task, number: str | None) -> Iterator[TaskDetail]:
        if task.state in (TaskState.PENDING, TaskState.CANCELLED) or task.started_at is None:
            for row in self.store.staged(task.id, number):
                yield TaskDetail(
                    reference=f"{task.id}-{row.line}", number=row.number, line=row.line
                )
            return
        for item in self.outbox.iter_items(batch=task.id):
            if number is None or item.recipient == number:
                yield self._detail(item)

    def _detail(self, item: OutboxItem) -> TaskDetail:
        history = self.outbox.history(item.reference)
        sent_at = reported_at = None
        if history is not None:
            if history.attempts:
                sent_at = from_timestamp(history.attempts[-1].started_at)
            if history.reports:
                reported_at = history.reports[-1].received_at
        line = item.reference.rsplit("-", 1)[-1]
        return TaskDetail(
            reference=item.reference,
            number=item.recipient,
            line=int(line) if line.isdigit() else None,
            state=item.state,
            status=item.status,
            provider=item.provider,
            message_id=item.message_id,
            parts=item.parts,
            sent_at=sent_at,
            reported_at=reported_at,
            error=item.last_error,
        )

    def quote(
        self,
        task_id: str,
        providers: Sequence[Provider],
        *,
        table: PriceTable | None,
        rates: CreditRates | None = None,
        currency: str | None = None,
    ) -> Quote:
        """What a pending task will cost, per provider, from its staged recipients.

        A task bound to a provider is quoted through that provider only. The text is
        rendered per recipient and segmented like a send, so the parts are what each
        provider bills.

        Args:
            task_id: The task (pending, or cancelled with its recipients still staged).
            providers: The candidates (see :func:`smsbridge.pricing.quote`).
            table: Prices by destination.
            rates: Credits-to-money rates.
            currency: Compare in this currency.

        Returns:
            The :class:`~smsbridge.pricing.Quote`.

        Raises:
            TaskNotFoundError: For an unknown id.
            TaskStateError: When the task has started: its recipients are in the
                outbox, whose actual spend ``smsbridge quote --actual`` compares.
            ConfigurationError: When the bound provider is not among ``providers``.
        """
        task = self.get(task_id)
        return quote_task(task, self.store, providers, table=table, rates=rates, currency=currency)

    def export_failed(self, task_id: str, path: str | os.PathLike[str]) -> int:
        """Write the task's failed numbers to a CSV file.

        The first column is ``to``, so the file can be imported again as a new task
        (:meth:`copy`) once the numbers are fixed.

        Args:
            task_id: The task.
            path: The CSV file to write (replaced if it exists).

        Returns:
            How many numbers were written.

        Raises:
            TaskNotFoundError: For an unknown id.
            OSError: When the file cannot be written.
        """
        return write_failed(self.details(task_id, status=FAILED), path)

    # -- changing -------------------------------------------------------------------

    def cancel(self, task_id: str) -> Task:
        """Cancel a pending task, no later than ``cancel_cutoff`` before its time.

        Args:
            task_id: The task.

        Returns:
            The cancelled task.

        Raises:
            TaskNotFoundError: For an unknown id.
            TaskStateError: When it is not pending, or starts within the cut-off (a
                task without a scheduled time starts at once: it cannot be cancelled).
        """
        task = self.get(task_id)
        now = self.clock()
        if task.state is not TaskState.PENDING:
            raise TaskStateError(
                f"task {task_id} is {task.state.value}: only a pending task can be cancelled"
            )
        cutoff = self.cancel_cutoff.total_seconds()
        if task.due_at.timestamp() - cutoff < now:
            raise TaskStateError(
                f"task {task_id} starts at {task.due_at.isoformat()}: it can be cancelled "
                f"only until {cutoff / 60:g} minutes before its scheduled time"
            )
        if not self.store.cancel(
            task_id, now=now, not_due_before=now + cutoff, reason="cancelled by the user"
        ):
            # A worker started it between the read and the update.
            raise TaskStateError(f"task {task_id} is no longer pending")
        return self.get(task_id)

    def delete(self, task_id: str) -> None:
        """Delete a cancelled task and its staged recipients.

        Raises:
            TaskNotFoundError: For an unknown id.
            TaskStateError: When the task is not cancelled.
        """
        task = self.get(task_id)
        if task.state is not TaskState.CANCELLED or not self.store.delete_cancelled(task_id):
            raise TaskStateError(
                f"task {task_id} is {task.state.value}: only a cancelled task can be deleted"
            )

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Close the task tables, and the outbox when it was opened here."""
        self.store.close()
        if self._owns_outbox:
            self.outbox.close()

    def __enter__(self) -> Tasks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_schedule(self, scheduled_at: datetime | None, now: float) -> datetime | None:
        if scheduled_at is None:
            return None
        if scheduled_at.tzinfo is None:
            raise InvalidMessageError(
                "scheduled_at must be timezone-aware", field="scheduled_at", value=scheduled_at
            )
        when = scheduled_at.timestamp()
        if when < now:
            raise InvalidMessageError(
                "scheduled_at is in the past", field="scheduled_at", value=scheduled_at
            )
        if when - now > self.max_ahead.total_seconds():
            raise InvalidMessageError(
                f"scheduled_at is more than {self.max_ahead.days} days ahead",
                field="scheduled_at",
                value=scheduled_at,
            )
        return from_timestamp(when)


def _with_hours(report: ImportReport, hours: HoursCheck) -> ImportReport:
    warning = hours.warning()
    return attrs.evolve(
        report, outside_hours=hours.outside, warnings=() if warning is None else (warning,)
    )


def _observed(rows: Iterator[RecipientRow], on_line: Callable[[], None]) -> Iterator[RecipientRow]:
    for row in rows:
        on_line()
        yield row
