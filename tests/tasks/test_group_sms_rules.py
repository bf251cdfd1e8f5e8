"""The Group SMS Assistant's rules on tasks: the bound provider's number rules, the
file's name and size, filtering by name, sending hours, the cost of a task, and
"completed" meaning every status report returned (with the upgrade of older files)."""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.dispatch import Dispatcher
from smsbridge.errors import ConfigurationError, InvalidMessageError
from smsbridge.model import Template
from smsbridge.outbox import SqliteStore
from smsbridge.pricing import PriceTable
from smsbridge.router import Router
from smsbridge.tasks import (
    SendingHoursError,
    TaskImportError,
    TaskRunner,
    Tasks,
    TaskState,
    TaskStateError,
)
from smsbridge.tasks.hours import _LONGEST, SendingHours, zones_of
from smsbridge.tasks.importer import MAX_XLSX_BYTES, read_rows
from smsbridge.testing import EmulatorFactory, ManualClock
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

from .conftest import runner_with_poller

CHINA = (
    "to,name\n"
    "13112345678,Li\n"  # 11 digits starting with 1: +86 prefixed
    "8613112345678,Li again\n"  # 13 digits starting with 86: the same number
    "2312345678,Wang\n"  # neither: Huawei deletes it
    "131123456,Zhao\n"  # 9 digits: deleted
    "+8618912345678,Chen\n"
)
# 2026-01-01 02:00 UTC is 10:00 in Shanghai; 16:00 UTC is midnight there.
SHANGHAI_MORNING = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SHANGHAI_MIDNIGHT = datetime(2026, 1, 1, 16, 0, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def china_csv(tmp_path: Path) -> Path:
    return write(tmp_path, "china.csv", CHINA)


@pytest.fixture
def cn_tasks(outbox: SqliteStore, clock: ManualClock) -> Iterator[Tasks]:
    with Tasks(outbox, clock=clock, region="CN") as opened:
        yield opened


# -- the bound provider's number rules ----------------------------------------------------


def test_a_task_bound_to_huawei_checks_numbers_the_way_huawei_will(
    cn_tasks: Tasks, china_csv: Path
) -> None:
    task, report = cn_tasks.create(
        "cn", china_csv, body="Hi", provider="huawei", scheduled_at=SHANGHAI_MORNING
    )
    assert (report.imported, report.duplicates, report.invalid) == (2, 1, 2)
    assert [(i.line, i.value) for i in report.invalid_lines] == [
        (4, "2312345678"),
        (5, "131123456"),
    ]
    assert "11 digits starting with 1" in report.invalid_lines[0].reason
    assert [d.number for d in cn_tasks.details(task.id)] == ["+8613112345678", "+8618912345678"]
    # The number filter of the details follows the same rules.
    assert [d.number for d in cn_tasks.details(task.id, number="13112345678")] == ["+8613112345678"]


def test_an_unbound_task_keeps_smsbridge_rules(cn_tasks: Tasks, china_csv: Path) -> None:
    # With region CN both numbers Huawei would delete are possible national numbers.
    _task, report = cn_tasks.create("cn", china_csv, body="Hi", scheduled_at=SHANGHAI_MORNING)
    assert report.invalid == 0 and report.imported == 4


def test_the_hook_is_a_class_method_of_every_provider() -> None:
    assert HuaweiProvider.normalise_number("86 131 1234 5678") == "+8613112345678"
    assert ClickatellProvider.normalise_number("07700 900123", region="GB") == "+447700900123"
    with pytest.raises(InvalidMessageError) as caught:
        HuaweiProvider.normalise_number("07700900123", region="GB")
    assert caught.value.field == "to" and caught.value.value == "07700900123"


def test_an_unknown_provider_is_refused_naming_the_field(cn_tasks: Tasks, china_csv: Path) -> None:
    with pytest.raises(InvalidMessageError, match="no provider named 'huawai'") as caught:
        cn_tasks.create("cn", china_csv, body="Hi", provider="huawai")
    assert caught.value.field == "provider" and caught.value.value == "huawai"
    assert cn_tasks.list() == []


# -- the file -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["march_list.csv", "march list.csv", "march-list.xlsx", ".csv"])
def test_a_file_name_other_than_letters_and_digits_is_refused(
    tasks: Tasks, tmp_path: Path, name: str
) -> None:
    path = write(tmp_path, name, "to\n+447700900001\n")
    with pytest.raises(TaskImportError, match="only letters and digits"):
        tasks.create("x", path, body="Hi")
    assert tasks.list() == []


def test_letters_of_any_script_and_digits_are_a_good_name(tasks: Tasks, tmp_path: Path) -> None:
    path = write(tmp_path, "客户2026.csv", "to\n+447700900001\n")
    task, _ = tasks.create("x", path, body="Hi")
    assert task.source == "客户2026.csv"


def test_an_xlsx_over_12_mb_is_refused_before_it_is_read(tasks: Tasks, tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    with path.open("wb") as handle:  # sparse: no 12 MB written
        handle.truncate(MAX_XLSX_BYTES + 1)
    with pytest.raises(TaskImportError, match="at most 12,582,912 bytes"):
        tasks.create("x", path, body="Hi")
    # Exactly the limit passes the size rule (and then fails as a workbook).
    os.truncate(path, MAX_XLSX_BYTES)
    with pytest.raises(TaskImportError, match="not a readable XLSX"):
        tasks.create("x", path, body="Hi")


# -- filtering by name --------------------------------------------------------------------


def test_tasks_are_filtered_by_name(tasks: Tasks, recipients_csv: Path) -> None:
    first, _ = tasks.create("March reminders", recipients_csv, body="a")
    tasks.create("April news", recipients_csv, body="b")
    third, _ = tasks.create("more REMINDERS", recipients_csv, body="c")
    assert [t.id for t in tasks.list(name="reminders")] == [first.id, third.id]
    assert [t.id for t in tasks.list(TaskState.PENDING, name="march")] == [first.id]
    assert tasks.list(name="%") == []


# -- sending hours ------------------------------------------------------------------------


def test_outside_the_sending_hours_is_refused_and_nothing_kept(
    cn_tasks: Tasks, china_csv: Path
) -> None:
    with pytest.raises(SendingHoursError) as caught:
        cn_tasks.create("cn", china_csv, body="Hi", scheduled_at=SHANGHAI_MIDNIGHT)
    error = caught.value
    assert error.field == "scheduled_at" and error.value == SHANGHAI_MIDNIGHT.isoformat()
    assert "4 number(s)" in str(error) and "00:00 Asia/Shanghai" in str(error)
    assert error.report.outside_hours == 4
    assert cn_tasks.list() == []


def test_outside_the_sending_hours_with_the_override_warns(
    cn_tasks: Tasks, china_csv: Path
) -> None:
    task, report = cn_tasks.create(
        "cn", china_csv, body="Hi", scheduled_at=SHANGHAI_MIDNIGHT, allow_outside_hours=True
    )
    assert task.state is TaskState.PENDING and report.outside_hours == 4
    assert len(report.warnings) == 1 and "08:00-22:00" in report.warnings[0]


def test_inside_the_sending_hours_nothing_is_said(cn_tasks: Tasks, china_csv: Path) -> None:
    _task, report = cn_tasks.create("cn", china_csv, body="Hi", scheduled_at=SHANGHAI_MORNING)
    assert report.outside_hours == 0 and report.warnings == ()


def test_each_number_is_judged_in_its_own_zone(
    tasks: Tasks, outbox: SqliteStore, clock: ManualClock, tmp_path: Path
) -> None:
    # 2026-01-01 03:00 UTC: 11:00 in Shanghai, 22:00 the day before in New York (the
    # window's end is excluded), 04:00 in Paris.
    path = write(tmp_path, "mixed.csv", "to\n+8613112345678\n+12125551234\n+33612345678\n")
    when = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    with pytest.raises(SendingHoursError, match=r"2 number\(s\)") as caught:
        tasks.create("x", path, body="Hi", scheduled_at=when)
    assert "+12125551234 at 22:00 America/New_York" in str(caught.value)
    # A window of the caller's choice takes all three in.
    hours = SendingHours(datetime(2000, 1, 1, 3).time(), datetime(2000, 1, 1, 23).time())
    with Tasks(outbox, clock=clock, sending_hours=hours) as wide:
        _task, report = wide.create("x", path, body="Hi", scheduled_at=when)
    assert report.outside_hours == 0


def test_sending_hours_window() -> None:
    day = SendingHours()
    assert day.allows(datetime(2000, 1, 1, 8, 0).time())
    assert not day.allows(datetime(2000, 1, 1, 22, 0).time())
    night = SendingHours(datetime(2000, 1, 1, 20).time(), datetime(2000, 1, 1, 6).time())
    assert night.allows(datetime(2000, 1, 1, 23).time())
    assert night.allows(datetime(2000, 1, 1, 5).time())
    assert not night.allows(datetime(2000, 1, 1, 12).time())


def test_zones_come_from_the_number_prefix() -> None:
    import phonenumbers.tzdata

    assert phonenumbers.tzdata.TIMEZONE_LONGEST_PREFIX == _LONGEST
    assert zones_of("+8613112345678") == ("Asia/Shanghai",)
    assert zones_of("+12125551234") == ("America/New_York",)
    assert zones_of("+447700900001") == ()  # a drama range: placed nowhere


# -- cost ---------------------------------------------------------------------------------

PRICES = """\
provider,country,prefix,network,price,unit
clickatell,GB,,,0.030,EUR
huawei,GB,,,0.020,EUR
"""


def test_a_pending_task_is_quoted_through_its_provider(
    tasks: Tasks, recipients_csv: Path, emulator: ClickatellEmulator
) -> None:
    table = PriceTable.from_text(PRICES)
    providers = [ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))]
    task, _ = tasks.create("x", recipients_csv, template="Hi {name}")
    quote = tasks.quote(task.id, providers, table=table, currency="EUR")
    [clickatell] = quote.providers
    assert quote.recipients == 4
    assert clickatell.total is not None
    assert clickatell.total.amount == Decimal("0.120")  # 4 numbers, one part each

    bound, _ = tasks.create("y", recipients_csv, body="Hi", provider="huawei")
    with pytest.raises(ConfigurationError, match="bound to 'huawei'"):
        tasks.quote(bound.id, providers, table=table)
    for provider in providers:
        provider.close()


def test_a_started_task_is_not_quoted(
    tasks: Tasks, recipients_csv: Path, make_dispatcher: Callable[[], Dispatcher]
) -> None:
    task, _ = tasks.create("x", recipients_csv, body="Hi")
    TaskRunner(tasks, make_dispatcher()).tick()
    with pytest.raises(TaskStateError, match="quote --actual"):
        tasks.quote(task.id, [], table=None)


# -- completed means every status report returned -----------------------------------------


def test_completed_waits_for_every_report_then_gives_up_after_the_wait(
    tasks: Tasks,
    clock: ManualClock,
    recipients_csv: Path,
    make_dispatcher: Callable[[], Dispatcher],
) -> None:
    task, _ = tasks.create("x", recipients_csv, body="Hi")
    runner = TaskRunner(tasks, make_dispatcher())  # no receiver, no poller
    result = runner.run(timeout=30)
    assert result.started == (task.id,) and result.completed == ()
    assert tasks.get(task.id).state is TaskState.EXECUTING
    clock.advance(timedelta(hours=71).total_seconds())
    assert runner.tick().completed == ()
    clock.advance(timedelta(hours=1, seconds=1).total_seconds())
    assert runner.tick().completed == (task.id,)
    done = tasks.get(task.id)
    assert done.state is TaskState.COMPLETED
    # Three were accepted and never reported; the blocked one was refused (final).
    assert done.reason == "3 number(s) returned no status report within 72 hours"


def test_completed_as_soon_as_the_reports_are_in(
    tasks: Tasks, recipients_csv: Path, make_dispatcher: Callable[[], Dispatcher]
) -> None:
    task, _ = tasks.create("x", recipients_csv, body="Hi")
    result = runner_with_poller(tasks, make_dispatcher()).run(timeout=30)
    assert result.completed == (task.id,)
    done = tasks.get(task.id)
    assert done.reason is None
    statuses = sorted(d.status.value for d in tasks.details(task.id) if d.status)
    assert statuses == ["delivered", "delivered", "delivered", "rejected"]


# -- a task through Huawei, end to end ----------------------------------------------------

TEMPLATE_ID = "tasktemplate00000000000000000001"


def test_a_template_task_reaches_huawei_with_its_template_id_and_values(
    cn_tasks: Tasks,
    clock: ManualClock,
    china_csv: Path,
    outbox: SqliteStore,
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    emulator = smsbridge_emulator_factory(HuaweiEmulator)
    emulator.register_template(TEMPLATE_ID, "${1}您好", signature="华为云")
    template = Template("{name}您好", provider_ids={"huawei": TEMPLATE_ID})
    task, _ = cn_tasks.create(
        "cn", china_csv, template=template, provider="huawei", scheduled_at=SHANGHAI_MORNING
    )
    clock.set(SHANGHAI_MORNING.timestamp())
    options = {**HuaweiProvider.emulator_options(emulator), "signature": "华为云"}
    with (
        HuaweiProvider.from_options(**options) as huawei,
        Dispatcher(Router([huawei]), outbox, clock=clock) as dispatcher,
    ):
        TaskRunner(cn_tasks, dispatcher).run(timeout=30)
    assert emulator.submissions.accepted_recipients() == {"+8613112345678": 1, "+8618912345678": 1}
    assert {s.fields["templateId"] for s in emulator.submissions} == {TEMPLATE_ID}
    assert sorted(s.body or "" for s in emulator.submissions) == ["Chen您好", "Li您好"]
    # Accepted, no status report yet (no receiver here): still executing.
    assert cn_tasks.get(task.id).state is TaskState.EXECUTING


def test_a_damaged_workbook_is_a_typed_refusal_never_a_crash(tmp_path: Path) -> None:
    import openpyxl  # the xlsx extra is in the test extra
    from openpyxl.worksheet.worksheet import Worksheet

    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.append(["to", "name"])
    for index in range(40):
        sheet.append([f"+4477009000{index:02d}", f"n{index}"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    data = good.read_bytes()
    rng = random.Random(20261205)
    outcomes: Counter[str] = Counter()
    for attempt in range(120):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if attempt % 3 == 0:
            damaged = damaged[: rng.randrange(len(damaged))]
        path = tmp_path / "bad.xlsx"
        path.write_bytes(bytes(damaged))
        try:
            rows = list(read_rows(path))
        except TaskImportError:
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1
            assert all(isinstance(row.number, str) for row in rows)
    assert outcomes["refused"] > 100
