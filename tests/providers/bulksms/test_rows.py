"""Rows with per-row texts grouped by request key into ``send_batch`` chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from smsbridge import Message, SendOptions, SendResult, Status, UnsupportedOperationError
from smsbridge_bulksms.chunks import Chunk
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

from .conftest import MakeProvider

WHEN = datetime(2030, 1, 1, 9, tzinfo=UTC)


def row(index: int, *, text: str | None = None, sender: str = "ACME", **options: Any) -> Message:
    body = text if text is not None else f"Hello customer {index}, your balance is {index * 3}."
    return Message(
        f"+4477009{index:05d}", body, sender, f"row-{index:05d}", options=SendOptions(**options)
    )


def test_ten_thousand_distinct_texts_are_one_request(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    rows = [row(i, sender="ACME" if i % 2 else "OTHER") for i in range(10_000)]
    assert len({provider.request_key(r) for r in rows}) == 1
    plan = list(provider.plan_messages(rows))
    chunks = [c for c in plan if isinstance(c, Chunk)]
    assert len(chunks) == len(plan) == 1
    assert len(chunks[0].numbers) == provider.options.batch_size == 10_000
    results = [r for chunk in chunks for r in provider.send_chunk(chunk)]
    assert len(emulator.requests) == 1
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert {r.status for r in results} == {Status.ACCEPTED}
    # Each row's own text and sender reached its number, once.
    sent = {(m.msisdn, m.text, m.sender) for m in emulator.messages}
    assert len(emulator.messages) == len(sent) == 10_000
    assert sent == {(m.to[0].lstrip("+"), m.body, m.sender) for m in rows}


def test_more_rows_than_a_batch_take_two_requests(
    make_provider: MakeProvider, emulator: BulkSmsEmulator
) -> None:
    provider = make_provider(batch_size=6_000)
    rows = [row(i) for i in range(10_000)]
    chunks = [c for c in provider.plan_messages(rows) if isinstance(c, Chunk)]
    assert [len(c.numbers) for c in chunks] == [6_000, 4_000]
    results: list[SendResult] = [r for c in chunks for r in provider.send_chunk(c)]
    assert len(emulator.requests) == 2
    assert len(results) == emulator.accepted_count == 10_000


def test_rows_are_not_sent_through_send_rows(provider: BulkSmsProvider) -> None:
    # The dispatcher keeps the chunk path: its stop_dup_id makes a resend safe.
    with pytest.raises(UnsupportedOperationError):
        provider.send_rows([row(0), row(1)])


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0), row(1)),  # number, reference, text: CSV columns
        (row(0), row(1, sender="OTHER")),
        (row(0), row(1, encoding="UCS-2")),
        (row(0), row(1, flash=True)),
        (row(0), row(1, extra={"routing_group": "PREMIUM"})),
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN)),
        (row(0), attrs.evolve(row(0), reference="other")),
    ],
)
def test_equal_keys(provider: BulkSmsProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) == provider.request_key(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN + timedelta(minutes=5))),
        (row(0), row(1, scheduled_at=WHEN)),
        (row(0), row(1, extra={"want_report": False})),
        (row(0), row(1, extra={"scheduling_description": "campaign"})),
    ],
)
def test_different_keys(provider: BulkSmsProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) != provider.request_key(right)
