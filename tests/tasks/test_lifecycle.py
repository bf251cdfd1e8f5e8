"""The issue's scenario through the Python API: import, schedule, cancel (in time and
too late), run on a simulated clock, expire after 24 hours, export the failures."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsbridge.dispatch import Dispatcher
from smsbridge.errors import InvalidMessageError
from smsbridge.outbox import ItemState, NewItem, SqliteStore
from smsbridge.status import Status
from smsbridge.tasks import (
    FAILED,
    TaskImportError,
    Tasks,
    TaskState,
    TaskStateError,
)
from smsbridge.tasks.scheduler import item_reference
from smsbridge.testing import ManualClock
from smsbridge_clickatell.emulator import ClickatellEmulator

from .conftest import BLOCKED, runner_with_poller

GOOD = ("+447700900001", "+447700900002", "+447700900003", BLOCKED)


def at(clock: ManualClock, delta: timedelta) -> datetime:
    return datetime.fromtimestamp(clock(), UTC) + delta


def test_import_schedule_cancel_run_expire_export(
    tasks: Tasks,
    clock: ManualClock,
    recipients_csv: Path,
    make_dispatcher: Callable[[], Dispatcher],
    emulator: ClickatellEmulator,
    tmp_path: Path,
) -> None:
    hour = timedelta(hours=1)
    early, report = tasks.create(
        "early", recipients_csv, body="Hello", scheduled_at=at(clock, hour)
    )
    assert (report.imported, report.duplicates, report.invalid) == (4, 2, 2)
    assert [line.line for line in report.invalid_lines] == [5, 7]
    assert [line.value for line in report.invalid_lines] == ["12", "not a number"]
    assert early.state is TaskState.PENDING and early.recipients == 4
    assert [d.number for d in tasks.details(early.id)] == list(GOOD)

    run, _ = tasks.create("run", recipients_csv, template="Hi {name}", scheduled_at=at(clock, hour))
    late, _ = tasks.create("late", recipients_csv, body="Late", scheduled_at=at(clock, 2 * hour))

    # More than five minutes ahead: cancelled.
    cancelled = tasks.cancel(early.id)
    assert cancelled.state is TaskState.CANCELLED
    assert cancelled.reason == "cancelled by the user"

    # Inside the five minutes: refused, and the task stays pending.
    clock.advance((hour - timedelta(minutes=4)).total_seconds())
    with pytest.raises(TaskStateError, match="5 minutes"):
        tasks.cancel(run.id)
    assert tasks.get(run.id).state is TaskState.PENDING

    dispatcher = make_dispatcher()
    runner = runner_with_poller(tasks, dispatcher)
    assert runner.tick().started == ()  # not due yet

    clock.advance(timedelta(minutes=4).total_seconds())
    result = runner.run(timeout=30)
    assert result.started == (run.id,)
    assert result.completed == (run.id,)
    done = tasks.get(run.id)
    assert done.state is TaskState.COMPLETED
    assert done.started_at is not None and done.finished_at is not None
    sent = emulator.submissions.accepted_recipients()
    assert sent == {number: 1 for number in GOOD if number != BLOCKED}

    details = {d.number: d for d in tasks.details(run.id)}
    assert details["+447700900001"].status is not None
    assert details["+447700900001"].status.is_success
    assert details["+447700900001"].message_id
    assert details["+447700900001"].sent_at is not None
    assert details[BLOCKED].failed and details[BLOCKED].state is ItemState.DONE
    assert [d.number for d in tasks.details(run.id, status=FAILED)] == [BLOCKED]
    assert [d.number for d in tasks.details(run.id, number="07700 900003")] == ["+447700900003"]

    # Nobody ran a worker for a day past its time: the late task expires.
    clock.advance((hour + timedelta(hours=24, seconds=1)).total_seconds())
    expired = runner.tick()
    assert expired.expired == (late.id,)
    gone = tasks.get(late.id)
    assert gone.state is TaskState.CANCELLED
    assert gone.reason == "not started within 24 hours after its scheduled time"

    export = tmp_path / "failed.csv"
    assert tasks.export_failed(run.id, export) == 1
    with export.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["to"] for row in rows] == [BLOCKED]
    assert rows[0]["line"] == "8"
    assert rows[0]["error_code"] == "121"

    tasks.delete(late.id)
    assert [t.id for t in tasks.list()] == [early.id, run.id]

    # A copy keeps the text, not the recipients: the failed numbers lack the template's
    # column, so importing them for the template task is refused with the reason.
    with pytest.raises(TaskImportError, match="template variable 'name' has no value"):
        tasks.copy(run.id, "run again", export)
    copy, copy_report = tasks.copy(run.id, "run again", recipients_csv)
    assert copy.template == run.template and copy.copied_from == run.id
    assert copy_report.imported == 4 and copy.state is TaskState.PENDING
    assert len(tasks.list()) == 3


def test_a_restarted_worker_starts_and_completes_a_task(
    outbox: SqliteStore,
    clock: ManualClock,
    recipients_csv: Path,
    make_dispatcher: Callable[[], Dispatcher],
    emulator: ClickatellEmulator,
) -> None:
    # One process plans the task and goes away; another, opened later, runs it.
    with Tasks(outbox.path, clock=clock, region="GB") as planner:
        task, _ = planner.create(
            "later", recipients_csv, body="Hi", scheduled_at=at(clock, timedelta(hours=3))
        )
    clock.advance(timedelta(hours=3).total_seconds())
    with Tasks(outbox, clock=clock, region="GB") as worker:
        runner = runner_with_poller(worker, make_dispatcher())
        runner.run(timeout=30)
        assert worker.get(task.id).state is TaskState.COMPLETED
    assert sum(emulator.submissions.accepted_recipients().values()) == 3


def test_an_interrupted_start_is_finished_by_the_next_tick(
    tasks: Tasks,
    outbox: SqliteStore,
    clock: ManualClock,
    recipients_csv: Path,
    make_dispatcher: Callable[[], Dispatcher],
) -> None:
    task, _ = tasks.create("now", recipients_csv, body="Hi")
    # A worker marked it executing, enqueued one recipient, and died.
    assert tasks.store.start(task.id, now=clock())
    runner = runner_with_poller(tasks, make_dispatcher())
    first = NewItem(
        reference=item_reference(task.id, 2),
        recipient="+447700900001",
        body="Hi",
        batch=task.id,
    )
    outbox.add([first], now=clock())

    runner.tick()
    assert outbox.counts(batch=task.id)[ItemState.PENDING] == 4
    runner.run(timeout=30)
    assert tasks.get(task.id).state is TaskState.COMPLETED
    assert sum(outbox.counts(batch=task.id).values()) == 4


def test_a_task_pinned_to_a_missing_provider_fails_its_numbers(
    tasks: Tasks,
    recipients_csv: Path,
    make_dispatcher: Callable[[], Dispatcher],
    emulator: ClickatellEmulator,
) -> None:
    task, _ = tasks.create("pinned", recipients_csv, body="Hi", provider="bulksms")
    runner_with_poller(tasks, make_dispatcher()).run(timeout=30)
    assert tasks.get(task.id).state is TaskState.COMPLETED
    assert len(list(tasks.details(task.id, status=FAILED))) == 4
    assert emulator.submissions.accepted_recipients() == {}


def test_status_filter_by_value(
    tasks: Tasks, recipients_csv: Path, make_dispatcher: Callable[[], Dispatcher]
) -> None:
    task, _ = tasks.create("now", recipients_csv, body="Hi")
    runner_with_poller(tasks, make_dispatcher()).run(timeout=30)
    rejected = [d.number for d in tasks.details(task.id, status=Status.REJECTED)]
    assert rejected == [BLOCKED]
    assert [d.number for d in tasks.details(task.id, status="rejected")] == [BLOCKED]
    with pytest.raises(InvalidMessageError, match="unknown status filter"):
        tasks.details(task.id, status="nonsense")
