"""Streaming import of a task's recipient file: CSV, or an XLSX sheet with openpyxl.

Rows are read one at a time and handed on at once, so the file's size is bounded by the
disk, not by memory; de-duplication happens in the task store (a unique index), not in
a set here. The first row is the header: the number column is ``to``, ``number``,
``phone`` or ``mobile`` (any case) unless named, and every other column is a template
variable.

A CSV is read through :class:`smsbridge.inputs.CsvRows`: a line that cannot be read
(undecodable bytes, broken or unterminated quoting, wrong number of columns) becomes an
invalid line of the report with its reason, and the lines after it are imported.

XLSX needs the optional extra: ``pip install 'smsbridge[xlsx]'``.

The file itself follows the Group SMS Assistant's rules (:func:`check_file`): a file
name (before the extension) of letters and digits only, and an XLSX workbook of at most
12 MB, which also bounds what a zip expands to before a row is read.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import attrs

from smsbridge.errors import ConfigurationError, InvalidMessageError, InvalidNumberError
from smsbridge.inputs import DEFAULT_ENCODING, BadRow, CsvRows, InputFileError
from smsbridge.model import Template, check_text
from smsbridge.observe.logs import log_rejected_input
from smsbridge.tasks.model import ImportReport, InvalidLine, TaskImportError

__all__ = [
    "MAX_XLSX_BYTES",
    "NUMBER_COLUMNS",
    "ImportCounter",
    "RecipientRow",
    "check_file",
    "read_rows",
    "valid_rows",
]

NUMBER_COLUMNS = ("to", "number", "phone", "mobile")
"""Header names taken as the number column when none is named, in this order."""

MAX_XLSX_BYTES = 12 * 1024 * 1024
"""Largest XLSX recipient file (12 MB, the Group SMS Assistant's limit)."""

_XLSX = (".xlsx", ".xlsm")
# Letters and digits of any script (the console's "only digits and letters"); no
# underscore, space, dash or dot before the extension.
_FILE_NAME = re.compile(r"[^\W_]+")


class RecipientRow(NamedTuple):
    """One recipient line of a file.

    Args:
        line: The 1-based line (or sheet row), the header being line 1.
        number: The number, as written or (after :func:`valid_rows`) in E.164.
        variables: The other columns by header name.
        problem: Why the line could not be read (then ``number`` holds the start of
            the line as read, and ``variables`` is empty).
    """

    line: int
    number: str
    variables: dict[str, str]
    problem: str | None = None


@attrs.define
class ImportCounter:
    """What an import has counted so far (mutable while the file streams).

    Args:
        listed_limit: Most invalid lines listed; the rest are only counted.
    """

    listed_limit: int = 1000
    source: str = ""
    """Where the rows come from, for the ``smsbridge.input.rejected`` log."""
    imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    listed: list[InvalidLine] = attrs.field(factory=list)

    def drop(self, line: int, value: str, reason: str) -> None:
        """Count an invalid line, and list it while there is room."""
        log_rejected_input(self.source, line, reason)
        self.invalid += 1
        if len(self.listed) < self.listed_limit:
            self.listed.append(InvalidLine(line, value, reason))

    def refusal(self) -> str:
        """Why a file with no number kept is refused, naming its first bad lines."""
        if self.invalid == 0:
            return "the file holds no recipient numbers"
        first = "; ".join(f"line {i.line}: {i.value!r}: {i.reason}" for i in self.listed[:3])
        more = f" (and {self.invalid - 3} more)" if self.invalid > 3 else ""
        return f"the file holds only invalid numbers ({self.invalid}): {first}{more}"

    def report(self) -> ImportReport:
        """The counts as a frozen report."""
        return ImportReport(
            imported=self.imported,
            duplicates=self.duplicates,
            invalid=self.invalid,
            invalid_lines=tuple(self.listed),
            listed_limit=self.listed_limit,
        )


def _cell(value: object) -> str:
    # Spreadsheets store numbers typed into cells as floats: 447700900123.0 must read
    # back as the digits the user typed, not in float notation.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _number_column(header: Sequence[str], wanted: str | None, source: Path) -> str:
    if wanted is not None:
        if wanted not in header:
            raise TaskImportError(f"{source}: no {wanted!r} column in the header")
        return wanted
    lowered = {name.lower(): name for name in header}
    for candidate in NUMBER_COLUMNS:
        if candidate in lowered:
            return lowered[candidate]
    raise TaskImportError(
        f"{source}: the header names no number column (one of {', '.join(NUMBER_COLUMNS)})"
    )


def _rows(
    records: Iterator[Sequence[object]], source: Path, number_column: str | None
) -> Iterator[RecipientRow]:
    first = next(records, None)
    if first is None:
        raise TaskImportError(f"{source}: the file is empty")
    header = [_cell(name) for name in first]
    column = _number_column(header, number_column, source)
    index = header.index(column)
    for line, record in enumerate(records, start=2):
        values = [_cell(value) for value in record]
        if not any(values):
            continue  # blank lines are layout, not recipients
        values += [""] * (len(header) - len(values))
        variables = {
            name: value
            for position, (name, value) in enumerate(zip(header, values, strict=False))
            if position != index and name
        }
        yield RecipientRow(line, values[index], variables)


def _csv_rows(source: Path, number_column: str | None, encoding: str) -> Iterator[RecipientRow]:
    try:
        reader = CsvRows(source, encoding=encoding)
    except InputFileError as exc:
        raise TaskImportError(str(exc)) from exc
    with reader:
        header = list(reader.header)
        index = header.index(_number_column(header, number_column, source))
        for row in reader.rows(index):
            if isinstance(row, BadRow):
                yield RecipientRow(row.line, row.text, {}, row.reason)
                continue
            values = [value.strip() for value in row.values]
            variables = {
                name: value
                for position, (name, value) in enumerate(zip(header, values, strict=True))
                if position != index and name
            }
            yield RecipientRow(row.line, values[index], variables)


def _xlsx_records(path: Path, sheet: str | None) -> Iterator[Sequence[object]]:
    try:
        import openpyxl  # optional: only XLSX imports need it
    except ImportError as exc:
        raise ConfigurationError(
            "reading XLSX needs openpyxl: pip install 'smsbridge[xlsx]'"
        ) from exc
    # read_only streams rows from the zip instead of building the whole sheet in memory.
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TaskImportError(f"{path}: no sheet named {sheet!r}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        yield from worksheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def check_file(path: str | os.PathLike[str], *, max_xlsx_bytes: int = MAX_XLSX_BYTES) -> None:
    """Refuse a recipient file whose name or size breaks the Group SMS Assistant's rules.

    Args:
        path: The recipient file.
        max_xlsx_bytes: Largest XLSX file accepted (CSV streams, so any size is read).

    Raises:
        TaskImportError: Naming the file and the rule; nothing has been read.
    """
    source = Path(path)
    if not _FILE_NAME.fullmatch(source.stem):
        raise TaskImportError(
            f"{source.name!r}: a recipient file's name may hold only letters and digits "
            f"before the extension (e.g. {_suggest(source)!r})"
        )
    if source.suffix.lower() in _XLSX:
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise TaskImportError(f"{source}: cannot read the file: {exc}") from exc
        if size > max_xlsx_bytes:
            raise TaskImportError(
                f"{source.name!r} is {size:,} bytes: an XLSX recipient file may hold at "
                f"most {max_xlsx_bytes:,} bytes (12 MB); split it into several tasks"
            )


def _suggest(source: Path) -> str:
    stem = "".join(char for char in source.stem if char.isalnum()) or "recipients"
    return stem + source.suffix


def read_rows(
    path: str | os.PathLike[str],
    *,
    number_column: str | None = None,
    sheet: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[RecipientRow]:
    """Stream a recipient file's lines as written (numbers not yet checked).

    Args:
        path: A ``.csv`` file or an ``.xlsx`` workbook.
        number_column: The number column's header; found among :data:`NUMBER_COLUMNS`
            when ``None``.
        sheet: For XLSX, the sheet to read (the first one by default).
        encoding: For CSV, the encoding unless the file starts with a byte-order mark.

    Returns:
        A lazy iterator of rows; blank lines are skipped; a CSV line that cannot be
        read is a row with its ``problem``.

    Raises:
        TaskImportError: For an unreadable or empty file or a header without the
            number column (raised when iteration starts).
        ConfigurationError: For XLSX without openpyxl installed.
    """
    source = Path(path)
    try:
        if source.suffix.lower() in _XLSX:
            yield from _rows(_xlsx_records(source, sheet), source, number_column)
        else:
            yield from _csv_rows(source, number_column, encoding)
    except OSError as exc:
        raise TaskImportError(f"{source}: cannot read the file: {exc}") from exc
    except (
        ValueError,
        KeyError,
        SyntaxError,  # xml.etree's ParseError
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,  # a zip member compressed by an unsupported method
    ) as exc:
        # How openpyxl and zipfile report a file that is not a (sound) workbook.
        if isinstance(exc, TaskImportError):
            raise
        raise TaskImportError(f"{source}: not a readable XLSX workbook: {exc}") from exc


def valid_rows(
    rows: Iterable[RecipientRow],
    normaliser: Callable[[str], str],
    counter: ImportCounter,
    template: Template | None = None,
) -> Iterator[RecipientRow]:
    """The rows whose number is valid (in E.164) and which fill the template; the others
    (unreadable lines too) are counted in ``counter`` as invalid, with the reason.

    Args:
        rows: Rows as read.
        normaliser: Turns a number as written into E.164 or raises
            :class:`~smsbridge.errors.InvalidNumberError` (a
            :class:`~smsbridge.numbers.NumberNormaliser`, or a provider's rules).
        counter: Receives the invalid lines.
        template: When given, a row must have a value for each of its variables.

    Returns:
        A lazy iterator of the good rows, numbers normalised (duplicates not removed).
    """
    needed = template.variables if template is not None else ()
    for row in rows:
        if row.problem is not None:
            counter.drop(row.line, row.number, row.problem)
            continue
        if not row.number:
            counter.drop(row.line, row.number, "empty number")
            continue
        try:
            e164 = normaliser(row.number)
        except InvalidNumberError as exc:
            counter.drop(row.line, row.number, exc.message)
            continue
        empty = [name for name in needed if not row.variables.get(name)]
        if empty:
            counter.drop(row.line, row.number, f"template variable {empty[0]!r} has no value")
            continue
        try:
            for name in needed:
                check_text(row.variables[name], f"variables.{name}")
        except InvalidMessageError as exc:
            counter.drop(row.line, row.number, exc.message)
            continue
        yield RecipientRow(row.line, e164, row.variables)
