"""The demo's Huawei part: a templated campaign, and a scheduled task through its life.

Huawei Cloud sends approved templates only, so the campaign is a :class:`~smsbridge.
Template` carrying Huawei's template id, filled per recipient (a name, a place, a time),
and grouped by the provider into ``batchSendDiffSms`` requests. The emulator posts a
status report per message to the demo's report receiver, a few of them failures.

Then a scheduled task, shaped like the Group SMS Assistant: a recipient file checked by
Huawei's number rules (a number without ``+86`` that is not 11 digits is deleted), a
night-time schedule refused for the recipients' local time, a copy cancelled and
deleted, and the task itself going pending → executing → completed, which happens only
once every status report is in. The task's clock is simulated, so the demo jumps to the
scheduled 10:00 in Shanghai instead of waiting for it.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs

from smsbridge.bridge import SmsBridge
from smsbridge.dispatch import Dispatcher
from smsbridge.model import Batch, Recipient, Template
from smsbridge.outbox import SqliteStore
from smsbridge.results import SendResult
from smsbridge.router import Router
from smsbridge.tasks import SendingHoursError, TaskRunner, Tasks, TaskState
from smsbridge.testing import ManualClock
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

__all__ = ["SIGNATURE", "TEMPLATE_ID", "HuaweiRun", "prepare_emulator", "run_huawei"]

TEMPLATE_ID = "demo0clinic0reminder000000000001"
"""The approved template's id on the emulated platform."""
SIGNATURE = "华为云"
"""The Chinese mainland signature the template is approved under."""

_TEMPLATE_TEXT = "{name}您好，您在{place}的预约时间为{when}。"
_PLATFORM_TEXT = "${1}您好，您在${2}的预约时间为${3}。"
_NAMES = ("王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强")
_PLACES = ("滨江诊所", "中山口腔", "东湖门诊")
_SHANGHAI = ZoneInfo("Asia/Shanghai")


@attrs.frozen(kw_only=True)
class HuaweiRun:
    """What the Huawei part did.

    Args:
        template_id: The approved template's id.
        results: The templated campaign's results.
        requests: HTTP requests the campaign took.
        reports: Final status to how many campaign messages ended there.
        steps: The task's life, as ``(moment, what happened)`` lines.
        batches: Outbox batches this part wrote (kept out of the failover summary).
    """

    template_id: str
    results: tuple[SendResult, ...]
    requests: int
    reports: dict[str, int]
    steps: tuple[tuple[str, str], ...]
    batches: tuple[str, ...]


def prepare_emulator(emulator: HuaweiEmulator, recipients: int) -> None:
    """Approve the template and pick the messages whose reports say they failed."""
    emulator.register_template(TEMPLATE_ID, _PLATFORM_TEXT, signature=SIGNATURE)
    for index in range(0, recipients, 9):
        emulator.report_status[_number(index)] = "UNDELIV"


def _number(index: int) -> str:
    return f"+86131{index:08d}"


def _recipient(index: int) -> Recipient:
    return Recipient(
        _number(index),
        {
            "name": _NAMES[index % len(_NAMES)],
            "place": _PLACES[index % len(_PLACES)],
            "when": f"3月{12 + index % 3}日{9 + index % 8}点",
        },
    )


def _template() -> Template:
    return Template(_TEMPLATE_TEXT, provider_ids={"huawei": TEMPLATE_ID})


def run_huawei(
    huawei: HuaweiProvider,
    emulator: HuaweiEmulator,
    store: SqliteStore,
    *,
    recipients: int,
    wait_reports: Callable[[], None],
) -> HuaweiRun:
    """Send the templated campaign, then walk a scheduled task through its life.

    Args:
        huawei: The provider, pointed at the emulator, its reports going to the receiver.
        emulator: Its emulator, prepared with :func:`prepare_emulator`.
        store: The demo's outbox.
        recipients: Recipients of the templated campaign.
        wait_reports: Returns once the emulator's status reports were posted.

    Returns:
        What happened.
    """
    batch = Batch(
        [_recipient(i) for i in range(recipients)], template=_template(), reference="huawei"
    )
    before = len(emulator.requests)
    # The bridge closes its providers when it closes: the task below runs inside it.
    with SmsBridge([huawei], store=store, max_wait=30.0) as bridge:
        results = tuple(bridge.iter_send_batch(batch))
        requests = len(emulator.requests) - before
        wait_reports()
        final = Counter(
            item.status.value
            for item in store.iter_items(batch="huawei")
            if item.status is not None
        )
        steps, task_id = _task_life(huawei, store, wait_reports)
    return HuaweiRun(
        template_id=TEMPLATE_ID,
        results=results,
        requests=requests,
        reports=dict(sorted(final.items())),
        steps=tuple(steps),
        batches=("huawei", task_id),
    )


def _next_shanghai(now: float, hour: int) -> datetime:
    local = datetime.fromtimestamp(now, _SHANGHAI) + timedelta(hours=1)
    when = datetime.combine(local.date(), time(hour), _SHANGHAI)
    if when <= local:
        when += timedelta(days=1)
    return when.astimezone(UTC)


def _recipient_file(folder: Path) -> Path:
    # As people fill in the Group SMS Assistant's file: national numbers without +86, one
    # with 86 in front, a duplicate, and one number Huawei deletes (10 digits, no +).
    path = folder / "clinic.csv"
    rows = ["to,name,place,when"]
    for index, number in enumerate(
        ("13112340001", "8613112340002", "+8613112340003", "13112340004", "2312345678")
    ):
        values = _recipient(index).variables
        rows.append(f"{number},{values['name']},{values['place']},{values['when']}")
    rows.append("13112340001,王芳,滨江诊所,3月12日9点")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _task_life(
    huawei: HuaweiProvider, store: SqliteStore, wait_reports: Callable[[], None]
) -> tuple[list[tuple[str, str]], str]:
    steps: list[tuple[str, str]] = []
    clock = ManualClock(datetime.now(UTC).timestamp())
    with (
        tempfile.TemporaryDirectory(prefix="smsbridge-demo-") as folder,
        Tasks(store, clock=clock, region="CN") as tasks,
    ):
        csv = _recipient_file(Path(folder))
        night = _next_shanghai(clock(), 3)
        try:
            tasks.create(
                "Night reminders", csv, template=_template(), provider="huawei", scheduled_at=night
            )
        except SendingHoursError as exc:
            steps.append(("03:00 Shanghai", "refused: " + str(exc).split(";", 1)[0]))
        due = _next_shanghai(clock(), 10)
        task, report = tasks.create(
            "Clinic reminders", csv, template=_template(), provider="huawei", scheduled_at=due
        )
        summary = report.summary()
        steps.append(("created", f"{task.id} {task.state.value} for 10:00 Shanghai: {summary}"))
        for line in report.invalid_lines:
            steps.append(("  deleted", f"line {line.line} {line.value!r}: {line.reason}"))
        copy, _ = tasks.copy(task.id, "Clinic reminders again", csv, scheduled_at=due)
        steps.append(("copied", f"{copy.id} {tasks.cancel(copy.id).state.value} by the user"))
        tasks.delete(copy.id)
        steps.append(("deleted", f"{copy.id} (a cancelled task can be deleted)"))
        clock.set(due.timestamp())
        with Dispatcher(Router([huawei]), store, clock=clock) as dispatcher:
            runner = TaskRunner(tasks, dispatcher)
            runner.run(timeout=30)
            sent = tasks.get(task.id)
            news = "waiting for status reports"
            if sent.state is TaskState.COMPLETED:
                news = "every status report in already"
            steps.append(("10:00 Shanghai", f"{task.id} {sent.state.value}: sent, {news}"))
            wait_reports()
            runner.tick()
        done = tasks.get(task.id)
        failed = sum(1 for d in tasks.details(task.id) if d.failed)
        if done.state is TaskState.COMPLETED:
            tally = f"{done.recipients} numbers, {failed} failed"
            steps.append(("reports in", f"{task.id} completed: {tally}"))
        else:
            steps.append(("reports", f"{task.id} {done.state.value}"))
    return steps, task.id
