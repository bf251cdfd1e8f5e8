"""What sharing one SQLite connection per file costs the limits and the outbox.

Run: ``python bench/bench_sqlite_file.py [--rounds 5000]``.

Each round is what a worker does around one request on a capped provider: take a
connection slot, advance a counter in the outbox (a ``synchronous=FULL`` commit), free
the slot (``synchronous=NORMAL`` commits). The baseline runs the limits' statements the way
smsbridge did before the owner existed: on a connection of their own, in autocommit,
beside the store's. The shared run goes through ``SqliteLimits`` and
``SqliteStore`` on one :class:`~smsbridge.outbox.sqlite_file.SqliteFile`, which switches
``synchronous`` between their transactions. Both run in the same process on the same
disk (``/dev/shm`` when present, so the flush cost does not drown the difference); the
ratio is what to compare across machines.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

from smsbridge.limits import SqliteLimits
from smsbridge.outbox import SqliteStore

SLOT = "INSERT INTO shared_slots (key, owner, until) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING"
FREE = "DELETE FROM shared_slots WHERE key = ? AND owner = ?"


def baseline(path: Path, rounds: int) -> float:
    SqliteLimits(str(path)).close()  # the file and its tables
    lock = threading.Lock()
    with SqliteStore(path) as store, closing(sqlite3.connect(path, isolation_level=None)) as own:
        # The limits as they were: a connection of their own, autocommit, under a lock.
        own.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        for i in range(rounds):
            with lock:
                own.execute(SLOT, ("bulksms:0", "w1", float(i)))
            store.allocate("n")
            with lock:
                own.execute(FREE, ("bulksms:0", "w1"))
        return time.perf_counter() - started


def shared(path: Path, rounds: int) -> float:
    with SqliteStore(path) as store:
        limits = SqliteLimits(str(path))
        try:
            assert limits.file.file is store.file.file
            started = time.perf_counter()
            for i in range(rounds):
                limits.try_slot("bulksms:0", owner="w1", now=float(i), ttl=30.0)
                store.allocate("n")
                limits.free_slot("bulksms:0", owner="w1")
            return time.perf_counter() - started
        finally:
            limits.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5_000)
    args = parser.parse_args()
    shm = Path("/dev/shm")  # noqa: S108 - a private TemporaryDirectory inside it
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as folder:
        base = baseline(Path(folder) / "base.sqlite3", args.rounds)
        mine = shared(Path(folder) / "shared.sqlite3", args.rounds)
    print(f"slot + counter + free, {args.rounds:,} rounds")
    print(f"  baseline (limits on their own)    {args.rounds / base:10,.0f} rounds/s   1.00x")
    rate = args.rounds / mine
    print(f"  one owner per file                {rate:10,.0f} rounds/s   {base / mine:.2f}x")


if __name__ == "__main__":
    main()
