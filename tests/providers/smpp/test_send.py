"""Texts over the wire and back out of the SMSC emulator: every concatenation mode and
encoding the account may ask for, scheduling, senders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from smsbridge import InvalidMessageError, Message, SendOptions, Status, new_reference
from smsbridge_smpp import SmppProvider
from smsbridge_smpp.emulator import SmscEmulator

NUMBER = "+447700900001"
TEXTS = {
    "gsm7": "Reminder: your appointment is tomorrow at 10:30 {room 4}. " * 4,
    "ucs2": "Напоминание: приём завтра в 10:30, кабинет 4. " * 4,
    "latin1": "Rendez-vous demain à 10h30, ½ heure avant ¿ok? " * 4,
}


@pytest.mark.parametrize("concatenation", ["udh", "sar", "payload"])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_long_texts_arrive_whole(
    make_emulator: Callable[..., SmscEmulator],
    make_provider: Callable[..., SmppProvider],
    concatenation: str,
    packed: bool,
    kind: str,
) -> None:
    emulator = make_emulator(gsm7_packed=packed)
    provider = make_provider(
        emulator, concatenation=concatenation, gsm7_packed=packed, latin1=kind == "latin1"
    )
    body = TEXTS[kind]
    [result] = provider.send(Message(NUMBER, body, reference=new_reference()))
    assert result.status is Status.ACCEPTED, result
    assert result.parts is not None and result.parts > 1
    submitted = emulator.submissions.snapshot()
    assert len(submitted) == (1 if concatenation == "payload" else result.parts)
    coding = {"gsm7": "0", "ucs2": "8", "latin1": "3"}[kind]
    assert {s.fields["data_coding"] for s in submitted} == {coding}
    assert emulator.message_text(NUMBER) == body


def test_schedule_validity_flash_and_sender_reach_the_wire(
    emulator: SmscEmulator, provider: SmppProvider
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    options = SendOptions(scheduled_at=when, validity=timedelta(hours=2), flash=True)
    message = Message(NUMBER, "hello", "Acme", new_reference(), options=options)
    [result] = provider.send(message)
    assert result.status is Status.SCHEDULED
    [submission] = emulator.submissions.snapshot()
    assert submission.fields["source_addr"] == "Acme"
    assert submission.fields["data_coding"] == str(0x10)  # class 0, GSM-7


def test_a_refused_text_is_refused_before_anything_leaves(
    emulator: SmscEmulator, provider: SmppProvider
) -> None:
    with pytest.raises(InvalidMessageError) as refused:
        provider.send(
            Message(
                NUMBER,
                "x" * 2000,
                reference=new_reference(),
                options=SendOptions(max_parts=3),
            )
        )
    assert refused.value.field == "max_parts"
    with pytest.raises(InvalidMessageError) as validity:
        provider.send(
            Message(
                NUMBER,
                "x",
                reference=new_reference(),
                options=SendOptions(validity=timedelta(days=120)),
            )
        )
    assert validity.value.field == "validity"
    assert len(emulator.submissions) == 0


def test_an_unknown_option_refuses_its_own_row_only(
    provider: SmppProvider, emulator: SmscEmulator
) -> None:
    good = [Message(f"+4477009000{i}", "hello", reference=f"row-{i}") for i in range(3)]
    odd = Message(
        "+447700900099",
        "hello",
        reference="row-odd",
        options=SendOptions(extra={"priority_flag": 1}),
    )
    results = provider.send_rows([good[0], odd, good[1], good[2]])
    assert [r.reference for r in results] == ["row-0", "row-odd", "row-1", "row-2"]
    assert [r.status for r in results] == [
        Status.ACCEPTED,
        Status.REJECTED,
        Status.ACCEPTED,
        Status.ACCEPTED,
    ]
    assert results[1].error is not None and "priority_flag" in results[1].error.text
    assert len(emulator.submissions) == 3
    with pytest.raises(InvalidMessageError) as info:
        provider.send(odd)
    assert info.value.field == "extra.priority_flag"
