"""The shared recipient-file reader: one bad line costs one row, never the file."""

from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from smsbridge.inputs import (
    MAX_LINE_BYTES,
    BadRow,
    CsvRows,
    InputFileError,
    Row,
    count_numbers,
    count_rows,
    looks_like_number,
    read_numbers,
)
from tests.strategies import HostileCsv, hostile_csv


def _read(path: Path, encoding: str = "utf-8-sig") -> list[Row | BadRow]:
    with CsvRows(path, encoding=encoding) as reader:
        return list(reader.rows(reader.header.index("to")))


def _write(tmp_path: Path, data: bytes, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_undecodable_byte_costs_its_row_only(tmp_path: Path) -> None:
    lines = [f"+4477009{i:05d},name {i}\n".encode() for i in range(30_000)]
    lines[15_000] = b"+447700915000,caf\xff\n"  # row 15,001: line 15,002
    path = _write(tmp_path, b"to,name\n" + b"".join(lines))
    rows = _read(path)
    bad = [row for row in rows if isinstance(row, BadRow)]
    assert [(b.line, b.reason) for b in bad] == [
        (15_002, "cannot be decoded as utf-8: byte 0xff at byte 18 of the line")
    ]
    good = [row for row in rows if isinstance(row, Row)]
    assert len(good) == 29_999
    assert good[-1] == Row(30_001, ("+447700929999", "name 29999"))
    assert count_rows(path, number_column=0) == 30_000


def test_an_unterminated_quote_reports_its_line_and_the_next_rows_are_read(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        b"to,body\n"
        b"+447410000021,hello\n"
        b'+447410000022,"unterminated quote\n'
        b"+447410000023,hello\n"
        b"+447410000024,hello\n",
    )
    rows = _read(path)
    assert rows[0] == Row(2, ("+447410000021", "hello"))
    assert isinstance(rows[1], BadRow) and rows[1].line == 3
    assert rows[1].reason == (
        "unterminated quote: the quoted field opened here runs into line 4, "
        "which looks like a row of its own"
    )
    assert rows[2:] == [Row(4, ("+447410000023", "hello")), Row(5, ("+447410000024", "hello"))]


def test_a_multi_line_field_is_one_row(tmp_path: Path) -> None:
    path = _write(tmp_path, b'to,body\n+447700900206,"Eve\nSmith, 3rd floor"\n+447700900207,x\n')
    assert _read(path) == [
        Row(2, ("+447700900206", "Eve\nSmith, 3rd floor")),
        Row(4, ("+447700900207", "x")),
    ]


def test_a_quote_open_to_the_end_reports_its_line_and_reads_the_lines_it_took(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, b'to,body\n+447700900201,"abc\nnot a row\n')
    assert [(r.line, r.reason) for r in _read(path) if isinstance(r, BadRow)] == [
        (2, "unterminated quote: the quoted field opened here is never closed"),
        (3, "expected 2 columns, found 1"),
    ]


def test_a_line_starting_a_multi_line_row_ends_an_open_quote(tmp_path: Path) -> None:
    path = _write(tmp_path, b'to,body\n+447700900201,"open\n+447700900202,"\ntwo lines"\n')
    rows = _read(path)
    assert isinstance(rows[0], BadRow) and rows[0].line == 2
    assert rows[1:] == [Row(3, ("+447700900202", "\ntwo lines"))]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"+447700900201,a,b\n", "expected 2 columns, found 3"),
        (b"+447700900201\n", "expected 2 columns, found 1"),
        (b'+447700900201,"ab"cd\n', "broken quoting: ',' expected after '\"'"),
        (
            b"+447700900201," + b"x" * (csv.field_size_limit() + 1) + b"\n",
            f"a field is longer than {csv.field_size_limit():,} characters "
            "(a quote opened here and never closed?)",
        ),
        (
            b"+447700900201," + b"x" * (MAX_LINE_BYTES + 10) + b"\n",
            f"the line is longer than {MAX_LINE_BYTES:,} bytes",
        ),
    ],
)
def test_each_kind_of_bad_row_is_reported_and_the_next_row_read(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    path = _write(tmp_path, b"to,body\n" + line + b"+447700900202,ok\n\n")
    rows = _read(path)
    assert [(r.line, r.reason) for r in rows if isinstance(r, BadRow)] == [(2, reason)]
    assert rows[-1] == Row(3, ("+447700900202", "ok"))


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-8", codecs.BOM_UTF8),
    ],
)
def test_a_byte_order_mark_decides_the_encoding(tmp_path: Path, codec: str, bom: bytes) -> None:
    text = 'to,body\r\n+447700900201,héllo 😀\r\n+447700900202,"two\r\nlines"\r\n'
    path = _write(tmp_path, bom + text.encode(codec))
    with CsvRows(path, encoding="latin-1") as reader:
        assert reader.encoding == codec
        assert reader.header == ("to", "body")
        assert list(reader.rows(0)) == [
            Row(2, ("+447700900201", "héllo 😀")),
            Row(3, ("+447700900202", "two\r\nlines")),
        ]


def test_latin_1_is_read_when_named_and_reported_per_line_when_not(tmp_path: Path) -> None:
    path = _write(tmp_path, "to,body\n+447700900201,café\n+447700900202,ok\n".encode("latin-1"))
    assert _read(path, "latin-1")[0] == Row(2, ("+447700900201", "café"))
    rows = _read(path)
    assert isinstance(rows[0], BadRow) and "0xe9" in rows[0].reason
    assert rows[1] == Row(3, ("+447700900202", "ok"))


@pytest.mark.parametrize(
    ("data", "encoding", "message"),
    [
        (b"", "utf-8-sig", "the file is empty"),
        (b"\xff\xfft\n", "utf-8-sig", ":1: the header cannot be decoded"),
        ("to,body\n".encode("utf-16-le"), "utf-8-sig", "UTF-16 without a byte-order mark"),
        (b"to\n", "no-such-codec", "unknown encoding 'no-such-codec'"),
        (b"to\n", "rot13", "not a text encoding"),
        (b" , \n", "utf-8-sig", "the header is empty"),
    ],
)
def test_an_unusable_file_is_an_input_file_error(
    tmp_path: Path, data: bytes, encoding: str, message: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InputFileError, match=message) as info:
        CsvRows(path, encoding=encoding)
    assert info.value.path == str(path)


def test_a_missing_file_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"cannot read .*missing\.csv"):
        CsvRows(tmp_path / "missing.csv")


def test_number_lists_are_read_line_by_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b"# list\n+447700900201\n\n+44770\xff0900202\n 07700900203 \n")
    entries = list(read_numbers(path))
    assert entries[0] == Row(2, ("+447700900201",))
    assert isinstance(entries[1], BadRow) and entries[1].line == 4
    assert entries[2] == Row(5, ("07700900203",))
    assert count_numbers(path) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+447700900123", True),
        ("07700 900123", True),
        ("(020) 7946-0000", True),
        ("1234", False),
        ("Ann", False),
        ("+44 77 x", False),
        ("", False),
    ],
)
def test_looks_like_number(value: str, expected: bool) -> None:
    assert looks_like_number(value) is expected


@given(hostile_csv())
def test_every_good_row_is_read_and_every_bad_row_reported_once(case: HostileCsv) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), case.data)
        rows = _read(path)
        counted = count_rows(path, number_column=0)
    good = {row.line: row.values for row in rows if isinstance(row, Row)}
    assert good == case.good
    assert tuple(row.line for row in rows if isinstance(row, BadRow)) == case.bad
    assert counted == len(rows) == len(case.good) + len(case.bad)
