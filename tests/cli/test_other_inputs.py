"""``enqueue``, ``task create`` and ``quote`` read recipient files through the same
reader as ``batch``: a bad line is reported with ``FILE:LINE`` and the rest is kept."""

from __future__ import annotations

import codecs
from pathlib import Path

from smsbridge.outbox import SqliteStore
from tests.pricing import SAMPLE_CSV

from .helpers import run


def _outbox(path: Path, batch: str) -> list[tuple[str, str]]:
    with SqliteStore(path) as store:
        return [(item.reference, item.recipient) for item in store.iter_items(batch=batch)]


def test_enqueue_keeps_every_readable_line(tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.txt"
    numbers.write_bytes(
        b"# customers\n"  # 1
        b"+447700900701\n"  # 2
        b"+4477009\xff00702\n"  # 3: undecodable
        b"12\n"  # 4: invalid number
        b"\n"  # 5
        b"07700 900705\n"  # 6
        b"+447700900701\n"  # 7: duplicate
    )
    store = tmp_path / "outbox.sqlite3"
    proc = run("enqueue", "--store", str(store), "--file", str(numbers), "--body", "hi",
               "--region", "GB", "--reference", "e1")  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{numbers}:3: cannot be decoded as utf-8: byte 0xff at byte 9 of the line"
    ]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"refused 12 ({numbers}:4): ")
    assert (
        lines[1] == "batch e1: 2 enqueued, 0 already there, 1 duplicates, 1 refused, 1 unreadable"
    )
    # References count every entry, the unreadable one too: fixing it moves nothing.
    assert _outbox(store, "e1") == [("e1-1", "+447700900701"), ("e1-4", "+447700900705")]


def test_enqueue_reads_utf16_with_a_bom_and_refuses_an_unknown_encoding(tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.txt"
    numbers.write_bytes(
        codecs.BOM_UTF16_LE + "+447700900801\r\n+447700900802\r\n".encode("utf-16-le")
    )
    store = tmp_path / "outbox.sqlite3"
    proc = run("enqueue", "--store", str(store), "--file", str(numbers), "--body", "hi",
               "--reference", "u16")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r for _, r in _outbox(store, "u16")] == ["+447700900801", "+447700900802"]
    proc = run("enqueue", "--store", str(store), "--file", str(numbers), "--body", "hi",
               "--encoding", "nope")  # fmt: skip
    assert proc.returncode == 2
    assert "unknown encoding 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_task_create_lists_unreadable_lines_as_invalid(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(
        b"to,name\n"
        b"+447700900901,Ann\n"
        b'+447700900902,"unterminated\n'
        b"+447700900903,Zo\xeb\n"
        b"+447700900904,Cy\n"
    )
    store = tmp_path / "tasks.sqlite3"
    proc = run("task", "create", "spring", str(people), "--template", "Hi {name}",
               "--store", str(store), "--quiet")  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # some lines refused
    errors = proc.stderr.splitlines()
    assert errors[0].startswith(f"{people}:3: '+447700900902,\"unterminated': unterminated quote")
    assert errors[1].startswith(f"{people}:4: '': cannot be decoded as utf-8: byte 0xeb")
    assert len(errors) == 2
    assert "2 number(s) imported" in proc.stdout
    proc = run("task", "create", "again", str(people), "--template", "Hi {name}",
               "--store", str(store), "--quiet", "--encoding", "latin-1")  # fmt: skip
    assert "3 number(s) imported" in proc.stdout


def test_quote_reports_bad_lines_and_quotes_the_rest(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes(
        b"to,name\n+447700900123,Anna\n+447700900124,\xff\xfe\n+447700900125,Bo,extra\n"
    )
    prices = tmp_path / "prices.csv"
    prices.write_text(SAMPLE_CSV.replace("alpha", "clickatell"), encoding="utf-8")
    proc = run("quote", str(people), "--template", "Hi {name}", "--providers", "clickatell",
               "--prices", str(prices), "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"{people}:3: cannot be decoded as utf-8: byte 0xff at byte 15 of the line",
        f"{people}:4: expected 2 columns, found 3",
    ]
    assert "(1 recipients)" in proc.stdout
