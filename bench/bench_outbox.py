"""Outbox throughput: rows per second for add, claim and finish on a real SQLite file.

Run: ``python bench/bench_outbox.py [--items 100000] [--single 5000]``.

The baseline is a bare ``executemany`` INSERT of the same rows into a one-table
database with the same pragmas, measured in the same run on the same disk; each phase
prints its rate and its ratio to that baseline, so numbers from different machines
compare by ratio. ``--single`` items also go through the one-message path
(``begin_attempt`` + ``finish``: two commits each), under both ``synchronous`` modes,
because that path's cost is the disk's sync latency.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from smsbridge.outbox import NewItem, SqliteStore
from smsbridge.results import SendResult
from smsbridge.status import Status

LEASE = 600.0
BODY = "Your code is 123456. It expires in 10 minutes."


def items(count: int, prefix: str = "r") -> Iterator[NewItem]:
    for i in range(count):
        yield NewItem(
            reference=f"{prefix}{i:08d}", recipient=f"+4477009{i:05d}", body=BODY, batch="bench"
        )


def timed(action: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    rows = action()
    return rows, time.perf_counter() - started


def baseline(path: Path, count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE t (reference TEXT UNIQUE, recipient TEXT, body TEXT)")
        rows = [(f"r{i:08d}", f"+4477009{i:05d}", BODY) for i in range(count)]

        def insert() -> int:
            for start in range(0, count, 1000):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows[start : start + 1000])
                conn.execute("COMMIT")
            return count

        done, seconds = timed(insert)
    finally:
        conn.close()
    return done / seconds


def bulk_phases(path: Path, count: int, per_request: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    with SqliteStore(path) as store:
        rows, seconds = timed(lambda: store.add(items(count), now=0).added)
        rates["add"] = rows / seconds
        claimed: list[str] = []

        def claim() -> int:
            while batch := store.claim("bench", limit=500, now=1, lease_seconds=LEASE):
                claimed.extend(item.reference for item in batch)
            return len(claimed)

        rows, seconds = timed(claim)
        rates["claim"] = rows / seconds

        def attempt_and_finish() -> int:
            for start in range(0, len(claimed), per_request):
                chunk = claimed[start : start + per_request]
                store.begin_attempts(chunk, owner="bench", provider="A", now=2)
                results = [
                    (
                        ref,
                        SendResult("+447700900000", Status.ACCEPTED, provider="A", message_id=ref),
                    )
                    for ref in chunk
                ]
                store.finish_many(results, owner="bench", now=3)
            return len(claimed)

        rows, seconds = timed(attempt_and_finish)
        rates[f"begin+finish x{per_request}"] = rows / seconds
    return rates


def single_path(path: Path, count: int, synchronous: Literal["FULL", "NORMAL"]) -> float:
    with SqliteStore(path, synchronous=synchronous) as store:
        store.add(items(count, prefix="s"), now=0)
        claimed = [i.reference for i in store.claim("one", limit=count, now=1, lease_seconds=LEASE)]

        def run() -> int:
            for ref in claimed:
                store.begin_attempt(ref, owner="one", provider="A", now=2)
                sent = SendResult("+447700900000", Status.ACCEPTED, provider="A", message_id=ref)
                store.finish(ref, owner="one", result=sent, now=3)
            return len(claimed)

        rows, seconds = timed(run)
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--per-request", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as folder:
        root = Path(folder)
        base = baseline(root / "baseline.sqlite3", args.items)
        rates = bulk_phases(root / "outbox.sqlite3", args.items, args.per_request)
        for mode in ("FULL", "NORMAL"):
            path = root / f"single-{mode}.sqlite3"
            rates[f"begin+finish x1 ({mode})"] = single_path(path, args.single, mode)
    print(f"outbox, {args.items:,} items (single-message path: {args.single:,})")
    print(f"  {'baseline insert':<28} {base:>12,.0f} rows/s   1.00x")
    for name, rate in rates.items():
        print(f"  {name:<28} {rate:>12,.0f} rows/s   {rate / base:.2f}x")


if __name__ == "__main__":
    main()
