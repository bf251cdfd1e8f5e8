"""The shared-text fast path and the build-ahead pipeline: same bytes, same order, same ids."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import Batch, ProviderError, Recipient, SendOptions, SendResult, Status, Template
from smsbridge_bulksms.chunks import (
    Draft,
    RequestParams,
    Row,
    Settings,
    SharedTextLayout,
    build_batch_chunk,
    build_batch_draft,
)
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.pipeline import pipelined
from smsbridge_bulksms.protocol import encode_text

from .conftest import MakeProvider

SETTINGS = [
    Settings(),
    Settings(sender="Shop", msg_class="0", routing_group="2", source_id="s", repliable="1"),
    Settings(msg_class="2"),
]
PARAMS = [
    RequestParams(),
    RequestParams(want_report=False, send_time_unixtime=1_900_000_000, test_mode="succeed"),
    RequestParams(send_time="2030-01-01 10:00:00", scheduling_description="a b&c=d"),
]


def _general(numbers: list[str], text: str, settings: Settings, params: RequestParams) -> bytes:
    encoded = encode_text(text)
    rows = [Row(n, f"ref-{n}", encoded, settings, params) for n in numbers]
    return build_batch_draft(rows).body


@given(
    st.lists(st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True), min_size=1, max_size=20),
    st.text(min_size=1, max_size=400),
    st.sampled_from(SETTINGS),
    st.sampled_from(PARAMS),
)
def test_shared_layout_matches_the_general_path(
    numbers: list[str], text: str, settings: Settings, params: RequestParams
) -> None:
    layout = SharedTextLayout(encode_text(text), settings, params)
    draft = layout.draft(numbers, [f"ref-{n}" for n in numbers])
    assert draft is not None
    assert draft.body == _general(numbers, text, settings, params)
    assert draft.numbers == tuple(numbers)
    assert draft.parts == (encode_text(text).parts,) * len(numbers)


def test_numbering_a_draft_equals_building_with_the_id() -> None:
    rows = [
        Row(f"+44{i}", None, encode_text('a "b"\n'), Settings(), RequestParams()) for i in range(3)
    ]
    assert build_batch_draft(rows).numbered(77) == build_batch_chunk(rows, 77)


@pytest.mark.parametrize("odd", ["+44 7700", "abc", "", "+", "+44\n1", '4"4', "٤٤"])
def test_numbers_that_need_escaping_leave_the_fast_path(odd: str) -> None:
    layout = SharedTextLayout(encode_text("hi"), Settings(), RequestParams())
    assert layout.draft(["+447700900001", odd], [None, None]) is None


def test_odd_numbers_in_a_shared_batch_go_the_general_way(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=2)
    numbers = ["+447700900950", 'x"y', "+447700900951"]
    [first, second] = list(provider.plan_batch(Batch(numbers, body="hi")))
    assert not isinstance(first, SendResult) and not isinstance(second, SendResult)
    settings, params = Settings(), RequestParams()
    rows = [Row(n, None, encode_text("hi"), settings, params) for n in numbers]
    assert first == build_batch_chunk(rows[:2], 1000)
    assert second == build_batch_chunk(rows[2:], 1001)


def test_pipeline_keeps_order_ids_and_one_connection(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=3)
    # Refusals (a missing variable) fall in every chunk, including ahead of a request.
    recipients = [
        Recipient(f"+4477009009{i:02d}", {"n": str(i)} if i % 4 else {}) for i in range(14)
    ]
    batch = Batch(recipients, template=Template("#{n}"))
    results = list(provider.send_batch(batch))
    expected = list(provider.plan_batch(batch))  # the plain loop's order
    order: list[str] = []
    for item in expected:
        order.extend([item.recipient] if isinstance(item, SendResult) else item.numbers)
    assert [r.recipient for r in results] == order
    assert [s.reference for s in emulator.submissions] == ["1000", "1001", "1002", "1003"]
    assert [r.status for r in results].count(Status.REJECTED) == 4
    assert emulator.server.connections_opened == 1
    assert emulator.server.max_concurrent_connections == 1


def test_nothing_is_sent_before_the_consumer_asks(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=2)
    stream = provider.send_batch(Batch([f"+4477009008{i:02d}" for i in range(6)], body="x"))
    assert next(stream).ok
    assert isinstance(stream, Generator)
    stream.close()
    # The second chunk was built ahead, but neither sent nor given an id.
    assert len(emulator.submissions) == 1
    assert provider.allocator.allocate() == 1001


def test_a_failed_request_stops_the_stream_after_earlier_results(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=2)
    emulator.credits = Decimal(3)  # enough for the first request of two, not the second
    stream = provider.send_batch(Batch([f"+44770090070{i}" for i in range(6)], body="y"))
    seen = [next(stream).recipient, next(stream).recipient]
    with pytest.raises(ProviderError) as info:
        next(stream)
    assert info.value.code == "25"
    assert seen == ["+447700900700", "+447700900701"]
    assert len(emulator.requests) == 2
    # The third chunk, built ahead while the second was in flight, took no id.
    assert provider.allocator.allocate() == 1002


def test_a_failing_source_raises_after_the_request_in_flight() -> None:
    sent: list[tuple[str, ...]] = []

    def plan() -> Iterator[Draft | SendResult]:
        rows = [Row("+1", None, encode_text("a"), Settings(), RequestParams())]
        yield build_batch_draft(rows)
        yield SendResult("+2", Status.REJECTED)
        raise RuntimeError("source broke")

    def send(draft: Draft) -> list[SendResult]:
        sent.append(draft.numbers)
        return [SendResult("+1", Status.ACCEPTED)]

    stream = pipelined(plan(), send)
    assert [next(stream).recipient, next(stream).recipient] == ["+1", "+2"]
    with pytest.raises(RuntimeError, match="source broke"):
        next(stream)
    assert sent == [("+1",)]


def test_schedules_still_split_requests(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider()
    when = datetime.now(UTC) + timedelta(days=1)
    batch = Batch(
        ["+447700900990", "+447700900991"], body="later", options=SendOptions(scheduled_at=when)
    )
    assert {r.status for r in provider.send_batch(batch)} == {Status.SCHEDULED}
