"""A full or read-only outbox through the real entry point: "N of M written", exit 4, a
re-run that adds the rest and sends nothing twice, and ``resume`` noticing the gap.

The outbox lives on a small tmpfs (:mod:`tests.disks`); "free space" is growing it.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.outbox import SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator
from tests.disks import small_disk

from .helpers import clickatell_config, run

TOTAL = 3_000
DISK_KB = 768
"""Room for one or two of the store's 1,000-row commits, not for all of them."""
NUMBERS = [f"+4477009{i:05d}" for i in range(TOTAL)]


def full_message(store: Path, doing: str, rest: str, reference: str = "") -> re.Pattern[str]:
    again = f" with --reference {reference}" if reference else ""
    return re.compile(
        rf"smsbridge: outbox {re.escape(str(store))} is full \(disk or database full\) "
        rf"while {doing}: (?P<written>[\d,]+) of {TOTAL:,} written; free space and run "
        rf"the same command again{again} to {rest}\n"
    )


def items(store: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """Items, distinct recipients, and the named values left (read without smsbridge)."""
    with closing(sqlite3.connect(store)) as conn:
        (count, distinct) = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT recipient) FROM items"
        ).fetchone()
        names = conn.execute("SELECT name, value FROM counters ORDER BY name").fetchall()
    return count, distinct, names


def test_enqueue_on_a_full_disk_then_again(tmp_path: Path) -> None:
    listing = tmp_path / "numbers.txt"
    listing.write_text("# campaign\n" + "\n".join(NUMBERS) + "\n\n", encoding="utf-8")
    with small_disk(tmp_path / "disk", DISK_KB) as disk:
        store = disk.root / "outbox.sqlite3"
        command = ("enqueue", "--store", str(store), "--file", str(listing), "--body", "hi")

        failed = run(*command, "--reference", "news", cwd=tmp_path)
        assert failed.returncode == 4, failed.stderr
        match = full_message(store, "adding items", "add the rest").fullmatch(failed.stderr)
        assert match, failed.stderr
        written = int(match["written"].replace(",", ""))
        assert 0 < written < TOTAL
        assert items(store) == (written, written, [("batch-size:news", TOTAL)])

        disk.resize(8 * DISK_KB)
        done = run(*command, "--reference", "news", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout == (
            f"batch news: {TOTAL - written} enqueued, {written} already there, "
            "0 duplicates, 0 refused\n"
        )
        # Every recipient once, and the size record gone with the batch complete.
        assert items(store) == (TOTAL, TOTAL, [])


def test_without_a_reference_the_message_gives_the_one_to_repeat(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", DISK_KB) as disk:
        store = disk.root / "outbox.sqlite3"
        args = ["enqueue", "--store", str(store), "--body", "hi"]
        for number in NUMBERS:
            args += ["--to", number]
        failed = run(*args, cwd=tmp_path)
        assert failed.returncode == 4
        reference = re.search(r"with --reference (\S+) to add the rest", failed.stderr)
        assert reference, failed.stderr
        assert full_message(store, "adding items", "add the rest", reference[1]).fullmatch(
            failed.stderr
        )
        disk.resize(8 * DISK_KB)
        done = run(*args, "--reference", reference[1], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert items(store) == (TOTAL, TOTAL, [])


def test_a_read_only_outbox_is_named_and_nothing_is_claimed(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", DISK_KB) as disk:
        store = disk.root / "outbox.sqlite3"
        SqliteStore(store).close()
        disk.read_only()
        proc = run("enqueue", "--store", str(store), "--to", NUMBERS[0], "--to", NUMBERS[1],
                   "--body", "hi", "--reference", "ro", cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 4
        assert proc.stderr == (
            f"smsbridge: outbox {store} is read-only while opening it: none of 2 written this "
            "time; make the outbox file, its folder and its file system writable and run the "
            "same command again to add the rest\n"
        )
        disk.writable()


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))


@pytest.mark.slow
def test_batch_on_a_full_disk_then_resume_then_again_sends_each_recipient_once(
    tmp_path: Path, emulator: ClickatellEmulator
) -> None:
    data = tmp_path / "people.csv"
    data.write_text("to,name\n" + "".join(f"{n},P{i}\n" for i, n in enumerate(NUMBERS)))
    with small_disk(tmp_path / "disk", DISK_KB) as disk:
        store = disk.root / "outbox.sqlite3"
        config = tmp_path / "smsbridge.toml"
        # A generous ceiling on settling: a slow machine must not turn sends into "queued".
        env = clickatell_config(config, emulator, "\n[routing]\nmax_wait = 120.0\n")
        config.write_text(f'store = "{store}"\n' + config.read_text(encoding="utf-8"))
        batch = ("batch", str(data), "--template", "Hi {name}", "--reference", "camp",
                 "--quiet", "--config", str(config))  # fmt: skip

        failed = run(*batch, env=env)
        assert failed.returncode == 4, failed.stderr
        pattern = full_message(store, "adding items", "add and send the rest")
        match = pattern.fullmatch(failed.stderr)
        assert match, failed.stderr
        written = int(match["written"].replace(",", ""))
        assert 0 < written < TOTAL
        assert not emulator.submissions.accepted_recipients(), "nothing sent before the failure"

        # Space again: resume sends what was written and says the batch is not whole.
        disk.resize(16 * DISK_KB)
        resumed = run("resume", "--config", str(config), env=env)
        assert resumed.returncode == 5  # the batch is not whole: not settled
        assert resumed.stderr == (
            f"smsbridge resume: batch camp: {written:,} of {TOTAL:,} recipients were written; "
            "run the batch command again (with --reference camp) to add the rest\n"
        )
        assert sum(emulator.submissions.accepted_recipients().values()) == written

        again = run(*batch, env=env)
        assert again.returncode == 0, again.stderr
        accepted = emulator.submissions.accepted_recipients()
        assert sorted(accepted) == NUMBERS
        assert emulator.submissions.duplicates() == {}
        assert items(store) == (TOTAL, TOTAL, [])

        settled = run("resume", "--config", str(config), env=env)
        assert (settled.returncode, settled.stderr) == (0, "")
