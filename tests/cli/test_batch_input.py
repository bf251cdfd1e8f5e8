"""``smsbridge batch`` on damaged files: each bad row is one result, every other row goes.

Counted on the emulator, over real sockets: what it accepted is what was sent.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import clickatell_config, run

Setup = tuple[Path, dict[str, str], ClickatellEmulator]


@pytest.fixture
def setup(tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory) -> Setup:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))
    config = tmp_path / "smsbridge.toml"
    return config, clickatell_config(config, emulator), emulator


def _summary(stdout: str) -> dict[str, int]:
    """The status table at the end of the output, as counts."""
    lines = stdout[stdout.rindex("status") :].splitlines()[2:]
    return {status: int(count) for status, count in (line.split()[:2] for line in lines)}


def test_a_0xff_byte_at_row_15001_of_30001_costs_that_row_only(
    tmp_path: Path, setup: Setup
) -> None:
    config, env, emulator = setup
    rows = [f"+4477009{i:05d},n{i}\n".encode() for i in range(30_000)]
    rows[15_000] = b"+447700915000,caf\xff\n"  # row 15,001 of the data: line 15,002
    data = tmp_path / "big.csv"
    data.write_bytes(b"to,name\n" + b"".join(rows))
    proc = run("batch", str(data), "--body", "Hi", "--config", str(config), env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        f"{data}:15002: cannot be decoded as utf-8: byte 0xff at byte 18 of the line"
    ]
    accepted = emulator.submissions.accepted_recipients()
    assert len(accepted) == 29_999 and set(accepted.values()) == {1}
    assert "+447700915000" not in accepted and "+447700929999" in accepted
    assert _summary(proc.stdout) == {"accepted": 29_999, "bad_input": 1, "total": 30_000}


def test_an_unterminated_quote_reports_its_line_and_the_next_rows_are_sent(
    tmp_path: Path, setup: Setup
) -> None:
    config, env, emulator = setup
    data = tmp_path / "quote.csv"
    data.write_text(
        "to,body\n"
        "+447410000021,hello\n"
        '+447410000022,"unterminated quote\n'
        "+447410000023,hello\n"
        "+447410000024,hello\n",
        encoding="utf-8",
    )
    proc = run("batch", str(data), "--config", str(config), env=env)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{data}:3: unterminated quote: the quoted field opened here runs into line 4, "
        "which looks like a row of its own"
    ]
    assert emulator.submissions.accepted_recipients() == Counter(
        {"+447410000021": 1, "+447410000023": 1, "+447410000024": 1}
    )


def test_a_stray_quote_in_a_long_file_costs_one_row(tmp_path: Path, setup: Setup) -> None:
    config, env, emulator = setup
    lines = [f"+4477009{i:05d},plain text {i}\n" for i in range(5_000)]
    lines[10] = '+447700900010,"stray quote\n'
    data = tmp_path / "stray.csv"
    data.write_text("to,body\n" + "".join(lines), encoding="utf-8")
    proc = run("batch", str(data), "--quiet", "--config", str(config), env=env)
    assert proc.returncode == 1
    assert [line.split(": ")[0] for line in proc.stderr.splitlines()] == [f"{data}:12"]
    assert emulator.submissions.accepted_recipients().total() == 4_999


@pytest.mark.parametrize(
    ("encoded", "option"),
    [
        ("\ufeffto,name\r\n+447700900501,Zoë\r\n".encode("utf-16-le"), []),
        ("\ufeffto,name\n+447700900501,Zoë\n".encode("utf-16-be"), []),
        ("to,name\n+447700900501,Zoë\n".encode("latin-1"), ["--encoding", "latin-1"]),
        ("to,name\n+447700900501,Zoë\n".encode("cp1252"), ["--encoding", "cp1252"]),
    ],
)
def test_other_encodings_are_read(
    tmp_path: Path, setup: Setup, encoded: bytes, option: list[str]
) -> None:
    config, env, emulator = setup
    data = tmp_path / "names.csv"
    data.write_bytes(encoded)
    proc = run("batch", str(data), "--template", "Hi {name}", *option, "--config", str(config),
               env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [s.body for s in emulator.submissions] == ["Hi Zoë"]


def test_a_latin_1_file_read_as_utf_8_is_bad_rows_not_a_crash(tmp_path: Path, setup: Setup) -> None:
    config, env, emulator = setup
    data = tmp_path / "latin.csv"
    data.write_bytes("to,name\n+447700900501,Zoë\n+447700900502,Ann\n".encode("latin-1"))
    proc = run("batch", str(data), "--template", "Hi {name}", "--config", str(config), env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{data}:2: cannot be decoded as utf-8: byte 0xeb")
    assert "Traceback" not in proc.stderr
    assert list(emulator.submissions.accepted_recipients()) == ["+447700900502"]


@pytest.mark.parametrize(
    ("data", "option", "message"),
    [
        ("to,name\n".encode("utf-16-le"), [], "UTF-16 without a byte-order mark"),
        (b"to\n+447700900501\n", ["--encoding", "klingon"], "unknown encoding 'klingon'"),
        (b"", [], "the file is empty"),
    ],
)
def test_an_unreadable_header_or_encoding_is_exit_2(
    tmp_path: Path, setup: Setup, data: bytes, option: list[str], message: str
) -> None:
    config, env, emulator = setup
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    proc = run("batch", str(path), "--body", "x", *option, "--config", str(config), env=env)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(emulator.requests) == 0


DUPLICATES = (
    "to,name\n"  # line 1
    "+447700900601,Ann\n"  # 2
    "07700 900601,Ann again\n"  # 3: duplicate of line 2 once normalised
    "12,Bad\n"  # 4: invalid
    "12,Bad again\n"  # 5: invalid, repeated: reported too
    "+447700900602,Bob\n"  # 6
    "+447700900601,Ann thrice\n"  # 7: duplicate of line 2
    "+447700900603,Cy\x00\n"  # 8: a NUL in a template value: rejected
)


def test_every_row_appears_once_duplicates_and_invalid_repeats_included(
    tmp_path: Path, setup: Setup
) -> None:
    config, env, emulator = setup
    data = tmp_path / "dups.csv"
    data.write_text(DUPLICATES, encoding="utf-8")
    args = ("batch", str(data), "--template", "Hi {name}", "--config", str(config))
    proc = run(*args, "--reference", "dups", env=env)
    assert proc.returncode == 1
    assert _summary(proc.stdout) == {
        "accepted": 2,
        "bad_input": 2,
        "duplicate": 2,
        "rejected": 1,
        "total": 7,
    }
    assert "same number as line 2; sent once" in proc.stdout
    assert emulator.submissions.accepted_recipients() == Counter(
        {"+447700900601": 1, "+447700900602": 1}
    )
    proc = run(*args, "--reference", "dups-json", "--json", env=env)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[-1]["summary"]["counts"] == {
        "accepted": 2,
        "duplicate": 2,
        "bad_input": 2,
        "rejected": 1,
    }
    by_line = {row["line"]: row for row in rows[:-1]}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8]
    assert {n: by_line[n]["status"] for n in by_line} == {
        2: "accepted",
        3: "duplicate",
        4: "bad_input",
        5: "bad_input",
        6: "accepted",
        7: "duplicate",
        8: "rejected",
    }
    assert by_line[3]["duplicate_of"] == by_line[7]["duplicate_of"] == "line 2"
    assert "U+0000 (NUL)" in by_line[8]["error"]["text"]
    assert "'name'" in by_line[8]["error"]["text"]
