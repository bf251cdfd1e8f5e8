"""Texts that cannot be sent fail alone: one recipient is ``REJECTED``, the rest go.

Sent to an emulator over a real socket; what it accepted is what counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge import Batch, SmsBridge, Status, Template
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.strategies import refused_char, sendable_text

_batches = itertools.count()


@pytest.fixture
def sending(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> Iterator[tuple[SmsBridge, ClickatellEmulator]]:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))
    options = ClickatellProvider.emulator_options(emulator)
    with (
        ClickatellProvider.from_options(**options) as provider,
        SmsBridge([provider], store=tmp_path / "outbox.sqlite3") as bridge,
    ):
        yield bridge, emulator


def test_one_lone_surrogate_in_100_rejects_that_recipient_only(
    sending: tuple[SmsBridge, ClickatellEmulator],
) -> None:
    bridge, emulator = sending
    people = [{"to": f"+4477009{i:05d}", "name": f"person {i}"} for i in range(100)]
    people[42]["name"] = "bob\ud800"
    result = bridge.send_batch(Batch(people, template=Template("Hi {name}"), reference="b100"))
    statuses = {r.recipient: r.status for r in result}
    assert statuses.pop("+447700900042") is Status.REJECTED
    assert set(statuses.values()) == {Status.ACCEPTED} and len(statuses) == 99
    refused = next(r for r in result if r.recipient == "+447700900042")
    assert refused.error is not None
    assert "template variable 'name'" in refused.error.text and "U+D800" in refused.error.text
    accepted = emulator.submissions.accepted_recipients()
    assert len(accepted) == 99 and "+447700900042" not in accepted


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(
    st.lists(
        st.one_of(
            sendable_text().filter(str.strip).map(lambda text: (text, True)),
            st.tuples(sendable_text(), refused_char, sendable_text()).map(
                lambda parts: ("".join(parts), False)
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_only_recipients_with_refused_text_are_rejected(
    sending: tuple[SmsBridge, ClickatellEmulator], names: list[tuple[str, bool]]
) -> None:
    bridge, emulator = sending
    run = next(_batches)
    people = [
        {"to": f"+4477{run % 100:02d}9{i:05d}", "name": name} for i, (name, _) in enumerate(names)
    ]
    before = emulator.submissions.accepted_recipients()
    result = bridge.send_batch(Batch(people, template=Template("Hi {name}"), reference=f"h{run}"))
    expected = {p["to"]: Status.ACCEPTED if ok else Status.REJECTED for p, (_, ok) in
                zip(people, names, strict=True)}  # fmt: skip
    assert {r.recipient: r.status for r in result} == expected
    accepted = emulator.submissions.accepted_recipients() - before
    assert set(accepted) == {n for n, status in expected.items() if status is Status.ACCEPTED}
    assert set(accepted.values()) <= {1}
