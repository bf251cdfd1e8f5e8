"""One owner per SQLite file: the outbox, the tasks and the limits share its connection."""

from __future__ import annotations

import gc
import os
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsbridge.limits import SqliteLimits
from smsbridge.outbox import NewItem, OutboxError, SqliteStore, StorageReadOnlyError
from smsbridge.outbox.sqlite_file import open_file
from smsbridge.tasks.model import Task, TaskError, TaskState
from smsbridge.tasks.store import TaskStore

# PRAGMA synchronous: 1 is NORMAL, 2 is FULL.
NORMAL, FULL = 1, 2
START = 1_767_225_600.0


def a_task(task_id: str) -> Task:
    """A pending task with a body (its recipients are not the point here)."""
    return Task(id=task_id, name=task_id, body="Hi", created_at=datetime.fromtimestamp(START, UTC))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.sqlite3"


@pytest.fixture
def limits(path: Path) -> Iterator[SqliteLimits]:
    opened = SqliteLimits(str(path))
    try:
        yield opened
    finally:
        opened.close()


def test_the_three_users_of_a_file_share_one_owner_and_one_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "outbox.sqlite3"
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    monkeypatch.chdir(tmp_path)
    # Three spellings of one file: absolute, relative, through a symlink.
    with SqliteStore(path) as store, TaskStore("outbox.sqlite3") as tasks:
        limits = SqliteLimits(str(link))
        try:
            owner = store.file.file
            assert tasks.file.file is owner and limits.file.file is owner
            assert owner.users == 3
            assert store._connection() is tasks.file.connection() is limits.file.connection()
            # One set of PRAGMAs, set once by the owner.
            assert owner.pragma("journal_mode") == "wal"
            # What one writes, the others read at once: the same database, migrated once.
            store.add([NewItem(reference="r1", recipient="+447700900001", body="hi")], now=0)
            tasks.insert(a_task("task-1"), now=START)
            assert limits.try_slot("bulksms:0", owner="w1", now=0, ttl=30)
            with tasks.file.transaction("DEFERRED") as conn:
                assert conn.execute("SELECT count(*) FROM items").fetchone() == (1,)
                assert conn.execute("SELECT count(*) FROM shared_slots").fetchone() == (1,)
            got = tasks.get("task-1")
            assert got is not None and got.state is TaskState.PENDING
        finally:
            limits.close()


def test_each_user_keeps_its_own_synchronous_level(path: Path, limits: SqliteLimits) -> None:
    with SqliteStore(path) as full, SqliteStore(path, synchronous="NORMAL") as normal:
        assert full.file.file is normal.file.file is limits.file.file
        with full._tx() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone() == (FULL,)
        # The limits' slot rows are worthless after a crash: they write with NORMAL.
        with limits.file.transaction() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone() == (NORMAL,)
        with normal._tx() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone() == (NORMAL,)
        with full._tx() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone() == (FULL,)


def test_a_transaction_of_one_user_excludes_the_others(path: Path) -> None:
    with SqliteStore(path) as store, TaskStore(path) as tasks:
        order: list[str] = []
        started = threading.Event()
        lock_free: list[bool] = []

        def task_write() -> None:
            lock_free.append(tasks.file.file.lock.acquire(blocking=False))
            started.set()
            tasks.insert(a_task("task-1"), now=START)
            order.append("task written")

        with store._tx() as conn:
            conn.execute("INSERT INTO counters (name, value) VALUES ('n', 1)")
            writer = threading.Thread(target=task_write)
            writer.start()
            assert started.wait(30)
            # The other thread cannot take the file's lock while the outbox holds it.
            assert lock_free == [False]
            order.append("outbox committing")
        writer.join(30)
        assert not writer.is_alive()
        assert order == ["outbox committing", "task written"]
        assert store.allocate("n") == 2  # the outbox's row was committed


def test_closing_the_outbox_leaves_the_tasks_working(path: Path, limits: SqliteLimits) -> None:
    store = SqliteStore(path)
    tasks = TaskStore(path)
    owner = store.file.file
    store.close()
    store.close()  # idempotent
    with pytest.raises(OutboxError, match="closed"):
        store.counts()
    assert not owner.closed and owner.users == 2
    tasks.insert(a_task("task-1"), now=START)
    assert tasks.start("task-1", now=START)
    assert limits.try_slot("bulksms:0", owner="w1", now=0, ttl=30)
    tasks.close()
    with pytest.raises(TaskError, match="closed"):
        tasks.get("task-1")
    assert not owner.closed
    limits.close()
    assert owner.closed and owner.users == 0
    # Opening again makes a new owner, which finds everything committed.
    with TaskStore(path) as again:
        assert again.file.file is not owner
        got = again.get("task-1")
        assert got is not None and got.state is TaskState.EXECUTING
        with again.file.transaction("DEFERRED") as conn:
            # The limits freed their held slot when they closed.
            assert conn.execute("SELECT count(*) FROM shared_slots").fetchone() == (0,)


def test_in_memory_stores_are_private() -> None:
    with SqliteStore(":memory:") as one, SqliteStore(":memory:") as two:
        assert one.file.file is not two.file.file
        one.add([NewItem(reference="r1", recipient="+447700900001", body="hi")], now=0)
        assert one.get("r1") is not None
        assert sum(two.counts().values()) == 0


def test_a_failure_in_one_users_transaction_is_typed_for_every_user(path: Path) -> None:
    with SqliteStore(path) as store, TaskStore(path) as tasks:
        store._connection().execute("PRAGMA query_only = ON")
        with pytest.raises(StorageReadOnlyError) as info:
            tasks.insert(a_task("task-1"), now=START)
        assert info.value.store == str(path)
        store._connection().execute("PRAGMA query_only = OFF")
        tasks.insert(a_task("task-1"), now=START)  # the failed transaction left nothing
        assert [t.id for t in tasks.select()] == ["task-1"]


def test_a_forked_child_opens_a_connection_of_its_own(path: Path) -> None:
    with SqliteStore(path) as store:
        parent = store.file.file
        with warnings.catch_warnings():
            # Python 3.12 warns that forking a threaded process (xdist's) may deadlock;
            # the child here only opens the file and exits.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                child = open_file(path)
                with child.transaction() as conn:
                    conn.execute("INSERT INTO counters (name, value) VALUES ('child', 7)")
                code = 0 if child.file is not parent else 2
                child.close()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store.allocate("child", low=1, high=100) == 8
        with closing(open_file(path)) as handle:
            assert handle.file is parent


def test_an_owner_whose_users_were_dropped_unclosed_goes_with_them(path: Path) -> None:
    store = SqliteStore(path)
    owner = weakref.ref(store.file.file)
    del store
    gc.collect()
    assert owner() is None
    with SqliteStore(path) as again:  # a new owner, on the same committed file
        assert sum(again.counts().values()) == 0


def test_threads_opening_and_closing_users_of_one_file_at_once(path: Path) -> None:
    SqliteStore(path).close()
    failures: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            for i in range(20):
                with SqliteStore(path) as store, TaskStore(path) as tasks:
                    store.add(
                        [NewItem(reference=f"w{worker}-{i}", recipient="+447700900001", body="x")],
                        now=0,
                    )
                    tasks.insert(a_task(f"task-{worker}-{i}"), now=START)
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    threads = [threading.Thread(target=churn, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    with SqliteStore(path) as store, TaskStore(path) as tasks:
        assert sum(store.counts().values()) == 120
        assert len(tasks.select()) == 120
        assert store.file.file.users == 2
