"""One thread that works the outbox for every waiting coroutine of an async bridge.

A synchronous ``send`` that has to wait (a retry later, a failover, a batch) works the
outbox from its own thread until its items settle. A thousand coroutines doing that would
need a thousand threads, so :class:`Settler` does it once for all of them: coroutines
register a :class:`Watch` (the references, a deadline, an :class:`asyncio.Future`), the
settler runs the dispatcher's rounds and resolves each watch's future, through the
watcher's event loop, once its items are settled. A watch whose coroutine was cancelled
stays until its items settle or its deadline passes, so its message is worked exactly as
long as if the caller had waited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence

import attrs

from smsbridge.bridge import SmsBridge
from smsbridge.errors import SmsBridgeError

__all__ = ["Settler", "Watch"]

log = logging.getLogger("smsbridge.aio")

_IDLE_CHECK = 1.0
"""Longest sleep between two looks at the outbox while something is watched."""
_ERROR_PAUSE = 0.5
"""Pause after a failed round (the database is away), before the next one."""


@attrs.define(eq=False)
class Watch:
    """References a coroutine waits for.

    Args:
        references: The items' references.
        batch: The batch prefix when the items are a batch's window (read by counts).
        deadline: ``time.monotonic()`` after which nobody waits for them any more.
        future: Resolved (``None``) on its loop once every item is settled.
    """

    references: tuple[str, ...]
    batch: str | None
    deadline: float
    future: asyncio.Future[None]

    def wake(self) -> None:
        """Resolve the future from any thread; a closed loop is nobody's to wake."""
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self.future.get_loop().call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Settler:
    """Works ``bridge``'s outbox while a :class:`Watch` is registered.

    Started on the first watch; :meth:`stop` ends the thread. Rounds are the bridge's
    own (:meth:`~smsbridge.dispatch.Dispatcher.run_once`), so decisions, limits and
    leases are exactly those of the synchronous bridge.

    Args:
        bridge: The synchronous bridge whose dispatcher and outbox are worked.
    """

    def __init__(self, bridge: SmsBridge) -> None:
        self._bridge = bridge
        self._watches: list[Watch] = []
        self._lock = threading.Lock()
        self._kick = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.round_lock = threading.Lock()
        """Held for each round; whoever else works the outbox (``resume``) takes it."""

    def watch(self, watch: Watch) -> None:
        """Work the outbox until ``watch``'s items are settled or its deadline passes."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._watches.append(watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="smsbridge-aio-settler", daemon=True
                )
                self._thread.start()
        self._kick.set()

    def forget(self, watch: Watch) -> None:
        """Stop watching (the coroutine stopped waiting on its own)."""
        with self._lock:
            if watch in self._watches:
                self._watches.remove(watch)

    def kick(self) -> None:
        """Look at the outbox now (new items were written)."""
        self._kick.set()

    @property
    def watching(self) -> int:
        """How many watches are registered."""
        with self._lock:
            return len(self._watches)

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread after its current round; unsettled items stay in the outbox."""
        with self._lock:
            self._stopped.set()
            thread, self._thread = self._thread, None
            watches, self._watches = self._watches, []
        self._kick.set()
        if thread is not None:
            thread.join(timeout)
        for watch in watches:
            watch.wake()  # waiters read what is recorded, as after max_wait

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped.is_set():
            watches = self._current()
            if not watches:
                self._kick.wait()
                self._kick.clear()
                continue
            self._kick.clear()
            try:
                with self.round_lock:
                    claimed = self._bridge.dispatcher.run_once()
                due = self._settle(watches)
            except SmsBridgeError as exc:
                log.warning("async bridge could not work the outbox (will retry): %s", exc)
                self._stopped.wait(_ERROR_PAUSE)
                continue
            if claimed:
                continue
            now = time.monotonic()
            deadline = min((w.deadline for w in self._current()), default=now + _IDLE_CHECK)
            wait = _IDLE_CHECK if due is None else due - self._bridge.dispatcher.clock()
            self._kick.wait(min(max(wait, 0.005), max(deadline - now, 0.005), _IDLE_CHECK))

    def _current(self) -> list[Watch]:
        """The live watches; expired ones are dropped and woken (their waiters read)."""
        now = time.monotonic()
        with self._lock:
            expired = [w for w in self._watches if w.deadline <= now]
            self._watches = [w for w in self._watches if w.deadline > now]
            live = list(self._watches)
        for watch in expired:
            watch.wake()
        return live

    def _settle(self, watches: Sequence[Watch]) -> float | None:
        """Wake the watches whose items are settled; the next due time of the rest."""
        bridge = self._bridge
        singles = [w for w in watches if w.batch is None]
        outcomes = bridge.store.outcomes([r for w in singles for r in w.references])
        due: float | None = None
        done: list[Watch] = []
        for watch in watches:
            if watch.batch is not None:
                # The synchronous bridge's own tests (counts per batch, parked unknowns).
                if bridge.answers.settled(watch.references, watch.batch):
                    done.append(watch)
                    continue
                when = bridge.answers.next_due(watch.references, watch.batch)
            else:
                waiting = [
                    item
                    for item in (outcomes.get(r) for r in watch.references)
                    if item is not None and bridge.answers.waiting(item)
                ]
                if not waiting:
                    done.append(watch)
                    continue
                when = min(item.next_attempt_at for item in waiting)
            if when is not None:
                due = when if due is None else min(due, when)
        with self._lock:
            self._watches = [w for w in self._watches if w not in done]
        for watch in done:
            watch.wake()
        return due
