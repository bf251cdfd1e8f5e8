"""Cancelling a task awaiting ``AsyncSmsBridge.send`` loses and duplicates nothing.

Against the Clickatell emulator over a real socket: a send cancelled while its request
is out, while it waits in the worker queue, or while it waits for a retry is still sent
exactly once, and its result is found by reference (by ``status``, or by sending the
same reference again, which sends nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from smsbridge import SendResult, Status
from smsbridge.aio import AsyncSmsBridge
from smsbridge.outbox import History, ItemState
from smsbridge.testing import Delay, HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

SEND_PATH = "/http/sendmsg"


@pytest.fixture
def emulator() -> Iterator[ClickatellEmulator]:
    with ClickatellEmulator(balance=Decimal(1000)) as emulator:
        yield emulator


def bridge_for(emulator: ClickatellEmulator, **options: Any) -> AsyncSmsBridge:
    provider = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
    options.setdefault("store", ":memory:")
    return AsyncSmsBridge([provider], region="GB", **options)


async def settled(bridge: AsyncSmsBridge, reference: str) -> History:
    """The item's history once it is done (bounded: the test fails, never hangs)."""
    for _ in range(1000):
        history = await bridge.status(reference)
        if history is not None and history.item.state is ItemState.DONE:
            return history
        await asyncio.sleep(0.01)
    raise AssertionError(f"{reference} never settled: {history}")


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (bounded: the test fails, never hangs)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never met")


async def cancel(task: asyncio.Task[SendResult]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_cancelled_while_its_request_is_out(emulator: ClickatellEmulator) -> None:
    emulator.faults.add(Delay(0.3), match=on_path(SEND_PATH), next_n=1)

    async def main() -> None:
        async with bridge_for(emulator) as bridge:
            task = asyncio.create_task(bridge.send("07700 900123", "code 1", reference="c-1"))
            # Written, its request on its way (held 0.3 s by the emulator).
            await until(lambda: sum(bridge.bridge.store.counts().values()) > 0)
            await cancel(task)
            history = await settled(bridge, "c-1")
            again = await bridge.send("07700 900123", "code 1", reference="c-1")
        assert history.item.status is Status.ACCEPTED
        assert (again.status, again.message_id) == (Status.ACCEPTED, history.item.message_id)

    asyncio.run(main())
    assert emulator.submissions.accepted_recipients() == {"+447700900123": 1}
    assert not emulator.submissions.duplicates()


def test_cancelled_while_queued_for_a_worker_thread(emulator: ClickatellEmulator) -> None:
    emulator.faults.add(Delay(0.3), match=on_path(SEND_PATH), next_n=1)

    async def main() -> None:
        async with bridge_for(emulator, threads=1) as bridge:
            first = asyncio.create_task(bridge.send("+447700900001", "slow", reference="q-1"))
            await asyncio.sleep(0.05)  # the only worker thread is busy with the first
            queued = asyncio.create_task(bridge.send("+447700900002", "queued", reference="q-2"))
            await asyncio.sleep(0)
            await cancel(queued)
            assert (await first).status is Status.ACCEPTED
            history = await settled(bridge, "q-2")
        assert history.item.status is Status.ACCEPTED

    asyncio.run(main())
    assert emulator.submissions.accepted_recipients() == {"+447700900001": 1, "+447700900002": 1}


def test_cancelled_while_waiting_for_a_retry(emulator: ClickatellEmulator) -> None:
    # Retry-After: the retry is due in a second (no jitter), time to cancel first.
    emulator.faults.add(HttpStatus(503, retry_after=1), match=on_path(SEND_PATH), next_n=1)

    async def main() -> None:
        async with bridge_for(emulator) as bridge:
            task = asyncio.create_task(bridge.send("+447700900003", "retry", reference="w-1"))
            # Refused once; the settler has the retry.
            await until(lambda: bridge.bridge.store.counts().get(ItemState.RETRY_WAIT, 0) > 0)
            await cancel(task)
            history = await settled(bridge, "w-1")
        assert history.item.status is Status.ACCEPTED
        assert len(history.attempts) == 2

    asyncio.run(main())
    assert emulator.submissions.accepted_recipients() == {"+447700900003": 1}


def test_a_message_left_waiting_at_close_is_resumed_once(
    emulator: ClickatellEmulator, tmp_path: Path
) -> None:
    # Retry-After: the retry is due in a second, never within max_wait (no jitter).
    emulator.faults.add(HttpStatus(503, retry_after=1), match=on_path(SEND_PATH), next_n=1)
    store = str(tmp_path / "outbox.sqlite3")

    async def main() -> None:
        async with bridge_for(emulator, store=store, max_wait=0.05) as bridge:
            result = await bridge.send("+447700900004", "later", reference="l-1")
            assert result.status is Status.QUEUED  # max_wait passed; the outbox keeps it
        async with bridge_for(emulator, store=store) as bridge:
            summary = await bridge.resume(timeout=10, patience=5)
            history = await bridge.status("l-1")
        assert summary.settled == {Status.ACCEPTED: 1}
        assert history is not None and history.item.status is Status.ACCEPTED

    asyncio.run(main())
    assert emulator.submissions.accepted_recipients() == {"+447700900004": 1}
