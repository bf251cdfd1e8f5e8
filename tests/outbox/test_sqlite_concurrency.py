"""Several connections, threads and processes sharing one outbox file.

The process tests use the ``spawn`` start method so that each worker is a fresh
interpreter with its own connection, exactly like separate worker processes in
production (``fork`` would copy the parent's state and prove less).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import TypeVar

from smsbridge.outbox import NewItem, SqliteStore

ITEMS = 2_000
_T = TypeVar("_T")


def _fill(path: Path, count: int) -> list[str]:
    references = [f"r{i:05d}" for i in range(count)]
    with SqliteStore(path) as store:
        store.add(
            (NewItem(reference=r, recipient="+447700900123", body="hi") for r in references),
            now=0,
        )
    return references


def _claim_all(store: SqliteStore, owner: str, *, limit: int) -> list[str]:
    """Claim until nothing is left; the lease outlives the test so nothing comes back."""
    taken: list[str] = []
    while batch := store.claim(owner, limit=limit, now=1, lease_seconds=3_600):
        taken.extend(item.reference for item in batch)
    return taken


def _claim_in_process(path: str, owner: str, start: Barrier) -> list[str]:
    with SqliteStore(path) as store:
        # Without the barrier the first process could finish before the second starts.
        start.wait()
        return _claim_all(store, owner, limit=7)


def _allocate_in_process(path: str, count: int, start: Barrier) -> list[int]:
    with SqliteStore(path) as store:
        start.wait()
        return [store.allocate("stop_dup_id") for _ in range(count)]


def _in_processes(
    function: Callable[..., list[_T]], arguments: list[tuple[object, ...]]
) -> list[list[_T]]:
    """Run ``function(*args, start)`` in one fresh process per argument tuple."""
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(len(arguments), mp_context=context) as pool,
    ):
        start = manager.Barrier(len(arguments))
        futures = [pool.submit(function, *args, start) for args in arguments]
        return [future.result(timeout=120) for future in futures]


def _run_threads(targets: list[threading.Thread]) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join()


def test_threads_with_their_own_connections_never_share_an_item(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    references = _fill(path, ITEMS)
    results: dict[str, list[str]] = {}
    stores = [SqliteStore(path) for _ in range(4)]
    try:

        def work(index: int) -> None:
            results[f"w{index}"] = _claim_all(stores[index], f"w{index}", limit=13)

        _run_threads([threading.Thread(target=work, args=(i,)) for i in range(4)])
    finally:
        for store in stores:
            store.close()
    claimed = Counter(r for taken in results.values() for r in taken)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_threads_sharing_one_store_never_share_an_item(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    references = _fill(path, ITEMS)
    results: dict[str, list[str]] = {}
    with SqliteStore(path) as store:

        def work(owner: str) -> None:
            results[owner] = _claim_all(store, owner, limit=11)

        _run_threads([threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)])
    claimed = Counter(r for taken in results.values() for r in taken)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_processes_never_share_an_item(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    references = _fill(path, ITEMS)
    taken = _in_processes(_claim_in_process, [(str(path), "p0"), (str(path), "p1")])
    claimed = Counter(r for part in taken for r in part)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_counter_values_are_unique_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    SqliteStore(path).close()
    parts = _in_processes(_allocate_in_process, [(str(path), 500), (str(path), 500)])
    values = [value for part in parts for value in part]
    assert len(set(values)) == 1_000
    assert sorted(values) == list(range(1, 1_001))
    for part in parts:
        assert part == sorted(part)  # each process sees the counter only go up
