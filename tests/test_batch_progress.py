"""Progress while a batch is sent, and a deadline per message, against a real emulator.

The Data Manager's bulk office message: hundreds of messages, a progress bar while they
are submitted, an ``ID: ...`` per result and a summary; a slow message must not hold up
the rest past its own limit. Clickatell takes 300 numbers per request, so 700 messages
are three requests, each reported as it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge import Batch, BatchProgress, Recipient, SmsBridge, Status, Template
from smsbridge.errors import InvalidMessageError
from smsbridge.outbox import ItemState
from smsbridge.progress import DEADLINE_CODE
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.faults import HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

BLOCKED = "+447700900007"
SENDS = ("/http/sendmsg", "/http/batch/senditem", "/http/batch/quicksend")
SEND_PATHS = on_path(*SENDS)


def is_send(path: str) -> bool:
    return path in SENDS


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(
        ClickatellEmulator, balance=Decimal(10**6), number_errors={BLOCKED[1:]: "121"}
    )


@pytest.fixture
def bridge(emulator: ClickatellEmulator, tmp_path: Path) -> Iterator[SmsBridge]:
    provider = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
    with SmsBridge([provider], store=tmp_path / "outbox.sqlite3", max_wait=30.0) as made:
        yield made
    provider.close()


def office_batch(count: int) -> Batch:
    people = [Recipient(f"+4477009{index:05d}", {"name": f"P{index}"}) for index in range(count)]
    people.append(Recipient("+12", {"name": "bad"}))  # invalid: refused before sending
    return Batch(people, template=Template("Office closed today, {name}"), reference="office")


def test_progress_reports_every_result_before_the_window_ends(
    bridge: SmsBridge, emulator: ClickatellEmulator
) -> None:
    events: list[str] = []
    calls: list[BatchProgress] = []
    sends_seen: list[int] = []

    def progress(update: BatchProgress) -> None:
        calls.append(update)
        events.append("progress")
        sends_seen.append(sum(1 for r in emulator.requests if is_send(r.path)))

    results = []
    for result in bridge.iter_send_batch(office_batch(700), progress=progress):
        events.append("result")
        results.append(result)

    # One window (10,000 by default): without the callback nothing would be seen until
    # every message was done. Every result was reported before the first was yielded.
    assert events.index("result") == len(calls)
    reported = [r for update in calls for r in update.new]
    assert sorted(r.recipient for r in reported) == sorted(r.recipient for r in results)
    assert len(results) == 701
    last = calls[-1]
    assert (last.sent, last.failed, last.queued) == (699, 2, 0)
    assert last.done == 701
    # Results were reported while requests were still going out, not once at the end:
    # the refused number first, then one call per group of 300 (Clickatell's batch
    # mode submits each of a group's numbers with its own senditem).
    assert len(calls) == 4 and sends_seen[1:] == [300, 600, 700]
    # The counts only grow, and each call brings news.
    assert all(update.new for update in calls)
    assert [u.done for u in calls] == sorted(u.done for u in calls)
    # An "ID: ..." line per accepted message, as the Data Manager prints.
    ids = [r.message_id for r in reported if r.status is Status.ACCEPTED]
    assert len(ids) == 699 and all(ids)
    failed = {r.recipient: r.error.code for r in reported if not r.ok and r.error}
    assert failed == {BLOCKED: "121", "+12": "invalid-number"}


def test_a_message_past_its_deadline_is_reported_queued_and_stays_in_the_outbox(
    bridge: SmsBridge, emulator: ClickatellEmulator
) -> None:
    # Every submission answers 503: the message waits in retry backoff.
    emulator.faults.add(HttpStatus(503), match=SEND_PATHS)
    calls: list[BatchProgress] = []
    batch = Batch([Recipient("+447700900001")], body="Office closed", reference="late")
    [result] = list(bridge.iter_send_batch(batch, progress=calls.append, message_deadline=0.2))
    assert result.status is Status.QUEUED
    assert result.error is not None and result.error.code == DEADLINE_CODE
    assert "stays in the outbox" in result.error.text
    assert calls[-1].queued == 1 and calls[-1].done == 0
    history = bridge.status(result.reference or "")
    assert history is not None and history.item.state is not ItemState.DONE

    # The provider recovers: resume() finishes the message, sent once.
    emulator.faults.clear()
    bridge.resume(timeout=30, patience=5)
    finished = bridge.status(result.reference or "")
    assert finished is not None and finished.item.status is Status.ACCEPTED
    assert sum(emulator.submissions.accepted_recipients().values()) == 1


@pytest.mark.parametrize("deadline", [0, -1.5, float("nan"), True])
def test_a_bad_deadline_is_refused_naming_the_option(bridge: SmsBridge, deadline: float) -> None:
    batch = Batch(["+447700900001"], body="x")
    with pytest.raises(InvalidMessageError) as caught:
        bridge.send_batch(batch, message_deadline=deadline)
    assert caught.value.field == "message_deadline"
