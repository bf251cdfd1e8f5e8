"""Files of one phone number per line (``smsbridge enqueue --file``), read like CSVs.

The same byte-level reading as :class:`~smsbridge.inputs.CsvRows` (encoding, byte-order
mark, one line decoded at a time), without CSV quoting: a number list has no fields.
Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from smsbridge.inputs.byte_lines import (
    DEFAULT_ENCODING,
    detect_encoding,
    open_binary,
    physical_lines,
)
from smsbridge.inputs.csv_rows import BadRow, Row

__all__ = ["count_numbers", "read_numbers"]


def read_numbers(path: str | Path, *, encoding: str = DEFAULT_ENCODING) -> Iterator[Row | BadRow]:
    """The numbers of the file, one :class:`Row` (of one value) per number line, and a
    :class:`BadRow` per line that cannot be read.

    Raises:
        InputFileError: When the file cannot be opened or the encoding is unknown
            (raised when iteration starts).
    """
    with open_binary(path) as stream:
        codec, bom = detect_encoding(stream.peek(4)[:4], encoding, path=str(path))
        stream.read(bom)
        for line in physical_lines(stream, codec):
            if line.text is None:
                yield BadRow(line.number, line.problem or "cannot be read")
                continue
            text = line.text.strip()
            if text and not text.startswith("#"):
                yield Row(line.number, (text,))


def count_numbers(path: str | Path, *, encoding: str = DEFAULT_ENCODING) -> int | None:
    """How many entries :func:`read_numbers` yields; ``None`` for a pipe."""
    if not Path(path).is_file():
        return None
    return sum(1 for _ in read_numbers(path, encoding=encoding))
