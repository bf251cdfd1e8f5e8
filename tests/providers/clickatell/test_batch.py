"""Batches through startbatch/senditem/quicksend/endbatch, streamed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from smsbridge import (
    Batch,
    Message,
    Recipient,
    SendOptions,
    SendResult,
    SmsBridge,
    Status,
    Template,
    make_plugin_manager,
)
from smsbridge.testing import ManualClock
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

MakeEmulator = Callable[..., ClickatellEmulator]
MakeProvider = Callable[..., ClickatellProvider]


def commands(emulator: ClickatellEmulator) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in emulator.requests]


def test_templated_batch(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    batch = Batch(
        [
            Recipient("+447700900001", {"name": "Fred", "time": "10:30"}, "r1"),
            Recipient("+447700900002", {"name": "Jane"}, "r2"),  # no time
            Recipient("+447700900003", {"name": "Зоя", "time": "14:00"}, "r3"),  # Unicode
            Recipient("+85012345678", {"name": "Kim", "time": "9:00"}, "r4"),  # unroutable
            Recipient("+447700900005", {"name": "Al", "time": "8:15"}, "r5"),
        ],
        template=Template("Hi {name}, your appointment is at {time}. {name}!"),
        sender="CLINIC",
    )
    results = list(provider.send_batch(batch))
    assert [r.reference for r in results] == ["r1", "r2", "r3", "r4", "r5"]
    assert [r.status for r in results] == [
        Status.ACCEPTED,
        Status.REJECTED,
        Status.ACCEPTED,
        Status.REJECTED,
        Status.ACCEPTED,
    ]
    assert results[3].error is not None and results[3].error.code == "114"
    start = emulator.requests[1].request.form
    assert start.get("template") == "Hi #field1#, your appointment is at #field2#. #field1#!"
    assert start.get("from") == "CLINIC"
    assert commands(emulator) == [
        "auth", "startbatch", "senditem", "sendmsg", "senditem", "senditem", "endbatch",
    ]  # fmt: skip
    bodies = {s.recipients[0]: s.body for s in emulator.submissions}
    assert bodies["+447700900001"] == "Hi Fred, your appointment is at 10:30. Fred!"
    assert bodies["+447700900003"] == "Hi Зоя, your appointment is at 14:00. Зоя!"
    assert provider.query(reference="r5").message_id == results[4].message_id


def test_shared_body_batch_quicksend_streams_in_chunks(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    consumed = 0

    def recipients() -> Iterator[Recipient]:
        nonlocal consumed
        for n in range(650):
            consumed += 1
            yield Recipient(f"+4477009{n:05d}", reference=f"b-{n}")

    stream = provider.send_batch(Batch(recipients(), body="Sale today ☺"))
    first = next(stream)
    assert first.ok and consumed == 300  # never more than one chunk held
    rest = list(stream)
    assert len(rest) == 649 and all(r.ok for r in rest)
    assert [len(s.recipients) for s in emulator.submissions] == [300, 300, 50]
    assert {s.command for s in emulator.submissions} == {"quicksend"}
    assert emulator.submissions[0].body == "Sale today ☺"
    assert commands(emulator)[-1] == "endbatch"
    start = emulator.requests[1].request.form
    assert start.get("unicode") == "1"


def test_shared_body_over_max_parts_refuses_everyone_without_sending(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    batch = Batch(
        ["+447700900001", "+447700900002"], body="x" * 400, options=SendOptions(max_parts=2)
    )
    results = list(provider.send_batch(batch))
    assert [r.status for r in results] == [Status.REJECTED, Status.REJECTED]
    assert all(r.error is not None and r.attempts == 0 for r in results)
    assert len(emulator.requests) == 0


def test_expired_batch_is_restarted(
    provider: ClickatellProvider, emulator: ClickatellEmulator, clock: ManualClock
) -> None:
    def recipients() -> Iterator[Recipient]:
        yield Recipient("+447700900001", {"name": "A"}, "x1")
        clock.advance(86_401)  # the batch (and the session) lapse between items
        yield Recipient("+447700900002", {"name": "B"}, "x2")

    results = list(provider.send_batch(Batch(recipients(), template=Template("Hi {name}"))))
    assert all(r.ok for r in results)
    assert commands(emulator) == [
        "auth", "startbatch", "senditem", "senditem", "auth", "senditem", "startbatch",
        "senditem", "endbatch",
    ]  # fmt: skip


def test_literal_field_markers_fall_back_to_sendmsg(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    batch = Batch(["+447700900001"], body="Use code #field1# at checkout")
    [result] = provider.send_batch(batch)
    assert result.ok
    assert emulator.submissions[0].body == "Use code #field1# at checkout"
    assert emulator.submissions[0].command == "sendmsg"


def test_batch_through_the_bridge(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    import smsbridge_clickatell

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(smsbridge_clickatell, name="clickatell")
    assert manager.registry.get("clickatell") is ClickatellProvider
    batch = Batch(
        [{"to": "+447700900001", "name": "A"}, {"to": "not a number", "name": "B"}],
        template=Template("Hi {name}"),
    )
    with SmsBridge([provider], plugin_manager=manager, store=":memory:") as bridge:
        result = bridge.send_batch(batch)
        single = bridge.send(Message("+44 7700 900123", "hello from the bridge"))
    assert [r.status for r in result] == [Status.ACCEPTED, Status.INVALID_NUMBER]
    assert isinstance(single, SendResult) and single.ok and single.reference
    assert emulator.submissions.accepted_recipients()["+447700900123"] == 1
    assert emulator.submissions.duplicates() == {}
