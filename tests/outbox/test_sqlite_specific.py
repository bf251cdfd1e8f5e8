"""What only the SQLite store has: its file location, its schema version pragma, memory
stores, and the spellings :func:`open_store` turns into a SQLite store."""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from smsbridge.errors import ConfigurationError
from smsbridge.model import SendOptions
from smsbridge.outbox import OutboxError, SqliteStore, default_path, schema
from smsbridge.outbox.codec import options_to_json
from smsbridge.outbox.factory import open_store
from smsbridge.status import Status
from tests.outbox.test_store_items import new, report


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMSBRIDGE_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "outbox.sqlite3"
    with SqliteStore() as store:
        assert Path(store.path).exists()
    monkeypatch.delenv("SMSBRIDGE_HOME")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "smsbridge" / "outbox.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_path() == Path.home() / ".local" / "share" / "smsbridge" / "outbox.sqlite3"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_path().parent == Path.home() / "Library" / "Application Support" / "smsbridge"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_path() == tmp_path / "local" / "smsbridge" / "outbox.sqlite3"


def test_schema_version_and_newer_files(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    SqliteStore(path).close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        raw.execute("PRAGMA user_version = 99")
        raw.commit()
    finally:
        raw.close()
    with pytest.raises(OutboxError, match="newer"):
        SqliteStore(path)


def test_a_version_1_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        first = schema.MIGRATIONS[0]
        assert isinstance(first, tuple)
        for statement in first:
            raw.execute(statement)
        raw.execute("PRAGMA user_version = 1")
        raw.execute(
            "INSERT INTO items (reference, recipient, body, options, batch, state, "
            "next_attempt_at, created_at, updated_at) "
            "VALUES ('b-1', '+447700900001', 'hi', ?, 'b', 'pending', 0, 0, 0)",
            (options_to_json(SendOptions()),),
        )
    finally:
        raw.close()
    with SqliteStore(path) as store:
        # The batch's number is known to the store: the same number again is dropped.
        added = store.add([new("b-2", recipient="+447700900001", batch="b")], now=1)
        assert (added.added, added.duplicates) == (0, ("b-2",))
        assert store.get("b-1") is not None
    raw = sqlite3.connect(path)
    try:
        indexes = {row[1] for row in raw.execute("PRAGMA index_list(items)")}
        assert "items_batch_recipient" in indexes
    finally:
        raw.close()


def test_memory_store_and_normal_sync() -> None:
    with SqliteStore(":memory:", synchronous="NORMAL") as store:
        assert store.add([new("r1")], now=0).added == 1


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("{tmp}/plain.sqlite3", "{tmp}/plain.sqlite3"),
        ("sqlite:///{tmp}/url.sqlite3", "{tmp}/url.sqlite3"),
        ("sqlite://", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_open_store_understands_paths_and_sqlite_urls(
    tmp_path: Path, spelling: str, expected: str
) -> None:
    # tmp_path is absolute, so "sqlite:///" + "/tmp/..." is the four-slash absolute form.
    with closing(open_store(spelling.format(tmp=tmp_path))) as store:
        assert isinstance(store, SqliteStore)
        assert store.path == expected.format(tmp=tmp_path)
        assert store.add([new("r1")], now=0).added == 1


def test_open_store_defaults_to_the_default_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMSBRIDGE_HOME", str(tmp_path))
    with (
        closing(open_store(None)) as store,
        closing(open_store(tmp_path / "other.sqlite3")) as other,
    ):
        assert isinstance(store, SqliteStore) and isinstance(other, SqliteStore)
        assert Path(store.path) == tmp_path / "outbox.sqlite3"
        assert Path(other.path) == tmp_path / "other.sqlite3"


@pytest.mark.parametrize("url", ["mysql://db/sms", "sqlite://host/file.sqlite3"])
def test_open_store_refuses_what_it_cannot_open(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"sqlite|scheme"):
        open_store(url)


def test_a_version_3_file_keeps_its_reports_and_batches_found_through_partial_indexes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        for step in schema.MIGRATIONS[:3]:
            if callable(step):
                step(raw)
            else:
                for statement in step:
                    raw.execute(statement)
        raw.execute("PRAGMA user_version = 3")
        raw.execute(
            "INSERT INTO items (reference, recipient, body, options, state, provider, status, "
            "message_id, message_key, next_attempt_at, created_at, updated_at) "
            "VALUES ('r1', '+447700900123', 'hi', ?, 'done', 'A', 'accepted', 'M-1', 'm-1', "
            "0, 0, 0)",
            (options_to_json(SendOptions()),),
        )
    finally:
        raw.close()
    with SqliteStore(path) as store:
        assert store.record_report(report(Status.DELIVERED, "M-1"), now=1)
        item = store.get("r1")
        assert item is not None and item.status is Status.DELIVERED
        # A new item holds no key yet: it costs the report index nothing.
        store.add([new("r2", recipient="+447700900124")], now=1)
    with closing(sqlite3.connect(path)) as raw:
        assert "WHERE message_key IS NOT NULL" in definition(raw, "items_message")
        report_match = "SELECT reference FROM items WHERE provider = 'A' AND message_key = 'm-1'"
        assert "items_message" in plan(raw, report_match)
        entries = raw.execute(
            "SELECT count(*) FROM items INDEXED BY items_message "
            "WHERE provider = 'A' AND message_key IS NOT NULL"
        ).fetchone()
        assert entries == (1,)
        # A batch's rows are found by batch through an index that holds only them.
        assert "WHERE batch IS NOT NULL" in definition(raw, "items_batch")
        counts = "SELECT state, COUNT(*) FROM items WHERE batch = 'b' GROUP BY state"
        assert "items_batch" in plan(raw, counts)
        assert raw.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)


def definition(raw: sqlite3.Connection, index: str) -> str:
    (ddl,) = raw.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    return str(ddl)


def plan(raw: sqlite3.Connection, query: str) -> str:
    return " ".join(str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {query}"))
