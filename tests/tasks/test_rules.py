"""Life-cycle rules and import limits, without sending anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from smsbridge.errors import InvalidMessageError
from smsbridge.outbox import SqliteStore
from smsbridge.tasks import TaskImportError, TaskNotFoundError, Tasks, TaskState, TaskStateError
from smsbridge.tasks.importer import read_rows
from smsbridge.testing import ManualClock


def soon(clock: ManualClock, **delta: float) -> datetime:
    return datetime.fromtimestamp(clock(), UTC) + timedelta(**delta)


def test_cancel_is_allowed_up_to_the_cutoff_exactly(
    tasks: Tasks, clock: ManualClock, recipients_csv: Path
) -> None:
    task, _ = tasks.create("t", recipients_csv, body="x", scheduled_at=soon(clock, minutes=5))
    assert tasks.cancel(task.id).state is TaskState.CANCELLED
    with pytest.raises(TaskStateError, match="only a pending task"):
        tasks.cancel(task.id)


def test_a_task_without_a_time_cannot_be_cancelled(tasks: Tasks, recipients_csv: Path) -> None:
    task, _ = tasks.create("t", recipients_csv, body="x")
    with pytest.raises(TaskStateError):
        tasks.cancel(task.id)


def test_the_cutoff_is_configurable(
    outbox: SqliteStore, clock: ManualClock, recipients_csv: Path
) -> None:
    with Tasks(outbox, clock=clock, region="GB", cancel_cutoff=timedelta(minutes=30)) as tasks:
        task, _ = tasks.create("t", recipients_csv, body="x", scheduled_at=soon(clock, minutes=20))
        with pytest.raises(TaskStateError, match="30 minutes"):
            tasks.cancel(task.id)


def test_only_cancelled_tasks_can_be_deleted(tasks: Tasks, recipients_csv: Path) -> None:
    task, _ = tasks.create("t", recipients_csv, body="x")
    with pytest.raises(TaskStateError, match="only a cancelled task"):
        tasks.delete(task.id)
    with pytest.raises(TaskNotFoundError):
        tasks.delete("task-missing")


@pytest.mark.parametrize(
    ("delta", "message"),
    [(timedelta(minutes=-1), "in the past"), (timedelta(days=32), "31 days ahead")],
)
def test_scheduled_time_must_be_ahead_and_within_a_month(
    tasks: Tasks, clock: ManualClock, recipients_csv: Path, delta: timedelta, message: str
) -> None:
    with pytest.raises(InvalidMessageError, match=message):
        tasks.create("t", recipients_csv, body="x", scheduled_at=soon(clock) + delta)


def test_naive_scheduled_time_is_refused(tasks: Tasks, recipients_csv: Path) -> None:
    with pytest.raises(InvalidMessageError, match="timezone-aware"):
        tasks.create("t", recipients_csv, body="x", scheduled_at=datetime(2026, 1, 2))


def test_too_many_numbers_are_refused_and_nothing_is_kept(
    outbox: SqliteStore, clock: ManualClock, recipients_csv: Path
) -> None:
    with Tasks(outbox, clock=clock, region="GB", max_numbers=3) as tasks:
        with pytest.raises(TaskImportError, match="more than 3 numbers") as info:
            tasks.create("t", recipients_csv, body="x")
        assert info.value.report is not None
        assert tasks.list() == []
        assert list(tasks.store.staged("t")) == []


def test_only_invalid_numbers_are_refused_with_the_reason(tasks: Tasks, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("number\n12\n\nabc\n", encoding="utf-8")
    with pytest.raises(TaskImportError, match=r"only invalid numbers \(2\): line 2: '12'"):
        tasks.create("t", path, body="x")
    assert tasks.list() == []


def test_a_header_without_a_number_column_is_refused(tasks: Tasks, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name\nAnn\n", encoding="utf-8")
    with pytest.raises(TaskImportError, match="no number column"):
        tasks.create("t", path, body="x")


def test_xlsx_sheet_import(tasks: Tasks, tmp_path: Path) -> None:
    path = tmp_path / "numbers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "first"
    sheet.append(["Phone", "name"])
    sheet.append([447700900001, "Ann"])  # typed as a number in the spreadsheet
    sheet.append(["+447700900001", "Ann"])
    sheet.append(["x", "Bad"])
    book.save(path)
    book.close()
    assert [row.number for row in read_rows(path)] == ["447700900001", "+447700900001", "x"]
    task, report = tasks.create("t", path, template="Hi {name}")
    assert (report.imported, report.duplicates, report.invalid) == (1, 1, 1)
    assert [d.number for d in tasks.details(task.id)] == ["+447700900001"]
