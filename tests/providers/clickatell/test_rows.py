"""Rows grouped by request key and sent as one ``sendmsg`` each, against the emulator."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from smsbridge import (
    InvalidMessageError,
    Message,
    ProviderError,
    Scope,
    SendOptions,
    SendResult,
    Status,
    Template,
)
from smsbridge.testing import EmulatorFactory, LoopbackEmulator
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.protocol import MAX_DESTINATIONS, client_message_id

MakeEmulator = Callable[..., ClickatellEmulator]
MakeProvider = Callable[..., ClickatellProvider]
TEXT = "Your parcel arrives tomorrow between 9 and 12."


def number(index: int) -> str:
    return f"+4477009{index:05d}"


def row(index: int, *, text: str = TEXT, **options: Any) -> Message:
    return Message(number(index), text, "ACME", f"row-{index:05d}", options=SendOptions(**options))


def dispatch(provider: ClickatellProvider, rows: Sequence[Message]) -> list[SendResult]:
    """What the dispatcher does: group by key, at most max_recipients_per_request each."""
    groups: dict[Hashable, list[Message]] = {}
    for message in rows:
        key = provider.request_key(message)
        assert key is not None
        groups.setdefault(key, []).append(message)
    size = provider.capabilities.max_recipients_per_request
    by_reference: dict[str | None, SendResult] = {}
    for group in groups.values():
        for start in range(0, len(group), size):
            for result in provider.send_rows(group[start : start + size]):
                by_reference[result.reference] = result
    return [by_reference[message.reference] for message in rows]


def sendmsg_requests(emulator: ClickatellEmulator) -> list[dict[str, str]]:
    return [r.request.form.to_dict() for r in emulator.requests if r.path == "/http/sendmsg"]


def test_declares_shared_row_reference(provider: ClickatellProvider) -> None:
    assert provider.capabilities.shared_row_reference
    assert provider.capabilities.max_recipients_per_request == MAX_DESTINATIONS


def test_three_thousand_rows_with_one_text_take_ten_requests(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(balance=10_000)
    provider = make_provider(emulator)
    rows = [row(i) for i in range(3000)]
    results = dispatch(provider, rows)
    requests = sendmsg_requests(emulator)
    assert len(requests) <= 10
    assert [len(r["to"].split(",")) for r in requests] == [MAX_DESTINATIONS] * 10
    # Each destination accepted once, each row with its own reference and id.
    accepted = emulator.submissions.accepted_recipients()
    assert len(accepted) == 3000
    assert emulator.submissions.duplicates() == {}
    assert [r.recipient for r in results] == [m.to[0] for m in rows]
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert all(r.status is Status.ACCEPTED for r in results)
    assert len({r.message_id for r in results}) == 3000
    # climsgid is the first row's reference of each request.
    assert [r["climsgid"] for r in requests] == [
        client_message_id(f"row-{i:05d}") for i in range(0, 3000, MAX_DESTINATIONS)
    ]


def test_query_by_first_reference_finds_the_request(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    rows = [row(i) for i in range(3)]
    results = provider.send_rows(rows)
    [request] = sendmsg_requests(emulator)
    assert request["climsgid"] == client_message_id(rows[0].reference or "")
    report = provider.query(reference=rows[0].reference)
    # The gateway answers for one destination of the request (the emulator: the last).
    assert report.message_id in {r.message_id for r in results}
    assert report.status.is_success


def test_single_row_goes_as_send_does(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    [result] = provider.send_rows([row(7)])
    [expected] = provider.send(row(8))
    first, second = sendmsg_requests(emulator)
    assert first["climsgid"] == client_message_id("row-00007")
    assert {k for k in first if k != "climsgid"} == {k for k in second if k != "climsgid"}
    assert first["to"] == number(7).lstrip("+")
    assert (result.status, result.reference, result.parts) == (
        expected.status,
        "row-00007",
        expected.parts,
    )


def test_refused_destinations_are_their_rows_results(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(number_errors={number(1).lstrip("+"): "121"})
    provider = make_provider(emulator)
    rows = [row(0), row(1), row(2)]
    results = provider.send_rows(rows)
    assert [r.status for r in results] == [Status.ACCEPTED, Status.REJECTED, Status.ACCEPTED]
    assert [r.reference for r in results] == ["row-00000", "row-00001", "row-00002"]
    assert results[1].error is not None and results[1].error.code == "121"
    assert len(sendmsg_requests(emulator)) == 1


def test_the_same_number_twice_gets_two_ids(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    twice = attrs.evolve(row(0), reference="again")
    results = provider.send_rows([row(0), twice])
    assert [r.reference for r in results] == ["row-00000", "again"]
    assert all(r.status is Status.ACCEPTED for r in results)
    assert results[0].message_id != results[1].message_id
    assert emulator.submissions.accepted_recipients()[number(0)] == 2


def test_scheduled_rows(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    when = datetime.now(UTC) + timedelta(days=2)
    results = provider.send_rows([row(0, scheduled_at=when), row(1, scheduled_at=when)])
    assert [r.status for r in results] == [Status.SCHEDULED, Status.SCHEDULED]
    [request] = sendmsg_requests(emulator)
    assert "scheduled_time" in request


def test_whole_request_failure_raises(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator()
    provider = make_provider(emulator, auth_mode="per_call")
    emulator.frozen = True
    with pytest.raises(ProviderError) as caught:
        provider.send_rows([row(0), row(1)])
    assert caught.value.scope is Scope.PROVIDER
    assert not caught.value.outcome_unknown
    assert emulator.submissions.accepted_recipients() == {}


def test_rows_that_cannot_go_together_are_refused_before_sending(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(0), row(1, text="another text")])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([Message([number(0), number(1)], TEXT, reference="two")])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(i) for i in range(MAX_DESTINATIONS + 1)])
    assert provider.send_rows([]) == []
    assert len(emulator.requests) == 0


def test_callbacks_carry_the_first_reference_and_each_destination(
    smsbridge_emulator_factory: EmulatorFactory,
    make_emulator: MakeEmulator,
    make_provider: MakeProvider,
) -> None:
    receiver = smsbridge_emulator_factory(LoopbackEmulator)
    emulator = make_emulator(callback_url=f"{receiver.url}/cb")
    provider = make_provider(emulator)
    rows = [row(i, callback_url="https://app.example/cb") for i in range(3)]
    results = provider.send_rows(rows)
    assert emulator.wait_for_callbacks()
    reports = [
        report
        for record in receiver.requests
        for report in provider.parse_callback(
            method=record.request.method,
            query={},
            headers=record.request.headers,
            body=record.request.body,
        )
    ]
    assert {r.reference for r in reports} == {client_message_id("row-00000")}
    by_id = {r.message_id: r.recipient for r in results}
    assert {(r.message_id, r.recipient) for r in reports} == set(by_id.items())


# -- request keys --------------------------------------------------------------------------

WHEN = datetime(2030, 1, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0), row(1)),  # another number and reference
        (row(0), attrs.evolve(row(0), reference="other")),
        (
            attrs.evolve(row(0), template=Template("{a}"), variables={"a": 1}),
            attrs.evolve(row(1), template=Template("{a}"), variables={"a": 2}),
        ),
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN)),
        # The legacy API posts to the account's URL: only "a callback is wanted" travels.
        (row(0, callback_url="https://a.example/cb"), row(1, callback_url="https://b.example/")),
        (row(0, extra={"bulksms.routing_group": 1, "smsbridge_task_provider": "x"}), row(1)),
    ],
)
def test_equal_keys(provider: ClickatellProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) == provider.request_key(right)
    assert hash(provider.request_key(left)) == hash(provider.request_key(right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN + timedelta(minutes=5))),
        (row(0, scheduled_at=WHEN), row(1)),
        (row(0), row(1, text="Another text")),
        (row(0), attrs.evolve(row(1), sender="OTHER")),
        (row(0), row(1, validity=timedelta(hours=1))),
        (row(0), row(1, callback_url="https://a.example/cb")),
        (row(0), row(1, flash=True)),
        (row(0), row(1, max_parts=1)),
        (row(0), row(1, encoding="UCS-2")),
        (row(0), row(1, extra={"mo": 1})),
        (row(0, extra={"queue": 1}), row(1, extra={"queue": 2})),
    ],
)
def test_different_keys(provider: ClickatellProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) != provider.request_key(right)
