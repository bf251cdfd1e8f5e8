"""Pushed callbacks (delivery reports) from emulators: a background sender and its log."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

import attrs
import urllib3

from smsbridge.testing import faults as f
from smsbridge.testing.records import Clock, RecordLog

__all__ = ["CallbackDelivery", "CallbackSender", "OutgoingCallback"]


@attrs.frozen(kw_only=True)
class CallbackDelivery:
    """One callback the emulator made: ``status`` is None when it failed (``error``).

    ``url`` includes the query string of a GET callback; ``method`` is ``"GET"`` or
    ``"POST"``.
    """

    url: str
    body: bytes = attrs.field(repr=False)
    status: int | None
    error: str | None
    at: float
    duplicate: bool = False
    method: str = "POST"


@attrs.frozen
class OutgoingCallback:
    """A callback waiting to be sent; ``duplicate`` marks a copy the plan added.

    A ``"GET"`` callback carries its fields in ``url`` and sends no body.
    """

    url: str
    body: bytes
    headers: Mapping[str, str]
    duplicate: bool = False
    method: str = "POST"


class CallbackSender:
    """One background thread sending callbacks, mistreated according to a CallbackPlan."""

    def __init__(self, plan: f.CallbackPlan, log: RecordLog[CallbackDelivery], clock: Clock):
        self._plan, self._log, self._clock = plan, log, clock
        self._rng = random.Random(plan.seed)
        self._changed = threading.Condition()
        self._pending: list[OutgoingCallback] = []
        self._unfinished = 0
        self._stop = threading.Event()
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(2.0, read=5.0))
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="smsbridge-emulator-callbacks"
        )
        self._thread.start()

    def submit(self, item: OutgoingCallback) -> None:
        """Queue ``item``; it leaves after the plan's delay, maybe duplicated or reordered."""
        with self._changed:
            self._pending.append(item)
            self._unfinished += 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued callback was attempted; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self) -> None:
        """Stop sending (queued callbacks are dropped) and join the thread."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(5.0)
        self._http.clear()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending) or self._stop.is_set())
            # Callbacks queued during the delay join this batch: late and reorderable.
            if self._stop.is_set() or self._stop.wait(self._plan.delay):
                return
            with self._changed:
                batch, self._pending = self._pending, []
            sends = list(batch)
            for item in batch:
                if self._rng.random() < self._plan.duplicate_fraction:
                    sends.append(attrs.evolve(item, duplicate=True))
            if self._plan.shuffle:
                self._rng.shuffle(sends)
            for item in sends:
                if not self._stop.is_set():
                    self._deliver(item)
            with self._changed:
                self._unfinished -= len(batch)
                self._changed.notify_all()

    def _deliver(self, item: OutgoingCallback) -> None:
        status, error = None, None
        try:
            body = item.body if item.method != "GET" else None
            reply = self._http.request(
                item.method, item.url, body=body, headers=dict(item.headers), redirect=False
            )
            status = reply.status
        except urllib3.exceptions.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._log.append(CallbackDelivery(
            url=item.url, body=item.body, status=status, error=error, at=self._clock(),
            duplicate=item.duplicate, method=item.method,
        ))  # fmt: skip
