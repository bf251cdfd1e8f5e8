"""Fixtures for the task tests: a recipient file with good, bad and repeated numbers,
a simulated clock, and a Clickatell emulator refusing one number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.dispatch import Dispatcher
from smsbridge.outbox import SqliteStore
from smsbridge.reports import Poller
from smsbridge.router import Router
from smsbridge.tasks import TaskRunner, Tasks
from smsbridge.testing import EmulatorFactory, ManualClock
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

START = 1_767_225_600.0
"""2026-01-01T00:00:00Z, the simulated "now" the tests start from."""

BLOCKED = "+447700900004"
"""A number the emulator refuses (Clickatell error 121, blocked), so a task has a failure."""

RECIPIENTS = (
    "to,name\n"
    "+447700900001,Ann\n"
    "07700 900002,Bob\n"  # national, normalised with region GB
    "+447700900001,Ann again\n"  # duplicate of line 2
    "12,Short\n"  # invalid
    "+447700900003,Cy\n"
    "not a number,Dee\n"  # invalid
    "+447700900004,Eve\n"
    "0044 7700 900002,Bob again\n"  # duplicate of line 3 once normalised
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def recipients_csv(tmp_path: Path) -> Path:
    path = tmp_path / "recipients.csv"
    path.write_text(RECIPIENTS, encoding="utf-8")
    return path


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    # Final at the first status query, so one polling round brings every report in.
    return smsbridge_emulator_factory(
        ClickatellEmulator,
        balance=Decimal(1000),
        number_errors={BLOCKED[1:]: "121"},
        queries_until_final=0,
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "outbox.sqlite3", synchronous="NORMAL") as store:
        yield store


@pytest.fixture
def tasks(outbox: SqliteStore, clock: ManualClock) -> Iterator[Tasks]:
    with Tasks(outbox, clock=clock, region="GB") as opened:
        yield opened


@pytest.fixture
def make_dispatcher(
    emulator: ClickatellEmulator, outbox: SqliteStore, clock: ManualClock
) -> Iterator[Callable[[], Dispatcher]]:
    made: list[tuple[ClickatellProvider, Dispatcher]] = []

    def make() -> Dispatcher:
        provider = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
        dispatcher = Dispatcher(Router([provider]), outbox, clock=clock)
        made.append((provider, dispatcher))
        return dispatcher

    yield make
    for provider, dispatcher in made:
        dispatcher.close()
        provider.close()


def runner_with_poller(tasks: Tasks, dispatcher: Dispatcher) -> TaskRunner:
    """A runner that asks the provider for reports (status queries) on each run, so a
    task can complete: completion waits for every status report."""
    poller = Poller(dispatcher.router.providers, tasks.outbox, older_than=0, clock=tasks.clock)
    return TaskRunner(tasks, dispatcher, poller=poller)
