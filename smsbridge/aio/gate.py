"""Sends share the outbox; ``resume`` and ``close`` need it alone.

:meth:`Dispatcher.resume <smsbridge.dispatch.Dispatcher.resume>` and ``close`` drop every
lease of the bridge's name, which would hand a message still in its first request to
reconciliation. So they wait until no write is under way, and writes arriving meanwhile
wait for them. A hold lasts as long as its job on the worker threads, not as long as the
coroutine that asked: a cancelled caller does not release a lease still in use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Gate"]

T = TypeVar("T")


class Gate:
    """Shared holds for writes, an exclusive one for ``resume``; all on one event loop."""

    def __init__(self) -> None:
        self._shared = 0
        self._exclusive = False
        self._event = asyncio.Event()

    @property
    def shared_holds(self) -> int:
        """Jobs holding the gate shared right now."""
        return self._shared

    async def shared(self, start: Callable[[], asyncio.Future[T]]) -> T:
        """Start a job once no exclusive one runs or waits; held until it ends."""
        while self._exclusive:
            await self._changed()
        self._shared += 1
        return await self._hold(start, self._release_shared)

    async def exclusive(self, start: Callable[[], asyncio.Future[T]]) -> T:
        """Start a job once every shared one has ended; new ones wait until it ends."""
        while self._exclusive:
            await self._changed()
        self._exclusive = True
        try:
            while self._shared:
                await self._changed()
        except BaseException:
            self._release_exclusive()
            raise
        return await self._hold(start, self._release_exclusive)

    async def _hold(self, start: Callable[[], asyncio.Future[T]], release: Callable[[], None]) -> T:
        try:
            job = start()
        except BaseException:
            release()
            raise
        job.add_done_callback(lambda _job: release())
        return await asyncio.shield(job)

    def _release_shared(self) -> None:
        self._shared -= 1
        self._notify()

    def _release_exclusive(self) -> None:
        self._exclusive = False
        self._notify()

    async def _changed(self) -> None:
        await self._event.wait()

    def _notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()
