"""Several connections, threads and processes sharing one outbox, on every backend.

The process tests use the ``spawn`` start method so that each worker is a fresh
interpreter with its own connection, exactly like separate worker processes in
production (``fork`` would copy the parent's state and prove less). Workers open the
outbox through :func:`open_store` with the factory's location, as a deployment would.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from threading import Barrier
from typing import TypeVar

from smsbridge.outbox import NewItem, OutboxStore
from smsbridge.outbox.factory import open_store
from tests.outbox.conftest import StoreFactory

ITEMS = 2_000
_T = TypeVar("_T")


def fill(factory: StoreFactory, count: int) -> list[str]:
    """Add ``count`` due items to the factory's outbox; returns their references."""
    references = [f"r{i:05d}" for i in range(count)]
    with factory() as store:
        store.add(
            (NewItem(reference=r, recipient="+447700900123", body="hi") for r in references),
            now=0,
        )
    return references


def claim_all(store: OutboxStore, owner: str, *, limit: int) -> list[str]:
    """Claim until nothing is left; the lease outlives the test so nothing comes back."""
    taken: list[str] = []
    while batch := store.claim(owner, limit=limit, now=1, lease_seconds=3_600):
        taken.extend(item.reference for item in batch)
    return taken


def claim_in_process(location: str, owner: str, start: Barrier) -> list[str]:
    """A worker process: open the outbox, wait for the others, claim everything."""
    store = open_store(location)
    try:
        # Without the barrier the first process could finish before the second starts.
        start.wait()
        return claim_all(store, owner, limit=7)
    finally:
        store.close()


def _allocate_in_process(location: str, count: int, start: Barrier) -> list[int]:
    store = open_store(location)
    try:
        start.wait()
        return [store.allocate("stop_dup_id") for _ in range(count)]
    finally:
        store.close()


def in_processes(
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


def test_threads_with_their_own_connections_never_share_an_item(
    store_factory: StoreFactory,
) -> None:
    references = fill(store_factory, ITEMS)
    results: dict[str, list[str]] = {}
    stores = [store_factory() for _ in range(4)]

    def work(index: int) -> None:
        results[f"w{index}"] = claim_all(stores[index], f"w{index}", limit=13)

    _run_threads([threading.Thread(target=work, args=(i,)) for i in range(4)])
    claimed = Counter(r for taken in results.values() for r in taken)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_threads_sharing_one_store_never_share_an_item(store_factory: StoreFactory) -> None:
    references = fill(store_factory, ITEMS)
    results: dict[str, list[str]] = {}
    with store_factory() as store:

        def work(owner: str) -> None:
            results[owner] = claim_all(store, owner, limit=11)

        _run_threads([threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)])
    claimed = Counter(r for taken in results.values() for r in taken)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_processes_never_share_an_item(store_factory: StoreFactory) -> None:
    references = fill(store_factory, ITEMS)
    location = store_factory.location
    taken = in_processes(claim_in_process, [(location, "p0"), (location, "p1")])
    claimed = Counter(r for part in taken for r in part)
    assert sorted(claimed) == references
    assert set(claimed.values()) == {1}


def test_counter_values_are_unique_across_processes(store_factory: StoreFactory) -> None:
    store_factory().close()
    location = store_factory.location
    parts = in_processes(_allocate_in_process, [(location, 500), (location, 500)])
    values = [value for part in parts for value in part]
    assert len(set(values)) == 1_000
    assert sorted(values) == list(range(1, 1_001))
    for part in parts:
        assert part == sorted(part)  # each process sees the counter only go up
