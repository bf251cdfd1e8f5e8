"""Rows grouped by request key and sent as one batchSendDiffSms/batchSendSms each."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import attrs
import pytest

from smsbridge import (
    DeliveryReport,
    InvalidMessageError,
    Message,
    SendOptions,
    SendResult,
    Status,
    Template,
    UnknownOutcomeError,
)
from smsbridge.testing import AcceptThenDrop, EmulatorRequest, LoopbackEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from smsbridge_huawei.protocol import BATCH_PATH, DIFF_PATH, MAX_NUMBERS, extend_for

from .conftest import INTL_TEMPLATE, make_provider

INTL_T = Template("Your code is {num_6} for {app}", provider_ids={"huawei": INTL_TEMPLATE})
WIDE_ID = "tplwide0000000000000000000000001"
WIDE_NAMES = [f"v{i:02d}" for i in range(1, 21)]
WIDE_T = Template(" ".join(f"{{{n}}}" for n in WIDE_NAMES), provider_ids={"huawei": WIDE_ID})


def number(index: int) -> str:
    return f"+4477009{index:05d}"


def row(index: int, *, template: Template = INTL_T, **variables: Any) -> Message:
    values = variables or {"num_6": f"{index:06d}", "app": f"app{index}"}
    return Message(
        number(index),
        template.render(values),
        reference=f"row-{index:05d}",
        template=template,
        variables=values,
    )


def dispatch(provider: HuaweiProvider, rows: Sequence[Message]) -> list[SendResult]:
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


def send_requests(emulator: HuaweiEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path in (BATCH_PATH, DIFF_PATH)]


def test_declares_shared_row_reference(provider: HuaweiProvider) -> None:
    assert provider.capabilities.shared_row_reference


def test_thousand_rows_with_distinct_values_take_two_requests(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    rows = [row(i) for i in range(1000)]
    results = dispatch(provider, rows)
    requests = send_requests(emulator)
    # Two send_rows calls of 500; each body stays under 64 KB (the signature every
    # group repeats makes 500 groups too big for one), hence two requests per call.
    assert len(requests) <= 10
    assert {r.path for r in requests} == {DIFF_PATH}
    assert all(len(r.request.body) <= 64 * 1024 for r in requests)
    assert sum(len(r.request.json["smsContent"]) for r in requests) == 1000
    # The values of each row reached its number, once.
    texts = {
        recipient: submission.body
        for submission in emulator.submissions
        for recipient in submission.recipients
    }
    assert emulator.submissions.duplicates() == {}
    assert texts == {number(i): f"Your code is {i:06d} for app{i}" for i in range(1000)}
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert [r.recipient for r in results] == [m.to[0] for m in rows]
    assert all(r.status is Status.ACCEPTED and r.message_id for r in results)
    # extend is the first row's reference of each send_rows call.
    assert {r.request.json["extend"] for r in requests} == {
        extend_for("row-00000"),
        extend_for("row-00500"),
    }


def test_rows_sharing_values_use_batch_send(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    rows = [row(i, num_6="123456", app="shop") for i in range(3)]
    results = provider.send_rows(rows)
    [request] = send_requests(emulator)
    assert request.path == BATCH_PATH
    assert request.request.form.get("extend") == "row-00000"
    assert [r.reference for r in results] == ["row-00000", "row-00001", "row-00002"]
    assert len({r.message_id for r in results}) == 3


def test_a_row_with_bad_values_is_refused_alone(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    rows = [row(0), row(1, num_6="12ab", app="x"), row(2), attrs.evolve(row(3), variables={})]
    results = provider.send_rows(rows)
    assert [r.status for r in results] == [
        Status.ACCEPTED,
        Status.REJECTED,
        Status.ACCEPTED,
        Status.REJECTED,
    ]
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert results[1].attempts == 0 and results[3].attempts == 0
    assert results[1].error is not None and "num_6" in results[1].error.text
    assert len(send_requests(emulator)) == 1
    assert set(emulator.submissions.accepted_recipients()) == {number(0), number(2)}


def test_platform_refusal_of_one_number_is_its_result(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    emulator.number_status[number(1)] = "E200015"
    results = provider.send_rows([row(0), row(1), row(2)])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].reference == "row-00001"


def test_unknown_outcome_of_the_request_raises(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    emulator.faults.add(AcceptThenDrop(), next_n=1)
    with pytest.raises(UnknownOutcomeError):
        provider.send_rows([row(0), row(1)])
    # Sent once; never resent (no idempotency key, no lookup).
    assert len(send_requests(emulator)) == 1
    assert emulator.submissions.duplicates() == {}


def test_values_over_64_kb_are_cut_into_more_requests(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    emulator.register_template(WIDE_ID, " ".join(["${1}"] * 20), region="INTL")
    rows = [
        row(i, template=WIDE_T, **{n: f"{i:05d}{n}xxxxxxxxxxxx" for n in WIDE_NAMES})
        for i in range(MAX_NUMBERS)
    ]
    results = provider.send_rows(rows)
    requests = send_requests(emulator)
    assert len(requests) > 1
    assert all(len(r.request.body) <= 64 * 1024 for r in requests)
    assert all(r.status is Status.ACCEPTED for r in results)
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert sum(emulator.submissions.accepted_recipients().values()) == MAX_NUMBERS
    # Every request carries the first row's reference.
    assert {r.request.json["extend"] for r in requests} == {"row-00000"}


def test_a_later_request_failing_keeps_the_earlier_ids(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    emulator.register_template(WIDE_ID, " ".join(["${1}"] * 20), region="INTL")
    rows = [
        row(i, template=WIDE_T, **{n: f"{i:05d}{n}xxxxxxxxxxxx" for n in WIDE_NAMES})
        for i in range(MAX_NUMBERS)
    ]
    seen: list[str] = []

    def second_send(request: EmulatorRequest) -> bool:
        seen.append(request.path)
        return len(seen) == 2

    emulator.faults.add(AcceptThenDrop(), match=second_send)
    results = provider.send_rows(rows)
    first = len(send_requests(emulator)[0].request.json["smsContent"])
    assert all(r.status is Status.ACCEPTED for r in results[:first])
    assert {r.status for r in results[first:]} >= {Status.UNKNOWN}
    assert emulator.submissions.duplicates() == {}


def test_reports_carry_the_first_reference_and_each_number(
    provider: HuaweiProvider, emulator: HuaweiEmulator, receiver: LoopbackEmulator
) -> None:
    results = provider.send_rows([row(0), row(1), row(2)])
    assert emulator.wait_for_callbacks()
    assert receiver.requests.wait_for(3)
    reports: list[DeliveryReport] = []
    for record in receiver.requests:
        reports += provider.parse_callback(
            method=record.method, query={}, headers=record.request.headers, body=record.request.body
        )
    assert {r.reference for r in reports} == {"row-00000"}
    assert {(r.message_id, r.recipient) for r in reports} == {
        (r.message_id, r.recipient) for r in results
    }


def test_rows_that_cannot_go_together_are_refused_before_sending(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    other = Template("Your code is {num_6} for {app}", provider_ids={"huawei": "tplother"})
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(0), row(1, template=other)])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([Message("+447700900001", "free text", reference="x")])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(i) for i in range(MAX_NUMBERS + 1)])
    assert provider.send_rows([]) == []
    assert send_requests(emulator) == []


# -- request keys --------------------------------------------------------------------------


def extra_row(index: int, template_id: str, **options: Any) -> Message:
    extra = {"huawei_template_id": template_id, "huawei_template_params": ["123456", "A"]}
    return Message(
        number(index),
        "Your code is 123456 for A",
        reference=f"x{index}",
        options=SendOptions(extra=extra, **options),
    )


def test_keys(emulator: HuaweiEmulator) -> None:
    with make_provider(
        emulator, templates={"Mapped text": "tplmapped"}, status_callback="https://a.example/r"
    ) as provider:
        key = provider.request_key
        # Another number, reference or values: the same request.
        assert key(row(0)) == key(row(1)) == key(row(2, num_6="999999", app="z"))
        assert key(row(0)) == key(attrs.evolve(row(0), reference="other"))
        # The same template id however it is given.
        assert key(extra_row(0, INTL_TEMPLATE)) == key(row(0))
        mapped = Message(number(0), "Mapped text", reference="m")
        assert key(mapped) == key(extra_row(1, "tplmapped"))
        # Another template or another status callback: another request.
        assert key(extra_row(0, "tplother")) != key(row(0))
        assert key(extra_row(0, INTL_TEMPLATE, callback_url="https://b.example/r")) != key(row(0))
        assert key(extra_row(0, INTL_TEMPLATE, callback_url="https://a.example/r")) == key(row(0))
        # No template: never grouped (send() says why).
        assert key(Message(number(0), "free text", reference="f")) is None
        assert key(extra_row(0, "x" * 33)) is None


def test_a_row_with_an_unknown_option_is_refused_alone(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    odd = attrs.evolve(row(1), options=SendOptions(extra={"priority": "high"}))
    scoped = attrs.evolve(row(2), options=SendOptions(extra={"bulksms.routing_group": 2}))
    results = provider.send_rows([row(0), odd, scoped])
    assert [r.status for r in results] == [Status.ACCEPTED, Status.REJECTED, Status.ACCEPTED]
    error = results[1].error
    assert error is not None and "priority" in error.text and results[1].attempts == 0
    [request] = send_requests(emulator)
    assert request.request.json["smsContent"][0]["to"] == [number(0)]
    assert len(request.request.json["smsContent"]) == 2
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(odd)
    assert caught.value.field == "extra.priority"
    scoped_own = attrs.evolve(row(4), options=SendOptions(extra={"huawei.huawei_template_id": "t"}))
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(scoped_own)
    assert caught.value.field == "extra.huawei.huawei_template_id"


def test_raw_parameters_go_into_the_form_and_the_json(
    provider: HuaweiProvider, emulator: HuaweiEmulator
) -> None:
    raw = SendOptions(raw={"huawei": {"newField": "1"}, "clickatell": {"other": "x"}})
    same = [attrs.evolve(row(i, num_6="123456", app="a"), options=raw) for i in range(2)]
    provider.send_rows(same)
    diff = [attrs.evolve(row(i), options=raw) for i in range(2)]
    assert provider.request_key(diff[0]) != provider.request_key(row(0))
    provider.send_rows(diff)
    form_request, json_request = send_requests(emulator)
    assert form_request.request.form.get("newField") == "1"
    assert form_request.request.form.get("other") is None
    assert json_request.request.json["newField"] == "1"
    bad = attrs.evolve(row(5), options=SendOptions(raw={"huawei": {"templateId": "x"}}))
    [refused] = provider.send_rows([bad])
    assert refused.status is Status.REJECTED and refused.error is not None
    assert "templateId" in refused.error.text
