"""Reading recipient files so that one bad line costs one line, never the file.

Every command and importer that reads a recipient CSV goes through
:mod:`smsbridge.inputs.csv_rows`; :mod:`smsbridge.inputs.byte_lines` finds the encoding
and cuts the bytes into physical lines, decoded one at a time;
:mod:`smsbridge.inputs.number_list` reads files of one number per line the same way.
"""

from smsbridge.inputs.byte_lines import (
    DEFAULT_ENCODING,
    MAX_LINE_BYTES,
    InputFileError,
    PhysicalLine,
)
from smsbridge.inputs.csv_rows import BadRow, CsvRows, Row, count_rows, looks_like_number
from smsbridge.inputs.number_list import count_numbers, read_numbers

__all__ = [
    "DEFAULT_ENCODING",
    "MAX_LINE_BYTES",
    "BadRow",
    "CsvRows",
    "InputFileError",
    "PhysicalLine",
    "Row",
    "count_numbers",
    "count_rows",
    "looks_like_number",
    "read_numbers",
]
