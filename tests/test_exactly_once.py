"""Exactly once under a timeout race, counted at the emulators over real sockets.

A slow accept past the client timeout, then an immediate "not found" from the lookup:
the request is still being processed at the gateway, so "not found" is not proof until
the provider's lookup horizon has passed, and the message must not fail over. (With a
zero horizon, i.e. the old behaviour, this scenario puts recipients at both providers.)
Concurrent resumes are in ``tests/workers/test_concurrent_resume.py``.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge import Batch, SmsBridge
from smsbridge.testing import AcceptThenDrop, Delay, EmulatorFactory, on_path
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.workers.harness import numbers


def accepted(*emulators: BulkSmsEmulator | ClickatellEmulator) -> list[Counter[str]]:
    return [Counter(e.submissions.accepted_recipients()) for e in emulators]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_slow_accept_past_the_timeout_is_not_sent_to_a_second_provider(
    seed: int, tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    primary = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6), seed=seed)
    backup = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**6))
    send = on_path("/http/sendmsg")
    # Answers slower than the client waits (the gateway still takes the message), and a
    # few answers lost outright after the message was taken.
    primary.faults.add(Delay(1.5), fraction=0.3, match=send)
    primary.faults.add(AcceptThenDrop(), fraction=0.05, match=send)
    clickatell = ClickatellProvider.from_options(
        **ClickatellProvider.emulator_options(primary), timeout=0.5, lookup_horizon=3.0
    )
    bulksms = BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(backup))
    wanted = numbers(40)
    with SmsBridge([clickatell, bulksms], store=tmp_path / "outbox.sqlite3", max_wait=30) as bridge:
        results = bridge.send_batch(Batch(wanted, body="Race day", reference=f"race{seed}"))
        summary = bridge.resume(timeout=60, patience=10)
    at_primary, at_backup = accepted(primary, backup)
    assert set(at_primary) & set(at_backup) == set()
    assert at_primary + at_backup == Counter(dict.fromkeys(wanted, 1))
    assert primary.submissions.duplicates() == {}
    assert summary.complete, summary.lines()
    # Every answer that came too late was settled by the lookup, not by a resend.
    assert len(results) == len(wanted)
