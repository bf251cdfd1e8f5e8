"""SQLite storage failures: typed, naming the file and the operation, saying what was kept.

A full database is made portably with ``PRAGMA max_page_count`` on the store's own
connection, a read-only one with ``PRAGMA query_only``; a real read-only or full file
system is a small tmpfs (:mod:`tests.disks`), because what SQLite reports there
("unable to open database file", "disk I/O error") is what the classification must see
through.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smsbridge.errors import Kind
from smsbridge.model import Batch
from smsbridge.outbox import (
    ItemState,
    NewItem,
    OutboxError,
    SqliteStore,
    StorageBusyError,
    StorageError,
    StorageFullError,
    StorageIOError,
    StorageReadOnlyError,
)
from smsbridge.outbox._sqlite_errors import storage_error
from smsbridge.worker import enqueue
from tests.disks import fill, small_disk

TOTAL = 5_000
CHUNK = 500


def items(count: int = TOTAL, *, then: Callable[[int], None] | None = None) -> Iterator[NewItem]:
    """``count`` items r-0, r-1...; ``then(i)`` runs before item ``i`` is made."""
    for i in range(count):
        if then is not None:
            then(i)
        yield NewItem(reference=f"r-{i}", recipient=f"+4477009{i:05d}", body="x" * 60)


def cap(store: SqliteStore, extra_pages: int | None) -> None:
    """Let the file grow by ``extra_pages`` more pages only (``None``: no cap)."""
    conn = store._connection()
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    limit = 2**31 - 2 if extra_pages is None else pages + extra_pages
    conn.execute(f"PRAGMA max_page_count = {limit:d}")


def stored(store: SqliteStore) -> int:
    return sum(store.counts().values())


def pages_per_chunk(folder: Path) -> int:
    """The pages one chunk of :func:`items` takes, measured in a scratch store (rows
    grow when the stored form of an item does)."""
    with SqliteStore(folder / "scratch.sqlite3") as scratch:
        conn = scratch._connection()
        (before,) = conn.execute("PRAGMA page_count").fetchone()
        scratch.add(items(CHUNK), now=0, chunk_size=CHUNK)
        (after,) = conn.execute("PRAGMA page_count").fetchone()
    return max(int(after) - int(before), 1)


def test_a_full_store_says_which_file_and_how_many_items_were_committed(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    room = pages_per_chunk(tmp_path) * 5 // 2  # two whole chunks fit, the third does not
    with SqliteStore(path) as store:
        cap(store, room)
        with pytest.raises(StorageFullError) as info:
            store.add(items(), now=0, chunk_size=CHUNK)
        error = info.value
        assert (error.store, error.operation, error.kind) == (str(path), "add", Kind.PERMANENT)
        assert error.written is not None and 0 < error.written < TOTAL
        assert error.written % CHUNK == 0, "a whole chunk or nothing"
        assert stored(store) == error.written
        assert str(error).startswith(f"outbox {path} is full (disk or database full) while ")
        assert f"adding items ({error.written:,} written before it)" in str(error)
        assert isinstance(error.__cause__, sqlite3.Error)

        # Space again: the same add writes exactly the rest.
        cap(store, None)
        again = store.add(items(), now=0, chunk_size=CHUNK)
        assert (again.added, again.existing) == (TOTAL - error.written, error.written)
        assert stored(store) == TOTAL


def test_read_only_in_the_middle_of_an_add(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with SqliteStore(path) as store:

        def lock_after_two_chunks(i: int) -> None:
            if i == 2 * CHUNK:
                store._connection().execute("PRAGMA query_only = ON")

        with pytest.raises(StorageReadOnlyError) as info:
            store.add(items(then=lock_after_two_chunks), now=0, chunk_size=CHUNK)
        assert info.value.written == 2 * CHUNK
        assert str(info.value).startswith(f"outbox {path} is read-only while adding items")
        assert stored(store) == 2 * CHUNK  # reads still work


@pytest.mark.parametrize(
    ("call", "operation", "doing"),
    [
        (lambda s: s.claim("w", limit=5, now=1, lease_seconds=5), "claim", "claiming items"),
        (lambda s: s.release("w", now=1), "release", "releasing leases"),
        (lambda s: s.allocate("n"), "allocate", "advancing a counter"),
        (lambda s: s.set_meta("batch-size:b", 3), "set_meta", "recording a named value"),
    ],
)
def test_every_write_names_its_operation(
    tmp_path: Path, call: Callable[[SqliteStore], object], operation: str, doing: str
) -> None:
    path = tmp_path / "outbox.sqlite3"
    with SqliteStore(path) as store:
        store.add(items(3), now=0)
        store._connection().execute("PRAGMA query_only = ON")
        with pytest.raises(StorageReadOnlyError) as info:
            call(store)
        assert info.value.operation == operation
        assert info.value.written is None
        assert f"outbox {path} is read-only while {doing}:" in str(info.value)


def test_enqueue_counts_every_window_committed_before_the_failure(tmp_path: Path) -> None:
    numbers = [f"+4477009{i:05d}" for i in range(TOTAL)]
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        cap(store, 150)
        with pytest.raises(StorageFullError) as info:
            enqueue(store, Batch(numbers, body="x" * 60, reference="camp"), window=CHUNK)
        written = info.value.written
        assert written is not None and CHUNK < written < TOTAL, "more than one window"
        assert sum(store.counts("camp").values()) == written
        cap(store, None)
        result = enqueue(store, Batch(numbers, body="x" * 60, reference="camp"), window=CHUNK)
        assert (result.added, result.existing) == (TOTAL - written, written)


def test_a_locked_store_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    SqliteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with SqliteStore(path, timeout=0) as store, pytest.raises(StorageBusyError) as info:
            store.add(items(1), now=0)
    finally:
        holder.close()
    assert info.value.kind is Kind.TRANSIENT and info.value.transient
    assert info.value.operation == "add" and info.value.store == str(path)


def test_a_read_only_file_system_is_called_read_only(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 1024) as disk:
        path = disk.root / "outbox.sqlite3"
        with SqliteStore(path) as store:
            store.add(items(10), now=0)
        disk.read_only()
        # SQLite itself only says "unable to open database file" here.
        with pytest.raises(StorageReadOnlyError) as info:
            SqliteStore(path).close()
        assert info.value.operation == "open"
        assert str(info.value).startswith(f"outbox {path} is read-only while opening it")
        disk.writable()
        with SqliteStore(path) as store:
            assert stored(store) == 10


def test_a_full_file_system_fills_the_store(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 512) as disk:
        path = disk.root / "outbox.sqlite3"
        with SqliteStore(path) as store, pytest.raises(StorageFullError) as info:
            store.add(items(), now=0, chunk_size=CHUNK)
        assert info.value.written is not None and info.value.written < TOTAL
        disk.resize(8192)
        with SqliteStore(path) as store:
            assert stored(store) == info.value.written
            store.add(items(), now=0, chunk_size=CHUNK)
            assert stored(store) == TOTAL


def _io_error() -> sqlite3.Error:
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = 10 | (19 << 8)
    exc.sqlite_errorname = "SQLITE_IOERR_TRUNCATE"
    return exc


def test_an_io_error_is_told_apart_by_looking_at_the_files(tmp_path: Path) -> None:
    # SQLite passes no errno on: an immutable file or a read-only remount under an open
    # store surfaces as a bare "disk I/O error", and only the files tell what it was.
    healthy = tmp_path / "outbox.sqlite3"
    healthy.touch()
    error = storage_error(_io_error(), str(healthy))
    assert type(error) is StorageIOError
    assert error.detail == "disk I/O error [SQLITE_IOERR_TRUNCATE]"
    assert type(storage_error(_io_error(), ":memory:")) is StorageIOError
    with small_disk(tmp_path / "disk", 256) as disk:
        path = disk.root / "outbox.sqlite3"
        fill(path)
        assert type(storage_error(_io_error(), str(path))) is StorageFullError
        path.unlink()
        path.touch()
        disk.read_only()
        assert type(storage_error(_io_error(), str(path))) is StorageReadOnlyError
        disk.writable()


def test_other_database_errors_still_name_the_store(tmp_path: Path) -> None:
    error = storage_error(sqlite3.DatabaseError("file is not a database"), "/x/outbox.sqlite3")
    assert type(error) is StorageError
    assert isinstance(error, OutboxError) and error.kind is Kind.PERMANENT
    assert str(error) == "outbox /x/outbox.sqlite3 failed while using it: file is not a database"
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not sqlite" * 1000)
    with pytest.raises(StorageError, match=f"outbox {garbage} failed while opening it"):
        SqliteStore(garbage)


def test_errors_survive_pickling_with_their_facts() -> None:
    error = StorageFullError("database or disk is full", store="/o.sqlite3", operation="add")
    error.count(1_000)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is StorageFullError
    assert (copy.store, copy.operation, copy.written, str(copy)) == (
        "/o.sqlite3",
        "add",
        1_000,
        str(error),
    )


def test_the_state_is_untouched_by_a_failed_claim(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        store.add(items(3), now=0)
        store._connection().execute("PRAGMA query_only = ON")
        with pytest.raises(StorageReadOnlyError):
            store.claim("w", limit=3, now=1, lease_seconds=5)
        store._connection().execute("PRAGMA query_only = OFF")
        assert store.counts()[ItemState.PENDING] == 3
        assert [i.reference for i in store.claim("w", limit=3, now=1, lease_seconds=5)] == [
            "r-0",
            "r-1",
            "r-2",
        ]
