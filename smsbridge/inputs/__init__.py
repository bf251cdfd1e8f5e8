"""Reading recipient files so that one bad line costs one line, never the file.

Every command and importer that reads a recipient CSV goes through
:mod:`smsbridge.inputs.csv_rows`; :mod:`smsbridge.inputs.byte_lines` finds the encoding
and cuts the bytes into physical lines, decoded one at a time.
"""

from smsbridge.inputs.byte_lines import (
    DEFAULT_ENCODING,
    MAX_LINE_BYTES,
    InputFileError,
    PhysicalLine,
)
from smsbridge.inputs.csv_rows import BadRow, CsvRows, Row, count_rows, looks_like_number

__all__ = [
    "DEFAULT_ENCODING",
    "MAX_LINE_BYTES",
    "BadRow",
    "CsvRows",
    "InputFileError",
    "PhysicalLine",
    "Row",
    "count_rows",
    "looks_like_number",
]
