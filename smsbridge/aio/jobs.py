"""Blocking jobs fed from the event loop to the worker threads, a few at a time.

Two reasons to keep a queue of our own rather than handing every job to the executor:

* **The loop stays light.** A thousand sends started at once would otherwise make a
  thousand executor submissions in one turn of the loop, while the first threads already
  compete with it for the GIL. Here a send only joins a queue; a job is submitted when a
  thread is free, from the callback of the job that freed it.
* **Sends share the outbox; ``resume`` and ``close`` need it alone.** They drop every
  lease of the bridge's name, which would hand a message still in its first request to
  reconciliation. An exclusive job starts once no shared job runs, and shared jobs queued
  meanwhile wait for it.

A job, once queued, runs to its end whatever happens to the coroutine that queued it: a
cancelled caller cancels only its view of the job (the future), never the queued or
running job itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["Jobs"]

T = TypeVar("T")


class Jobs:
    """Runs shared jobs at most ``width`` at once, and exclusive jobs alone.

    Use from one event loop; the futures it returns belong to that loop.

    Args:
        executor: Where jobs run.
        width: Shared jobs running at once (the executor's thread count).
    """

    def __init__(self, executor: Executor, width: int) -> None:
        self._executor = executor
        self._width = width
        self._shared: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = deque()
        self._exclusive: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = deque()
        self._running = 0
        self._alone = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        """Jobs on the threads right now."""
        return self._running

    def shared(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Queue a job that may run beside other shared jobs."""
        return self._queue(self._shared, fn)

    def exclusive(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Queue a job that runs alone: after the shared jobs already running, before
        those queued after it."""
        return self._queue(self._exclusive, fn)

    async def wait_all(self) -> None:
        """Wait until no job is queued or running."""
        await self._idle.wait()

    def _queue(
        self, queue: deque[tuple[Callable[[], Any], asyncio.Future[Any]]], fn: Callable[[], T]
    ) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        queue.append((fn, future))
        self._idle.clear()
        self._pump()
        return future

    def _pump(self) -> None:
        if self._alone:
            return
        if self._exclusive:
            if self._running == 0:
                self._alone = True
                self._start(*self._exclusive.popleft())
            return  # shared jobs wait behind an exclusive one
        while self._shared and self._running < self._width:
            self._start(*self._shared.popleft())
        if not self._running and not self._shared:
            self._idle.set()

    def _start(self, fn: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        loop = future.get_loop()
        self._running += 1
        try:
            job = self._executor.submit(fn)
        except BaseException as exc:  # the executor is shut down
            self._finished(future, None, exc)
            return

        def done(job: Future[Any]) -> None:
            # A worker thread: hand the outcome to the loop (gone if the loop closed).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._finished, future, job, None)

        job.add_done_callback(done)

    def _finished(
        self, future: asyncio.Future[Any], job: Future[Any] | None, error: BaseException | None
    ) -> None:
        self._running -= 1
        self._alone = False
        if not future.done():
            if job is not None:
                error = job.exception()
            if error is not None:
                future.set_exception(error)
            else:
                assert job is not None
                future.set_result(job.result())
        self._pump()
