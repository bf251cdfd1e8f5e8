"""Results held for a store's next commit.

A message sent on its own costs two commits: its item with its attempt before the
request, its result after. Where a commit is not flushed to disk anyway (SQLite with
``synchronous=NORMAL``, ``SmsBridge(durability="normal")``), the result may instead ride
with the store's next write, typically the next message's attempt, which saves a commit
per message. Nothing about sending changes: the item and its attempt are committed before
the request leaves, as always. What changes is the window after the answer: if the
process dies before the result is written, the item is still in flight with its attempt
open, exactly as if it had died during the request, and is settled the same way (a lookup
at its provider, never a blind resend).

Reads through the same store write what is held first, so this process always reads its
own results; a held result is written within :data:`HOLD_SECONDS` when nothing else
writes, and when the store closes or the interpreter exits.

Not public: see :class:`smsbridge.outbox.SqliteStore`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from smsbridge.results import SendResult

__all__ = ["HOLD_SECONDS", "Held", "HeldResults"]

log = logging.getLogger("smsbridge.outbox")

HOLD_SECONDS = 0.05
"""Longest a result waits for another write before a commit of its own."""

_IDLE_ROUNDS = 20
"""Rounds of :data:`HOLD_SECONDS` with nothing held before the writing thread ends."""

Held = tuple[Sequence[tuple[str, SendResult]], str, float]
"""One request's results, the owner holding its items, and when they came back."""


class HeldResults:
    """One store's held results, and the thread that writes them when nothing else does.

    Args:
        write: Opens (and commits) one write transaction of the store: the transaction
            writes whatever is held when it begins.
    """

    def __init__(self, write: Callable[[], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._held: list[tuple[float, Held]] = []
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def __bool__(self) -> bool:
        return bool(self._held)

    def hold(self, held: Held) -> bool:
        """Keep ``held`` for the next write transaction (or the thread's, soon); False,
        holding nothing, once closed (the caller writes it, and learns the store is)."""
        with self._lock:
            if self._stop.is_set():
                return False
            self._mine()
            self._held.append((time.monotonic(), held))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="smsbridge-held-results", daemon=True
                )
                atexit.register(self.flush)
                self._thread.start()
        return True

    def take(self) -> list[Held]:
        """Everything held, in the order it came; the caller writes it or gives it back."""
        with self._lock:
            self._mine()
            taken = [held for _, held in self._held]
            self._held = []
        return taken

    def give_back(self, taken: Sequence[Held]) -> None:
        """Hold again what a failed transaction did not write, ahead of newer results."""
        if not taken:
            return
        with self._lock:
            now = time.monotonic()
            self._held[:0] = [(now, held) for held in taken]

    def flush(self) -> None:
        """Write what is held now, in a transaction of its own; failures are logged (the
        items stay in flight, settled by reconciliation if nothing writes them later)."""
        if not self._held:
            return
        try:
            self._write()
        except Exception as exc:
            log.warning("held results not written yet: %s", exc)

    def close(self) -> None:
        """Write what is held and stop the thread."""
        self._stop.set()
        self.flush()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            atexit.unregister(self.flush)
            if thread is not threading.current_thread():
                thread.join(HOLD_SECONDS * 4)

    def _mine(self) -> None:
        # A forked child inherits its parent's list: those results are the parent's to
        # write (its leases say so), and the thread did not come along.
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._held = []
            self._thread = None

    def _run(self) -> None:
        idle = 0
        while not self._stop.wait(HOLD_SECONDS):
            with self._lock:
                oldest = self._held[0][0] if self._held else None
                if oldest is None:
                    idle += 1
                    if idle < _IDLE_ROUNDS:
                        continue
                    # Nothing for a while: end, and start again with the next result.
                    self._thread = None
                    atexit.unregister(self.flush)
                    return
            idle = 0
            if time.monotonic() - oldest >= HOLD_SECONDS:
                self.flush()
