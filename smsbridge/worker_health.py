"""What a running worker says about itself: the health record and the file it keeps.

A :class:`~smsbridge.worker.Worker` keeps a :class:`HealthMonitor` up to date as it goes
(claims, results, database errors) and hands a :class:`WorkerHealth` snapshot to its
``on_health`` callback once per round, per idle pause and per wait for the database.
``smsbridge worker --health-file PATH`` passes a :class:`HealthFile`, which writes the
snapshot as JSON, atomically, so that a probe never reads half a file::

    {"state": "ok", "owner": "mq-3:48211:5f0c1a9e2b7d", "pid": 48211,
     "updated_at": 1718000000.5, "last_progress_at": 1718000000.5,
     "claimed": 12000, "sent": 11990, "database_errors": 0,
     "last_error": null, "last_error_at": null}

What to alert on (``docs/deployment.md``): a file older than a round can take (the
worker is stuck or dead: restart it), and ``state`` staying ``"database-unavailable"``
(the worker is fine and waiting; the database needs a person).
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from smsbridge.results import SendResult

__all__ = ["HealthFile", "HealthMonitor", "HealthState", "WorkerHealth"]


class HealthState(enum.Enum):
    """What a worker is doing, as far as anyone watching it needs to know."""

    OK = "ok"
    """Its last round reached the database (whether or not anything was due)."""
    DATABASE_UNAVAILABLE = "database-unavailable"
    """Its last round failed on a transient database error; it is waiting to try again."""
    STOPPED = "stopped"
    """It has left its loop (stopped, out of time, idle, or a permanent error)."""


@attrs.frozen(kw_only=True)
class WorkerHealth:
    """One snapshot of a worker's health.

    Args:
        state: See :class:`HealthState`.
        owner: The worker's lease name.
        pid: Its process id.
        updated_at: When the snapshot was taken (wall-clock seconds).
        last_progress_at: When a round last reached the database; ``None`` before the
            first one.
        claimed: Items claimed since the worker started (a retried item counts again).
        sent: Recipients the providers took (results that were ``ok``) since it started.
        database_errors: Transient database errors since the last round that reached the
            database (0 when ``state`` is ``"ok"``).
        last_error: The last database error's text (passwords removed), or ``None``.
        last_error_at: When it happened.
    """

    state: HealthState
    owner: str
    pid: int
    updated_at: float
    last_progress_at: float | None
    claimed: int
    sent: int
    database_errors: int
    last_error: str | None
    last_error_at: float | None

    def to_json(self) -> dict[str, object]:
        """The snapshot as JSON-ready data (``state`` as its string)."""
        data = attrs.asdict(self)
        data["state"] = self.state.value
        return data


class HealthMonitor:
    """Counts and state behind a worker's :class:`WorkerHealth`; safe across threads
    (results arrive on the dispatcher's threads).

    Args:
        owner: The worker's lease name.
        clock: Wall-clock seconds.
    """

    def __init__(self, owner: str, *, clock: Callable[[], float] = time.time) -> None:
        self.owner = owner
        self._clock = clock
        self._lock = threading.Lock()
        self._state = HealthState.OK
        self._progress: float | None = None
        self._claimed = 0
        self._sent = 0
        self._statuses: Counter[str] = Counter()
        self._errors = 0
        self._error: str | None = None
        self._error_at: float | None = None

    def results(self, results: Iterable[SendResult]) -> None:
        """Count the recipients a provider took, and every result by status."""
        statuses = Counter(result.status.value for result in results)
        taken = sum(1 for result in results if result.ok)
        with self._lock:
            self._sent += taken
            self._statuses.update(statuses)

    def statuses(self) -> dict[str, int]:
        """Results by status since the worker started (``{"accepted": 12, ...}``)."""
        with self._lock:
            return dict(self._statuses)

    def progress(self, claimed: int) -> None:
        """A round reached the database and claimed ``claimed`` items."""
        with self._lock:
            self._state = HealthState.OK
            self._progress = self._clock()
            self._claimed += claimed
            self._errors = 0

    def unavailable(self, error: str) -> int:
        """A round failed on a transient database error; returns how many in a row."""
        with self._lock:
            self._state = HealthState.DATABASE_UNAVAILABLE
            self._errors += 1
            self._error = error
            self._error_at = self._clock()
            return self._errors

    def stopped(self) -> None:
        """The worker left its loop."""
        with self._lock:
            self._state = HealthState.STOPPED

    def snapshot(self) -> WorkerHealth:
        """The health as of now."""
        with self._lock:
            return WorkerHealth(
                state=self._state,
                owner=self.owner,
                pid=os.getpid(),
                updated_at=self._clock(),
                last_progress_at=self._progress,
                claimed=self._claimed,
                sent=self._sent,
                database_errors=self._errors,
                last_error=self._error,
                last_error_at=self._error_at,
            )


class HealthFile:
    """Writes each :class:`WorkerHealth` to ``path`` as one JSON object, atomically.

    The snapshot goes to a temporary file in the same folder, which is then renamed over
    ``path``: a reader sees the old file or the new one, never a torn one, and the file's
    modification time is the time of the last snapshot (what a liveness probe checks).

    Args:
        path: The file; its folder must exist and be writable.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __call__(self, health: WorkerHealth) -> None:
        """Write ``health``.

        Raises:
            OSError: When the folder is not writable; the worker reports it and goes on.
        """
        text = json.dumps(health.to_json(), sort_keys=True) + "\n"
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            # Readable by a monitoring agent running as another user: it holds no secret.
            os.fchmod(fd, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def read(self) -> WorkerHealth:
        """The last snapshot written (for probes and tests).

        Raises:
            OSError: When there is no file yet.
            ValueError: When it does not hold a snapshot.
        """
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return WorkerHealth(**{**data, "state": HealthState(data["state"])})

    def __repr__(self) -> str:
        return f"HealthFile({str(self.path)!r})"
