"""Recipient CSV files read row by row, where a bad row is a result and not the end.

:class:`CsvRows` reads the header on opening, then yields a :class:`Row` per good record
and a :class:`BadRow` per bad one, each with the line it starts on: a line that cannot be
decoded, broken quoting, a field over :func:`csv.field_size_limit`, the wrong number of
columns. Blank lines are layout and yield nothing.

**The unterminated-quote rule.** A quoted field may span lines (a body with a line
break). But a stray ``"`` opens a field that the CSV format lets run on, silently
swallowing the rows after it. So while a quoted field is open, each further line is
looked at before the parser gets it: a line that *looks like a row of its own* ends the
record there. It does when, read alone, it gives the header's number of columns (or
fewer, its last field opening a quote of its own: the start of a multi-line row), and
its number column looks like a phone number (see :func:`looks_like_number`). The record whose
quote never closed is reported as a bad row; the lines it had taken are read again as
rows of their own, so each is sent or reported on its own. A quote still open at the end
of the file is reported the same way. A line inside a legitimate multi-line field that
happens to look like a recipient row is therefore refused too: put such a field on one
line, or keep the number out of its line start.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import attrs

from smsbridge.inputs.byte_lines import (
    DEFAULT_ENCODING,
    InputFileError,
    PhysicalLine,
    detect_encoding,
    open_binary,
    physical_lines,
)

__all__ = ["BadRow", "CsvRows", "Row", "count_rows", "looks_like_number"]

_NUMBER_LIKE = re.compile(r"\s*\+?[0-9(][0-9 ().\-]*\s*")
_MIN_DIGITS = 5


@attrs.frozen(slots=True)
class Row:
    """A good record: as many values as the header has columns.

    Args:
        line: The physical line it starts on (the header is line 1).
        values: The fields, in header order, as written.
    """

    line: int
    values: tuple[str, ...]


@attrs.frozen(slots=True)
class BadRow:
    """A record that could not be read; the rows after it are read normally.

    Args:
        line: The physical line it starts on.
        reason: What is wrong, for people.
        text: The start of the line as read (``""`` when it could not be decoded).
    """

    line: int
    reason: str
    text: str = ""


def looks_like_number(value: str) -> bool:
    """True for text shaped like a phone number: digits, optionally a leading ``+``,
    spaces, dots, dashes and brackets, and at least five digits."""
    return bool(_NUMBER_LIKE.fullmatch(value)) and sum(c.isdigit() for c in value) >= _MIN_DIGITS


class _Source:
    """The physical lines handed to :func:`csv.reader`, one record at a time.

    While a record is being read, :attr:`taken` holds its lines; a continuation line
    that cannot be part of a quoted field (undecodable, or looking like a row) is held
    back and the record is ended there (the parser then reports the open quote).
    """

    def __init__(self, lines: Iterator[PhysicalLine], width: int, number: int | None) -> None:
        self._lines = lines
        self._back: deque[PhysicalLine] = deque()
        self._width = width
        self._number = number
        self.taken: list[PhysicalLine] = []
        self.cut: PhysicalLine | None = None

    def __iter__(self) -> _Source:
        return self

    def peek(self) -> PhysicalLine | None:
        if not self._back:
            line = next(self._lines, None)
            if line is None:
                return None
            self._back.append(line)
        return self._back[0]

    def skip(self) -> None:
        self._back.popleft()

    def start(self) -> None:
        self.taken, self.cut = [], None

    def give_back(self, lines: list[PhysicalLine]) -> None:
        self._back.extendleft(reversed(lines))

    def __next__(self) -> str:
        line = self.peek()
        if line is None:
            raise StopIteration
        if self.taken and (line.text is None or self._row_like(line.text)):
            self.cut = line
            raise StopIteration
        self._back.popleft()
        self.taken.append(line)
        assert line.text is not None  # a record's first line is checked by the caller
        return line.text

    def _row_like(self, text: str) -> bool:
        """True when ``text`` reads as a record of its own, or as the start of one
        (its last field opens a quote, the fields before it fit the header)."""
        try:
            fields = next(csv.reader([text], strict=True), [])
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return False
            fields = next(csv.reader([text]), [])
            if len(fields) > self._width or self._number == len(fields) - 1:
                return False
        else:
            if len(fields) != self._width:
                return False
        if self._number is None:
            return True
        return self._number < len(fields) and looks_like_number(fields[self._number])


class CsvRows:
    """A recipient CSV file, open: its header, then its rows as they stream.

    Args:
        path: The file.
        encoding: Used unless the file starts with a byte-order mark.

    Raises:
        InputFileError: When the file cannot be opened, the encoding is unknown, or the
            header (line 1) is missing or unreadable.
    """

    def __init__(self, path: str | Path, *, encoding: str = DEFAULT_ENCODING) -> None:
        self.path = Path(path)
        name = str(path)
        self._stream: io.BufferedReader = open_binary(path)
        try:
            # peek, not read: a pipe cannot seek back over bytes that were no mark.
            head = self._stream.peek(4)[:4]
            self.encoding, bom = detect_encoding(head, encoding, path=name)
            self._stream.read(bom)
            self._lines = physical_lines(self._stream, self.encoding)
            self.header = self._read_header(name)
        except BaseException:
            self._stream.close()
            raise

    def _read_header(self, name: str) -> tuple[str, ...]:
        first = next(self._lines, None)
        if first is None:
            raise InputFileError(f"{name}: the file is empty", path=name, line=1)
        if first.text is None:
            raise InputFileError(f"{name}:1: the header {first.problem}", path=name, line=1)
        if "\x00" in first.text:
            raise InputFileError(
                f"{name}:1: the header holds NUL bytes: UTF-16 without a byte-order mark? "
                "Give the encoding (utf-16-le or utf-16-be)",
                path=name,
                line=1,
            )
        try:
            fields = next(csv.reader([first.text], strict=True), [])
        except csv.Error as exc:
            raise InputFileError(f"{name}:1: the header cannot be read: {exc}", path=name) from exc
        if not any(field.strip() for field in fields):
            raise InputFileError(f"{name}:1: the header is empty", path=name, line=1)
        return tuple(field.strip() for field in fields)

    def __enter__(self) -> CsvRows:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._stream.close()

    def rows(self, number_column: int | None = None) -> Iterator[Row | BadRow]:
        """The records after the header, good and bad, in file order.

        Args:
            number_column: Index of the number column, used by the unterminated-quote
                rule; ``None`` lets any line of the header's width end an open quote.

        Yields:
            A :class:`Row` or a :class:`BadRow` per non-blank record.
        """
        width = len(self.header)
        source = _Source(self._lines, width, number_column)
        reader = csv.reader(source, strict=True)
        while (line := source.peek()) is not None:
            if line.text is None:
                source.skip()
                yield BadRow(line.number, line.problem or "cannot be read")
                continue
            source.start()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                first, *rest = source.taken
                source.give_back(rest)  # read again, each as a record of its own
                yield BadRow(first.number, _quoting_problem(exc, source.cut), _excerpt(first))
                continue
            first = source.taken[0]
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != width:
                reason = f"expected {width} columns, found {len(fields)}"
                yield BadRow(first.number, reason, _excerpt(first))
                continue
            yield Row(first.number, tuple(fields))


def _excerpt(line: PhysicalLine, limit: int = 60) -> str:
    text = (line.text or "").rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + "..."


def _quoting_problem(exc: csv.Error, cut: PhysicalLine | None) -> str:
    message = str(exc)
    if "field limit" in message:
        return (
            f"a field is longer than {csv.field_size_limit():,} characters "
            "(a quote opened here and never closed?)"
        )
    if "unexpected end of data" not in message:
        return f"broken quoting: {message}"
    if cut is None:
        return "unterminated quote: the quoted field opened here is never closed"
    why = "cannot be read" if cut.text is None else "looks like a row of its own"
    return (
        f"unterminated quote: the quoted field opened here runs into line {cut.number}, which {why}"
    )


def count_rows(
    path: str | Path, *, encoding: str = DEFAULT_ENCODING, number_column: int | None = None
) -> int | None:
    """How many records :meth:`CsvRows.rows` yields (good and bad); ``None`` for a file
    that can be read only once (a pipe).

    Raises:
        InputFileError: As for :class:`CsvRows`.
    """
    if not Path(path).is_file():
        return None
    with CsvRows(path, encoding=encoding) as rows:
        return sum(1 for _ in rows.rows(number_column))
