"""Delivery receipts over the session, recorded in the outbox like HTTP providers' reports;
and unknown outcomes parked, never resent elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from smsbridge import DeliveryReport, Message, SendResult, SmsBridge, Status, new_reference
from smsbridge.plugins import make_plugin_manager
from smsbridge.reports import ReportReceiver
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_smpp import SmppProvider, wire
from smsbridge_smpp.emulator import SmscEmulator

from .conftest import wait_for

NUMBER = "+447700900001"
LONG = "Your appointment is tomorrow at 10:30 with Dr Smith; reply YES to confirm. " * 4


@pytest.fixture
def wired(
    emulator: SmscEmulator, provider: SmppProvider
) -> Iterator[tuple[SmsBridge, list[DeliveryReport]]]:
    """A bridge whose provider records its receipts in the bridge's outbox."""
    manager = make_plugin_manager(load_entry_points=False)
    bridge = SmsBridge([provider], store=":memory:", plugin_manager=manager)
    receiver = ReportReceiver([], store=bridge.store, auth={}, plugin_manager=manager)
    seen: list[DeliveryReport] = []
    receiver.on_report = seen.append
    provider.report_sink = receiver.record
    with bridge:
        yield bridge, seen


def _status(bridge: SmsBridge, reference: str) -> Status | None:
    history = bridge.status(reference)
    return None if history is None else history.item.status


def _send(bridge: SmsBridge, body: str) -> SendResult:
    result = bridge.send(Message(NUMBER, body, reference=new_reference()))
    assert isinstance(result, SendResult)
    # Taken by the SMSC; a quick receipt may already have settled it.
    assert result.message_id, result
    return result


def test_receipt_reaches_the_outbox(
    wired: tuple[SmsBridge, list[DeliveryReport]], emulator: SmscEmulator
) -> None:
    bridge, seen = wired
    result = _send(bridge, "Your code is 482913")
    assert result.reference is not None
    assert wait_for(lambda: _status(bridge, str(result.reference)) is Status.DELIVERED)
    assert [r.message_id for r in seen] == [result.message_id]
    # Acknowledged once recorded (the answer reaches the SMSC just after).
    assert wait_for(lambda: emulator.receipt_answers == [0])


def test_a_bridge_records_receipts_without_any_wiring(
    emulator: SmscEmulator, provider: SmppProvider
) -> None:
    # SmsBridge attaches its outbox as the sink: nothing for the application to do.
    manager = make_plugin_manager(load_entry_points=False)
    with SmsBridge([provider], store=":memory:", plugin_manager=manager) as bridge:
        result = _send(bridge, "Your code is 482913")
        assert wait_for(lambda: _status(bridge, str(result.reference)) is Status.DELIVERED)
    assert provider.reports() == []  # nothing left in the provider's own buffer


def test_an_application_sink_is_kept(emulator: SmscEmulator, provider: SmppProvider) -> None:
    seen: list[DeliveryReport] = []
    provider.report_sink = seen.append
    manager = make_plugin_manager(load_entry_points=False)
    with SmsBridge([provider], store=":memory:", plugin_manager=manager) as bridge:
        result = _send(bridge, "Your code is 482913")
        assert wait_for(lambda: [r.message_id for r in seen] == [result.message_id])
        assert _status(bridge, str(result.reference)) is Status.ACCEPTED


def test_undelivered_receipt_is_a_permanent_failure(
    wired: tuple[SmsBridge, list[DeliveryReport]], emulator: SmscEmulator
) -> None:
    bridge, _seen = wired
    emulator.receipt_stat = "UNDELIV"
    result = _send(bridge, "Your code is 482913")
    assert wait_for(lambda: _status(bridge, str(result.reference)) is Status.FAILED_PERMANENT)


def test_duplicated_receipts_change_nothing(
    wired: tuple[SmsBridge, list[DeliveryReport]], emulator: SmscEmulator
) -> None:
    bridge, seen = wired
    emulator.duplicate_receipts = True
    result = _send(bridge, "Your code is 482913")
    assert wait_for(lambda: len(emulator.receipt_answers) == 2)
    assert emulator.receipt_answers == [0, 0]
    assert _status(bridge, str(result.reference)) is Status.DELIVERED
    assert len(seen) == 2


def test_parts_reported_out_of_order_combine_into_one_status(
    wired: tuple[SmsBridge, list[DeliveryReport]], emulator: SmscEmulator
) -> None:
    bridge, seen = wired
    emulator.hold_receipts = True
    result = _send(bridge, LONG)
    assert result.parts is not None and result.parts > 1
    emulator.receipt_stats[NUMBER.lstrip("+")] = "DELIVRD"
    emulator.hold_receipts = False
    assert emulator.release_receipts() == result.parts  # newest part first
    assert wait_for(lambda: _status(bridge, str(result.reference)) is Status.DELIVERED)
    parts = sorted(r.part for r in seen if r.part is not None)
    assert parts == list(range(1, result.parts + 1))
    assert {r.message_id for r in seen} == {result.message_id}


def test_a_failed_part_fails_the_message(
    wired: tuple[SmsBridge, list[DeliveryReport]], emulator: SmscEmulator
) -> None:
    bridge, _seen = wired
    emulator.hold_receipts = True
    result = _send(bridge, LONG)
    emulator.hold_receipts = False
    emulator.receipt_stat = "EXPIRED"  # every held receipt now reads EXPIRED
    emulator.release_receipts()
    assert wait_for(lambda: _status(bridge, str(result.reference)) is Status.EXPIRED)


def test_receipts_missed_while_disconnected_come_after_the_rebind(
    emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]
) -> None:
    provider = make_provider(emulator, rebind_delay=0.05)
    emulator.hold_receipts = True
    [result] = provider.send(Message(NUMBER, "hello", reference=new_reference()))
    for conn in list(emulator._conns):
        conn.close()
    emulator.hold_receipts = False
    emulator.release_receipts()  # no connection: kept for the next bind
    assert wait_for(lambda: emulator.binds == 2)
    assert wait_for(lambda: any(r.message_id == result.message_id for r in provider.reports()))


def test_a_failing_sink_asks_the_smsc_to_deliver_again(
    emulator: SmscEmulator, provider: SmppProvider
) -> None:
    def broken(report: DeliveryReport) -> None:
        raise RuntimeError("outbox busy")

    provider.report_sink = broken
    provider.send(Message(NUMBER, "hello", reference=new_reference()))
    assert wait_for(lambda: emulator.receipt_answers == [0x64])  # ESME_RX_T_APPN


def test_unreadable_receipt_is_refused_permanently(
    emulator: SmscEmulator, provider: SmppProvider
) -> None:
    provider.connect()
    [conn] = emulator._conns
    _seq, data = wire.encode("deliver_sm", esm_class=0x04, short_message=b"\xff garbage")
    conn.reply(data, receipt=(_seq, "0", "0"))
    assert wait_for(lambda: emulator.receipt_answers == [0x65])  # ESME_RX_P_APPN
    assert provider.reports() == []


def test_unanswered_submit_is_parked_never_resent_elsewhere(
    emulator: SmscEmulator,
    make_provider: Callable[..., SmppProvider],
    smsbridge_emulator_factory: EmulatorFactory,
) -> None:
    emulator.no_response = True
    first = make_provider(emulator, timeout=0.3)
    other = smsbridge_emulator_factory(ClickatellEmulator)
    second = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(other))
    assert first.capabilities.query_by_reference is False  # no lookup in SMPP 3.4
    bridge = SmsBridge(
        [first, second],
        store=":memory:",
        plugin_manager=make_plugin_manager(load_entry_points=False),
        max_wait=2.0,
    )
    with bridge:
        result = bridge.send(Message(NUMBER, "Your code is 482913", reference=new_reference()))
    assert isinstance(result, SendResult)
    assert result.status is Status.UNKNOWN
    assert len(emulator.submissions) == 1
    assert len(other.submissions) == 0
    second.close()
