"""``enqueue``: normalised, de-duplicated items written without sending; the command."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from smsbridge.cli import enqueue as enqueue_cmd
from smsbridge.model import Batch, Message
from smsbridge.outbox import ItemState, SqliteStore
from smsbridge.status import Status
from smsbridge.worker import enqueue


def test_message_items_get_the_bridges_references() -> None:
    with SqliteStore(":memory:") as store:
        message = Message(("07700 900123", "+447700900124", "07700900123", "nope"),
                          "hi", reference="ref")  # fmt: skip
        result = enqueue(store, message, region="GB")
        assert result.references == ("ref-0", "ref-1")
        assert (result.added, result.existing, result.duplicates) == (2, 0, 1)
        assert [r.status for r in result.refused] == [Status.INVALID_NUMBER]
        item = store.get("ref-0")
        assert item is not None
        assert (item.recipient, item.batch, item.state) == (
            "+447700900123",
            "ref",
            ItemState.PENDING,
        )
        assert item.attempts == 0
        again = enqueue(store, message, region="GB")
        assert (again.added, again.existing) == (0, 2)


def test_single_recipient_keeps_its_reference_and_no_batch() -> None:
    with SqliteStore(":memory:") as store:
        result = enqueue(store, [Message("+447700900123", "a", reference="one")])
        assert result.references == ("one",)
        item = store.get("one")
        assert item is not None and item.batch is None


def test_batch_streams_in_windows() -> None:
    with SqliteStore(":memory:") as store:
        numbers = [f"+4477009{i:05d}" for i in range(2_500)]
        batch = Batch([*numbers, "+447700900000"], body="b", reference="camp")
        result = enqueue(store, batch, window=1_000)
        assert result.added == 2_500 and result.duplicates == 1
        assert store.counts("camp")[ItemState.PENDING] == 2_500
        assert result.references[0] == "camp-1"


def test_enqueue_command(tmp_path: Path) -> None:
    listing = tmp_path / "numbers.txt"
    listing.write_text("# campaign\n+447700900001\n\n07700900002\nbad\n", encoding="utf-8")
    outbox = tmp_path / "outbox.sqlite3"
    parser = argparse.ArgumentParser()
    enqueue_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["enqueue", "--store", str(outbox), "--file", str(listing), "--to", "+447700900003",
         "--body", "hello", "--reference", "cmd", "--region", "GB"]
    )  # fmt: skip
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        # No smsbridge.toml may be picked up from the working directory.
        patch.chdir(tmp_path)
        patch.delenv("SMSBRIDGE_CONFIG", raising=False)
        code = args.func(args, out)
    assert code == 1  # one refused number
    assert "3 enqueued" in out.getvalue() and "refused bad" in out.getvalue()
    with SqliteStore(outbox) as store:
        assert store.counts("cmd")[ItemState.PENDING] == 3
