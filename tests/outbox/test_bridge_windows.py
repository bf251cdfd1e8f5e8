"""A bridge's batch windows on every backend: written leased, worked without a claim.

Counted at the emulators: each recipient accepted once, a repeated number sent once, and
the same batch run again (its items stored already, not leased to anyone) sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from smsbridge import Batch, Recipient, SmsBridge, Status, Template
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from tests.outbox.conftest import AnyStore

SIZE = 2_500


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> BulkSmsEmulator:
    return smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**6))


@pytest.fixture
def provider(emulator: BulkSmsEmulator) -> Iterator[BulkSmsProvider]:
    options = BulkSmsProvider.emulator_options(emulator)
    with BulkSmsProvider.from_options(**options, batch_size=400) as made:
        yield made


def personalised() -> Batch:
    numbers = [f"+4477009{i:05d}" for i in range(SIZE)]
    numbers[1_700] = numbers[3]  # the same person twice, in another window
    people = [Recipient(n, variables={"code": f"{i:04d}"}) for i, n in enumerate(numbers)]
    return Batch(people, template=Template("Code {code}"), reference="win")


def test_windows_send_each_recipient_once_and_a_rerun_sends_nothing(
    store: AnyStore, provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    with SmsBridge([provider], store=store, batch_window=1_000) as bridge:
        first = bridge.send_batch(personalised())
        assert first.duplicates == 1
        assert [r.status for r in first].count(Status.ACCEPTED) == SIZE - 1
        accepted = emulator.submissions.accepted_recipients()
        assert len(accepted) == SIZE - 1 and set(accepted.values()) == {1}
        # Every item settled by the window's own round: no lease is left behind.
        assert store.lease_owners(now=bridge.dispatcher.clock()) == []

        again = bridge.send_batch(personalised())
        assert [r.status for r in again] == [r.status for r in first]
        assert [r.message_id for r in again] == [r.message_id for r in first]
    assert emulator.submissions.accepted_recipients() == accepted
