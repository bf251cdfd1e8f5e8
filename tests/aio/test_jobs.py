"""The job queue behind AsyncSmsBridge: width, exclusive jobs, cancelled callers."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from smsbridge.aio.jobs import Jobs

GUARD = 10.0


def blocker(gate: threading.Event, log: list[str], name: str) -> str:
    log.append(f"{name} start")
    assert gate.wait(GUARD), "never released"
    log.append(f"{name} end")
    return name


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(int(GUARD / 0.001)):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never met")


def test_at_most_width_shared_jobs_run_at_once() -> None:
    async def main() -> None:
        with ThreadPoolExecutor(8) as pool:
            jobs = Jobs(pool, width=2)
            gate, log = threading.Event(), list[str]()
            futures = [
                jobs.shared(functools.partial(blocker, gate, log, f"j{i}")) for i in range(5)
            ]
            await until(lambda: len(log) == 2)
            assert jobs.running == 2
            gate.set()
            assert await asyncio.gather(*futures) == [f"j{i}" for i in range(5)]
            await jobs.wait_all()

    asyncio.run(main())


def test_an_exclusive_job_runs_alone_and_before_later_shared_ones() -> None:
    async def main() -> None:
        with ThreadPoolExecutor(8) as pool:
            jobs = Jobs(pool, width=4)
            first, alone, log = threading.Event(), threading.Event(), list[str]()
            shared = jobs.shared(lambda: blocker(first, log, "shared"))
            await until(lambda: log == ["shared start"])
            exclusive = jobs.exclusive(lambda: blocker(alone, log, "exclusive"))
            later = jobs.shared(lambda: blocker(first, log, "later"))
            await asyncio.sleep(0.05)
            assert log == ["shared start"]  # neither starts while the shared one runs
            first.set()
            await until(lambda: "exclusive start" in log)
            await asyncio.sleep(0.05)
            assert "later start" not in log  # queued after the exclusive one: waits
            alone.set()
            await asyncio.gather(shared, exclusive, later)
            assert log == [
                "shared start",
                "shared end",
                "exclusive start",
                "exclusive end",
                "later start",
                "later end",
            ]

    asyncio.run(main())


def test_a_cancelled_caller_does_not_cancel_its_job() -> None:
    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            jobs = Jobs(pool, width=1)
            gate, log = threading.Event(), list[str]()
            running = jobs.shared(lambda: blocker(gate, log, "running"))
            queued = jobs.shared(lambda: blocker(gate, log, "queued"))
            await until(lambda: log == ["running start"])
            running.cancel()
            queued.cancel()  # still waiting for the only thread
            gate.set()
            await jobs.wait_all()
        assert log == ["running start", "running end", "queued start", "queued end"]

    asyncio.run(main())


def test_a_failing_job_gives_its_error_and_frees_its_slot() -> None:
    def fail() -> None:
        raise LookupError("no such thing")

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            jobs = Jobs(pool, width=1)
            failed = jobs.shared(fail)
            after = jobs.shared(lambda: "after")
            with pytest.raises(LookupError, match="no such thing"):
                await failed
            assert await after == "after"

    asyncio.run(main())
