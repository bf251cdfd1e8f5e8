"""End to end over loopback: send through each provider's emulator, let it post its
reports (duplicated, shuffled, some before the submit result is stored) to the receiver
served on 127.0.0.1, and check every message's final status in the outbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from smsbridge import SendOptions, Status
from smsbridge.outbox import SqliteStore
from smsbridge.reports import Poller, ReportReceiver, TokenAuth
from smsbridge.testing import CallbackPlan, EmulatorFactory, ManualClock
from smsbridge_bulksms.codes import REPORT_CODES
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.codes import STATUSES
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.codes import STATUSES as SMSMODE_STATUSES
from smsbridge_smsmode.emulator import SmsmodeEmulator

from .conftest import TOKEN, Serve, finish, submit

# Every report is sent twice (a fraction below 1 could, by chance, duplicate none and
# leave the duplicate handling untested), in shuffled order.
PLAN = CallbackPlan(duplicate_fraction=1.0, shuffle=True, delay=0.05, seed=7)


def _wait(emulator: Any, rounds: int = 3) -> None:
    # Delivering a batch can queue nothing new, so a few idle waits settle everything.
    for _ in range(rounds):
        assert emulator.wait_for_callbacks(10.0)


def test_clickatell_callbacks_close_every_message(
    smsbridge_emulator_factory: EmulatorFactory,
    store: SqliteStore,
    serve_receiver: Serve,
    clock: ManualClock,
) -> None:
    numbers = [f"4477009001{i:02d}" for i in range(8)]
    finals = {numbers[1]: "005", numbers[2]: "007", numbers[3]: "010", numbers[4]: "012"}
    emulator = smsbridge_emulator_factory(
        ClickatellEmulator, clock=clock, callback_plan=PLAN, final_status=finals
    )
    with ClickatellProvider.from_options(
        **ClickatellProvider.emulator_options(emulator), callback=7
    ) as provider:
        receiver = ReportReceiver(
            [provider], store=store, auth={"clickatell": TokenAuth(TOKEN)}, clock=clock
        )
        server = serve_receiver(receiver)
        emulator.callback_url = f"{server.url}/clickatell/{TOKEN}"
        messages = [(f"ref{i}", f"+{n}", "hello") for i, n in enumerate(numbers)]
        sent = submit(store, provider, messages, now=clock())
        # Half the results are stored only after the first reports came in (early).
        _wait(emulator)
        finish(store, sent[:4], now=clock())
        emulator.tick()
        emulator.tick()
        _wait(emulator)
        finish(store, sent[4:], now=clock())
    assert any(c.duplicate for c in emulator.callbacks)
    assert all(c.status == 200 for c in emulator.callbacks)
    for reference, number, _ in messages:
        item = store.get(reference)
        assert item is not None
        expected = STATUSES.lookup(finals.get(number[1:], "004")).status
        assert item.status is expected, reference
        history = store.history(reference)
        assert history is not None
        assert any(r.cost is not None for r in history.reports)


def test_huawei_part_reports_become_one_status_per_message(
    smsbridge_emulator_factory: EmulatorFactory,
    store: SqliteStore,
    serve_receiver: Serve,
    clock: ManualClock,
) -> None:
    emulator = smsbridge_emulator_factory(
        HuaweiEmulator, callback_plan=PLAN, app_secret="e2e-secret-0451"
    )
    template = "tple2e0000000000000000000000001"
    emulator.register_template(template, "Reminder: " + "x" * 170 + " ${1}", region="INTL")
    numbers = ["+447700900201", "+447700900202", "+447700900203", "+33612345670"]
    emulator.report_status.update({numbers[1]: "UNDELIV", numbers[2]: "EXPIRED"})
    receiver_auth = {"huawei": TokenAuth(TOKEN)}
    options = HuaweiProvider.emulator_options(emulator)
    with HuaweiProvider.from_options(**options) as provider:
        receiver = ReportReceiver([provider], store=store, auth=receiver_auth, clock=clock)
        server = serve_receiver(receiver)
        send_options = SendOptions(
            callback_url=f"{server.url}/huawei/{TOKEN}",
            extra={"huawei_template_id": template, "huawei_template_params": ["ok"]},
        )
        messages = [(f"hw{i}", n, "reminder") for i, n in enumerate(numbers)]
        sent = submit(store, provider, messages, now=clock(), options=send_options)
        assert all(result.parts == 2 for _, result in sent)
        finish(store, sent[:2], now=clock())
        _wait(emulator)
        finish(store, sent[2:], now=clock())
    expected = [Status.DELIVERED, Status.FAILED_PERMANENT, Status.EXPIRED, Status.DELIVERED]
    for (reference, _, _), status in zip(messages, expected, strict=True):
        item = store.get(reference)
        assert item is not None
        assert item.status is status, reference
        history = store.history(reference)
        assert history is not None
        assert {r.part for r in history.reports if r.part is not None} == {1, 2}


def test_bulksms_polling_closes_every_message(
    smsbridge_emulator_factory: EmulatorFactory, store: SqliteStore, clock: ManualClock
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, clock=clock)
    numbers = ["+447700900301", "+447700900302", "+447700900303"]
    emulator.report_overrides[numbers[1].lstrip("+")] = "32"
    with BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(emulator)) as provider:
        messages = [(f"bs{i}", n, "hello") for i, n in enumerate(numbers)]
        finish(store, submit(store, provider, messages, now=clock()), now=clock())
        poller = Poller([provider], store, older_than=60, clock=clock)
        assert poller.poll_once().queried == 0  # nothing overdue yet
        clock.advance(61)
        summary = poller.poll_once()
        assert summary.queried == 3
        assert summary.changed == 3
        clock.advance(61)
        assert poller.poll_once().queried == 0
    statuses = [store.get(r).status for r, _, _ in messages]  # type: ignore[union-attr]
    assert statuses[0] is Status.DELIVERED
    assert statuses[1] is not None and statuses[1].is_failure
    assert statuses[2] is Status.DELIVERED


def test_bulksms_pushed_reports_close_every_message(
    smsbridge_emulator_factory: EmulatorFactory,
    store: SqliteStore,
    serve_receiver: Serve,
    clock: ManualClock,
) -> None:
    clock.advance(time.time() - clock())  # a schedule must lie in the future for real
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, clock=clock, callback_plan=PLAN)
    numbers = [f"4477009004{i:02d}" for i in range(6)]
    finals = {numbers[1]: "32", numbers[2]: "53", numbers[3]: "29"}
    emulator.report_overrides.update(finals)
    with BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(emulator)) as provider:
        receiver = ReportReceiver(
            [provider], store=store, auth={"bulksms": TokenAuth(TOKEN)}, clock=clock
        )
        server = serve_receiver(receiver)
        emulator.push_url = f"{server.url}/bulksms/{TOKEN}"
        messages = [(f"bp{i}", f"+{n}", "hello") for i, n in enumerate(numbers)]
        sent = submit(store, provider, messages[:5], now=clock())
        # Two results are stored before their reports come in, three after (early).
        finish(store, sent[:2], now=clock())
        _wait(emulator)
        finish(store, sent[2:], now=clock())
        later = SendOptions(scheduled_at=datetime.fromtimestamp(clock() + 3600, UTC))
        scheduled = submit(store, provider, messages[5:], now=clock(), options=later)
        finish(store, scheduled, now=clock())
        emulator.tick()
        _wait(emulator)
        assert store.get("bp5").status is Status.SCHEDULED  # type: ignore[union-attr]
        clock.advance(3601)
        emulator.tick()
        _wait(emulator)
    assert any(c.duplicate for c in emulator.callbacks)
    assert all(c.method == "GET" and c.status == 200 for c in emulator.callbacks)
    assert len({c.url for c in emulator.callbacks}) == 2 * len(numbers)
    for reference, number, _ in messages:
        item = store.get(reference)
        assert item is not None
        expected = REPORT_CODES.lookup(finals.get(number[1:], "11")).status
        assert item.status is expected, reference


def test_smsmode_callbacks_close_every_message(
    smsbridge_emulator_factory: EmulatorFactory,
    store: SqliteStore,
    serve_receiver: Serve,
    clock: ManualClock,
) -> None:
    numbers = ["33612345601", "33612345602", "33612345603", "33612345604", "33612345605"]
    finals = {numbers[1]: "34", numbers[2]: "37", numbers[3]: "3999"}
    emulator = smsbridge_emulator_factory(
        SmsmodeEmulator, clock=clock, callback_plan=PLAN, final_status=finals
    )
    with SmsmodeProvider.from_options(**SmsmodeProvider.emulator_options(emulator)) as provider:
        receiver = ReportReceiver(
            [provider], store=store, auth={"smsmode": TokenAuth(TOKEN)}, clock=clock
        )
        server = serve_receiver(receiver)
        options = SendOptions(callback_url=f"{server.url}/smsmode/{TOKEN}")
        messages = [(f"sm{i}", f"+{n}", "bonjour") for i, n in enumerate(numbers)]
        sent = submit(store, provider, messages, now=clock(), options=options)
        # 0 -> 13 reaches the receiver before any result is stored (early).
        emulator.tick()
        _wait(emulator)
        finish(store, sent[:2], now=clock())
        emulator.tick()
        _wait(emulator)
        finish(store, sent[2:], now=clock())
    assert any(c.duplicate for c in emulator.callbacks)
    assert all(c.status == 200 for c in emulator.callbacks)
    for reference, number, _ in messages:
        item = store.get(reference)
        assert item is not None
        expected = SMSMODE_STATUSES.lookup(finals.get(number[1:], "11")).status
        assert item.status is expected, reference
        history = store.history(reference)
        assert history is not None
        assert {r.raw.get("statut") for r in history.reports} >= {"13"}, reference
