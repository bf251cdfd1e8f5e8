"""A lone message's result held for the store's next write (``durability="normal"``).

The store's own reads see a held result at once; other connections see it after the next
write, within ``HOLD_SECONDS`` when nothing writes, or when the store closes. A result
that cannot be written any more (its lease taken over) is left to reconciliation without
costing the others, and a transaction that fails holds its results again. A process
killed while holding a result leaves the item in flight: ``resume`` settles it with a
lookup and the emulator counts every recipient once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from smsbridge import SmsBridge, Status
from smsbridge.outbox import ItemNotFoundError, ItemState, NewItem, OutboxError, SqliteStore, _held
from smsbridge.outbox.base import ItemOutcome
from smsbridge.results import DeliveryReport, SendResult
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

LEASE = 30.0


@pytest.fixture
def held_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing but the store's own writes, reads and close write a held result."""
    monkeypatch.setattr(_held, "HOLD_SECONDS", 600.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "outbox.sqlite3", synchronous="NORMAL") as opened:
        yield opened


def sent(store: SqliteStore, reference: str, owner: str = "w1") -> None:
    """Write an item with its first attempt, as a lone message's send does."""
    item = NewItem(reference=reference, recipient="+447700900123", body="hello")
    store.begin_attempts(
        [reference], owner=owner, provider="A", now=10, lease_seconds=LEASE, new=[item]
    )


def accepted(message_id: str = "m-1") -> SendResult:
    return SendResult(
        "+447700900123", Status.ACCEPTED, provider="A", message_id=message_id, parts=1
    )


def state_on_disk(store: SqliteStore, reference: str) -> tuple[str, str | None]:
    """The item as another connection (another process) reads it."""
    with closing(sqlite3.connect(store.path)) as raw:
        row = raw.execute(
            "SELECT state, lease_owner FROM items WHERE reference = ?", (reference,)
        ).fetchone()
    assert row is not None
    return str(row[0]), row[1]


def test_a_held_result_is_read_at_once_by_its_store_and_after_it_by_others(
    store: SqliteStore, held_long: None
) -> None:
    sent(store, "r1")
    handed: dict[str, ItemOutcome] = {}
    store.finish_many([("r1", accepted())], owner="w1", now=11, outcomes=handed, later=True)
    assert handed["r1"].state is ItemState.DONE and handed["r1"].status is Status.ACCEPTED
    assert state_on_disk(store, "r1") == ("inflight", "w1")  # held, not committed
    item = store.get("r1")  # a read writes what is held first
    assert item is not None and item.status is Status.ACCEPTED and item.message_id == "m-1"
    assert state_on_disk(store, "r1") == ("done", None)


def test_a_held_result_rides_with_the_next_write(store: SqliteStore, held_long: None) -> None:
    sent(store, "r1")
    store.finish_many([("r1", accepted())], owner="w1", now=11, later=True)
    sent(store, "r2")  # the next message's attempt commits the first one's result
    assert state_on_disk(store, "r1") == ("done", None)
    assert state_on_disk(store, "r2") == ("inflight", "w1")
    history = store.history("r1")
    assert history is not None
    assert [(a.outcome, a.finished_at) for a in history.attempts] == [(Status.ACCEPTED, 11)]


def test_the_store_writes_a_held_result_soon_when_nothing_else_writes(
    store: SqliteStore,
) -> None:
    sent(store, "r1")
    store.finish_many([("r1", accepted())], owner="w1", now=11, later=True)
    deadline = time.monotonic() + 30
    while state_on_disk(store, "r1")[0] != "done" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state_on_disk(store, "r1") == ("done", None)


def test_closing_the_store_writes_what_it_holds(tmp_path: Path, held_long: None) -> None:
    store = SqliteStore(tmp_path / "outbox.sqlite3", synchronous="NORMAL")
    sent(store, "r1")
    store.finish_many([("r1", accepted())], owner="w1", now=11, later=True)
    store.close()
    with SqliteStore(tmp_path / "outbox.sqlite3") as again:
        item = again.get("r1")
    assert item is not None and item.state is ItemState.DONE


def test_full_durability_and_unsettled_results_are_written_at_once(
    tmp_path: Path, held_long: None
) -> None:
    with SqliteStore(tmp_path / "full.sqlite3", synchronous="FULL") as full:
        sent(full, "r1")
        full.finish_many([("r1", accepted())], owner="w1", now=11, later=True)
        assert state_on_disk(full, "r1") == ("done", None)
    with SqliteStore(tmp_path / "normal.sqlite3", synchronous="NORMAL") as normal:
        sent(normal, "r1")
        unknown = SendResult("+447700900123", Status.UNKNOWN, provider="A")
        handed: dict[str, ItemOutcome] = {}
        normal.finish_many([("r1", unknown)], owner="w1", now=11, outcomes=handed, later=True)
        assert state_on_disk(normal, "r1") == ("unknown", None)
        assert "r1" not in handed  # its next look depends on what the store decides


def test_a_result_whose_lease_was_taken_over_is_left_to_reconciliation(
    store: SqliteStore, held_long: None, caplog: pytest.LogCaptureFixture
) -> None:
    sent(store, "r1")
    sent(store, "r2")
    store.finish_many([("r1", accepted("m-1"))], owner="w1", now=11, later=True)
    store.finish_many([("r2", accepted("m-2"))], owner="w1", now=11, later=True)
    with closing(sqlite3.connect(store.path, isolation_level=None)) as raw:
        # Another worker took r1 over (its lease had run out, say).
        raw.execute("UPDATE items SET lease_owner = 'w2' WHERE reference = 'r1'")
    with caplog.at_level(logging.WARNING, logger="smsbridge.outbox"):
        second = store.get("r2")
    assert second is not None and second.state is ItemState.DONE
    first = store.get("r1")
    assert first is not None and first.state is ItemState.INFLIGHT and first.lease_owner == "w2"
    assert "reconciliation" in caplog.text


def test_a_failed_transaction_holds_its_results_again(store: SqliteStore, held_long: None) -> None:
    sent(store, "r1")
    store.finish_many([("r1", accepted())], owner="w1", now=11, later=True)
    with pytest.raises(ItemNotFoundError):
        # Its transaction wrote the held result first, then failed: all rolled back.
        store.finish("nobody", owner="w1", result=accepted(), now=12)
    assert state_on_disk(store, "r1") == ("inflight", "w1")
    item = store.get("r1")
    assert item is not None and item.state is ItemState.DONE


CHILD = """
import json, os, signal, sys
from smsbridge import Message, SmsBridge
from smsbridge.outbox import _held
from smsbridge_clickatell import ClickatellProvider

_held.HOLD_SECONDS = 600.0  # the last result stays held until the kill
config = json.loads(sys.argv[1])
bridge = SmsBridge([ClickatellProvider.from_options(**config["provider"])], store=config["db"])
for number in config["to"]:
    result = bridge.send(Message(number, "Your code is 4829", reference="otp-" + number[-4:]))
    print(result.status.value, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_process_killed_holding_a_result_repeats_nothing(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite3"
    to = [f"+4477009{index:05d}" for index in range(5)]
    with ClickatellEmulator() as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        config = {"provider": {k: str(v) for k, v in options.items()}, "db": str(db), "to": to}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(config)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            timeout=120,
            check=False,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert child.stdout.split() == ["accepted"] * len(to)
        with SqliteStore(db) as store:
            # Each send's attempt committed the one before's result; the last was held.
            states = [store.counts().get(state, 0) for state in ItemState]
            assert dict(zip(ItemState, states, strict=True))[ItemState.INFLIGHT] == 1
        with (
            ClickatellProvider.from_options(**options) as provider,
            SmsBridge([provider], store=db) as bridge,
        ):
            summary = bridge.resume(timeout=60, patience=0)
            assert summary.complete
            for number in to:
                history = bridge.status("otp-" + number[-4:])
                assert history is not None
                item = history.item
                # The lookup may find the message further on (sent) than the answer did.
                assert item.state is ItemState.DONE
                assert item.status is not None and item.status.is_success
        # One request per recipient, before the kill; the resume only looked it up.
        assert sorted(emulator.submissions.accepted_recipients().values()) == [1] * len(to)
        assert emulator.submissions.duplicates() == {}


def test_a_closed_store_holds_nothing(tmp_path: Path, held_long: None) -> None:
    store = SqliteStore(tmp_path / "outbox.sqlite3", synchronous="NORMAL")
    sent(store, "r1")
    store.close()
    with pytest.raises(OutboxError, match="closed"):
        store.finish_many([("r1", accepted())], owner="w1", now=11, later=True)


def test_threads_sending_through_one_bridge_each_read_their_own_results(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite3"
    with ClickatellEmulator() as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        with (
            ClickatellProvider.from_options(**options) as provider,
            SmsBridge([provider], store=db) as bridge,
        ):

            def send_many(thread: int) -> list[str]:
                statuses = []
                for index in range(40):
                    reference = f"t{thread}-{index}"
                    number = f"+4477009{thread:02d}{index:03d}"
                    result = bridge.send(number, "Your code is 4829", reference=reference)
                    history = bridge.status(reference)  # its own result, read back at once
                    assert history is not None and history.item.state is ItemState.DONE
                    statuses.append(result.status.value)
                return statuses

            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(send_many, range(4)))
        assert answers == [["accepted"] * 40] * 4
        with SqliteStore(db) as store:
            assert {s: n for s, n in store.counts().items() if n} == {ItemState.DONE: 160}
        assert sorted(set(emulator.submissions.accepted_recipients().values())) == [1]
        assert len(emulator.submissions.accepted_recipients()) == 160


def test_a_report_parked_before_the_result_is_applied_when_the_result_is_written(
    store: SqliteStore, held_long: None
) -> None:
    sent(store, "r1")
    # The delivery report beats the submit response: no item has its id yet.
    early = DeliveryReport(provider="A", message_id="m-1", status=Status.DELIVERED)
    assert not store.record_report(early, now=10.5)
    handed: dict[str, ItemOutcome] = {}
    store.finish_many([("r1", accepted("m-1"))], owner="w1", now=11, outcomes=handed, later=True)
    item = store.get("r1")
    assert item is not None and item.state is ItemState.DONE
    assert item.status is Status.DELIVERED  # the parked report, picked up on the way
    history = store.history("r1")
    assert history is not None and [r.status for r in history.reports] == [Status.DELIVERED]


def test_a_status_reported_by_reference_meanwhile_is_kept(
    store: SqliteStore, held_long: None
) -> None:
    sent(store, "r1")
    by_reference = DeliveryReport(
        provider="A", message_id=None, reference="r1", status=Status.DELIVERED
    )
    store.record_report(by_reference, now=10.5)
    store.finish_many([("r1", accepted("m-1"))], owner="w1", now=11, later=True)
    item = store.get("r1")
    assert item is not None and item.state is ItemState.DONE
    assert item.status is Status.DELIVERED and item.message_id == "m-1"
