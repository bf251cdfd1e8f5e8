"""End to end over loopback: batches of every shape, single sends, scheduling, dry runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from smsbridge import (
    Batch,
    InvalidMessageError,
    Message,
    Recipient,
    SendOptions,
    Status,
    Template,
)
from smsbridge.testing import ManualClock
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

from .conftest import MakeProvider


def last_form(emulator: BulkSmsEmulator) -> dict[str, str]:
    body = emulator.requests[-1].request.body.decode("ascii")
    return dict(parse_qsl(body, keep_blank_values=True, encoding="iso-8859-1"))


def test_shared_body_batch(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    numbers = [f"+4477009001{i:02d}" for i in range(25)]
    batch = Batch(
        [Recipient(n, reference=f"r{i}") for i, n in enumerate(numbers)],
        body='Sale, "today" only\nCome in',
    )
    results = list(provider.send_batch(batch))
    assert [r.recipient for r in results] == numbers
    assert {r.status for r in results} == {Status.ACCEPTED}
    assert [r.reference for r in results] == [f"r{i}" for i in range(25)]
    batch_id = results[0].message_id.split(":")[0]  # type: ignore[union-attr]
    assert results[3].message_id == f"{batch_id}:{numbers[3][1:]}"
    assert len(emulator.submissions) == 1
    assert {m.text for m in emulator.messages} == {'Sale, "today" only\nCome in'}
    assert emulator.submissions.duplicates() == {}


def test_template_batch_mixes_unicode_and_gsm(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    names = ["Ann", "Борис", 'Zoé, "Z"', "李", "Δημήτρης", "Ω"]
    batch = Batch(
        [Recipient(f"+4477009002{i:02d}", {"name": n}) for i, n in enumerate(names)],
        template=Template("Hi {name}!"),
    )
    results = list(provider.send_batch(batch))
    assert all(r.ok for r in results)
    got = {m.msisdn: (m.text, m.dca) for m in emulator.messages}
    assert got["447700900200"] == ("Hi Ann!", "7bit")
    assert got["447700900201"] == ("Hi Борис!", "16bit")
    assert got["447700900202"] == ('Hi Zoé, "Z"!', "7bit")
    assert got["447700900204"][1] == "16bit"  # lower-case Greek is not GSM-7
    assert got["447700900205"] == ("Hi Ω!", "7bit")  # via its Latin-1 stand-in
    assert "dca" in last_form(emulator)["batch_data"].splitlines()[0]


def test_long_messages_request_concatenation(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    batch = Batch(["+447700900300", "+447700900301"], body="x" * 400)
    results = list(provider.send_batch(batch))
    assert [r.parts for r in results] == [3, 3]
    form = last_form(emulator)
    assert (form["allow_concat_text_sms"], form["concat_text_sms_max_parts"]) == ("1", "3")
    assert [m.text for m in emulator.messages] == ["x" * 400] * 2
    assert emulator.submissions[0].charge == 6


def test_unicode_multipart(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    text = "Привет мир! " * 12
    [result] = provider.send(Message("+447700900310", text))
    assert result.parts == 3
    assert emulator.messages[0].text == text
    assert emulator.messages[0].dca == "16bit"


def test_per_message_overrides(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    messages = [
        Message("+447700900400", "plain"),
        Message("+447700900401", "flash", sender="Shop", options=SendOptions(flash=True)),
        Message(
            ["+447700900402", "+447700900403"],
            "grouped",
            options=SendOptions(
                extra={"routing_group": 3, "source_id": "acct-42", "repliable": True}
            ),
        ),
    ]
    results = list(provider.send_messages(messages))
    assert [r.recipient for r in results] == [
        "+447700900400",
        "+447700900401",
        "+447700900402",
        "+447700900403",
    ]
    assert len(emulator.submissions) == 1
    header = last_form(emulator)["batch_data"].splitlines()[0]
    assert header == "msisdn,message,sender,msg_class,routing_group,source_id,repliable"
    by = {m.msisdn: m for m in emulator.messages}
    assert (by["447700900401"].sender, by["447700900401"].msg_class) == ("Shop", "0")
    assert by["447700900400"].sender is None
    assert by["447700900403"].routing_group == "3"
    assert by["447700900403"].source_id == "acct-42"
    assert by["447700900402"].repliable == "1"


def test_batch_defaults_are_request_parameters(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(routing_group=2, want_report=False)
    batch = Batch(
        ["+447700900500", "+447700900501"],
        body="hi",
        sender="Shop",
        options=SendOptions(flash=True),
    )
    list(provider.send_batch(batch))
    form = last_form(emulator)
    assert form["batch_data"].splitlines()[0] == "msisdn,message"
    assert (form["sender"], form["msg_class"], form["routing_group"]) == ("Shop", "0", "2")
    assert form["want_report"] == "0"
    assert {m.sender for m in emulator.messages} == {"Shop"}


def test_batch_is_cut_into_chunks_with_fresh_ids(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=4)
    numbers = [f"+4477009006{i:02d}" for i in range(10)]
    results = list(provider.send_batch(Batch(numbers, body="hi")))
    assert [r.recipient for r in results] == numbers
    assert len(emulator.submissions) == 3
    assert [len(s.recipients) for s in emulator.submissions] == [4, 4, 2]
    assert [s.reference for s in emulator.submissions] == ["1000", "1001", "1002"]
    assert len({s.message_ids for s in emulator.submissions}) == 3
    # One connection, kept alive, never parallel.
    assert emulator.server.connections_opened == 1
    assert emulator.server.max_concurrent_connections == 1


def test_plan_batch_is_lazy(provider: BulkSmsProvider) -> None:
    def numbers() -> Iterator[str]:
        for i in range(10**9):
            yield f"+447{i:09d}"

    plan = provider.plan_batch(Batch(numbers, body="hi"))
    assert plan is not None  # building the plan consumed nothing yet


def test_refused_recipients_are_results(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    batch = Batch(
        [
            Recipient("+447700900700", {"n": "a" * 500}),
            Recipient("+447700900701", {"n": "b"}),
            Recipient("+447700900702", {}),
        ],
        template=Template("{n}"),
        options=SendOptions(max_parts=2),
    )
    results = {r.recipient: r for r in provider.send_batch(batch)}
    assert results["+447700900700"].status is Status.REJECTED
    assert results["+447700900700"].error is not None
    assert results["+447700900700"].attempts == 0
    assert results["+447700900702"].status is Status.REJECTED
    assert results["+447700900701"].status is Status.ACCEPTED
    assert emulator.submissions.accepted_recipients() == {"+447700900701": 1}


def test_shared_body_over_max_parts_refuses_everyone(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    batch = Batch(
        ["+447700900710", "+447700900711"], body="z" * 400, options=SendOptions(max_parts=1)
    )
    assert {r.status for r in provider.send_batch(batch)} == {Status.REJECTED}
    assert len(emulator.requests) == 0
    with pytest.raises(InvalidMessageError) as info:
        provider.send(Message("+447700900712", "z" * 400, options=SendOptions(max_parts=1)))
    assert info.value.field == "max_parts"
    with pytest.raises(InvalidMessageError) as info:
        provider.send(Message("+447700900712", "€", options=SendOptions(encoding="GSM-7")))
    assert info.value.field == "encoding"


def test_send_sms_several_recipients(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    results = provider.send(Message(["+447700900800", "+447700900801"], "Hello", "Shop", "ref-1"))
    assert [r.reference for r in results] == ["ref-1", "ref-1"]
    assert emulator.submissions[0].command == "send_sms"
    assert emulator.submissions[0].body == "Hello"
    assert last_form(emulator)["msisdn"] == "447700900800,447700900801"


def test_scheduling_unixtime(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, clock: ManualClock
) -> None:
    later = datetime.fromtimestamp(clock() + 3600, UTC)
    batch = Batch(["+447700900900"], body="later", options=SendOptions(scheduled_at=later))
    [result] = provider.send_batch(batch)
    assert result.status is Status.SCHEDULED
    assert last_form(emulator)["send_time_unixtime"] == str(int(clock() + 3600))
    # Not reportable until sent.
    assert provider.query(message_id=result.message_id).status is Status.UNKNOWN
    clock.advance(3601)
    assert provider.query(message_id=result.message_id).status is Status.DELIVERED


def test_scheduling_in_the_past_sends_now(provider: BulkSmsProvider, clock: ManualClock) -> None:
    earlier = datetime.fromtimestamp(clock() - 60, UTC)
    [result] = provider.send(
        Message("+447700900901", "x", options=SendOptions(scheduled_at=earlier))
    )
    assert result.status is Status.ACCEPTED


def test_scheduling_send_time_in_account_zone(
    make_provider: MakeProvider, emulator: BulkSmsEmulator, clock: ManualClock
) -> None:
    provider = make_provider(account_timezone="UTC")
    later = datetime.fromtimestamp(clock(), UTC) + timedelta(days=1)
    [result] = provider.send(
        Message(
            "+447700900902",
            "x",
            options=SendOptions(scheduled_at=later, extra={"scheduling_description": "tomorrow"}),
        )
    )
    assert result.status is Status.SCHEDULED
    form = last_form(emulator)
    assert form["send_time"] == later.strftime("%Y-%m-%d %H:%M:%S")
    assert form["scheduling_description"] == "tomorrow"


def test_schedules_split_requests_in_send_messages(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator, clock: ManualClock
) -> None:
    later = SendOptions(scheduled_at=datetime.fromtimestamp(clock() + 600, UTC))
    messages = [Message("+447700900910", "now"), Message("+447700900911", "later", options=later)]
    statuses = [r.status for r in provider.send_messages(messages)]
    assert statuses == [Status.ACCEPTED, Status.SCHEDULED]
    assert len(emulator.submissions) == 2


@pytest.mark.parametrize(("mode", "code"), [("succeed", None), ("fail", "22")])
def test_dry_run(
    make_provider: MakeProvider, emulator: BulkSmsEmulator, mode: str, code: str | None
) -> None:
    provider = make_provider(dry_run=mode)
    batch = Batch(["+447700901000"], body="test")
    if code is None:
        assert [r.status for r in provider.send_batch(batch)] == [Status.ACCEPTED]
        assert last_form(emulator)["test_always_succeed"] == "1"
    else:
        from smsbridge import ProviderError

        with pytest.raises(ProviderError) as info:
            list(provider.send_batch(batch))
        assert info.value.code == code
    assert len(emulator.submissions) == 0
