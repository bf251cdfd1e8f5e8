"""A file's encoding and its physical lines, decoded one line at a time.

Decoding the whole stream at once lets one stray byte (a Latin-1 ``é`` in a UTF-8 file)
end the read with a :class:`UnicodeDecodeError`, losing every line after it. Here the
bytes are cut into lines first, at the encoded newline, and each line is decoded on its
own: an undecodable line is reported with its number and the next line reads normally.

A byte-order mark decides the encoding (UTF-8, UTF-16 or UTF-32, either byte order);
without one, the caller's encoding is used (``utf-8-sig`` by default). A physical line
longer than :data:`MAX_LINE_BYTES` is reported, not held in memory.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from smsbridge.errors import SmsBridgeError

__all__ = [
    "DEFAULT_ENCODING",
    "MAX_LINE_BYTES",
    "InputFileError",
    "PhysicalLine",
    "detect_encoding",
    "open_binary",
    "physical_lines",
]

DEFAULT_ENCODING = "utf-8-sig"
"""UTF-8, with or without the byte-order mark spreadsheet programs write."""

MAX_LINE_BYTES = 1 << 20
"""Longest physical line read (1 MiB); a longer one is one bad line, skipped."""

_CHUNK = 1 << 16

# UTF-32-LE's mark starts with UTF-16-LE's, so it is tried first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Codecs that expect a mark of their own; without one, read as little-endian
# (what Windows writes and what Python assumes on every common machine).
_WITHOUT_MARK = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}


class InputFileError(SmsBridgeError, ValueError):
    """The input file cannot be read at all (no header, unknown encoding, I/O error).

    Problems of single lines are never raised: they are :class:`~smsbridge.inputs.
    BadRow` results, and the rest of the file is read.

    Args:
        message: What is wrong, naming the file (and line, when there is one).
        path: The file.
        line: The line concerned, when there is one.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        super().__init__(message, code="input")
        self.path = path
        self.line = line


@attrs.frozen(slots=True)
class PhysicalLine:
    """One line of the file as the disk holds it.

    Args:
        number: 1-based line number.
        text: The decoded line with its line end, or ``None`` when it could not be read.
        problem: Why ``text`` is ``None``.
    """

    number: int
    text: str | None
    problem: str | None = None


def open_binary(path: str | Path) -> io.BufferedReader:
    """Open ``path`` for reading bytes.

    Raises:
        InputFileError: When it cannot be opened (missing, a directory, no permission).
    """
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}", path=str(path)) from exc


def detect_encoding(head: bytes, encoding: str, *, path: str) -> tuple[str, int]:
    """The codec to decode with and the length of the byte-order mark to skip.

    Args:
        head: The file's first bytes (4 are enough).
        encoding: The encoding asked for (checked even when a byte-order mark then
            overrides it, so a misspelt option is never silently ignored).
        path: The file, named in the error.

    Raises:
        InputFileError: For an encoding Python does not know as a text encoding.
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InputFileError(f"{path}: unknown encoding {encoding!r}", path=path) from None
    try:
        # bytes.decode refuses, with a LookupError, the codecs that do not make text
        # (rot13, base64, zlib): the public form of the codec's own "text" flag.
        b"\x00\x00\x00\x00".decode(info.name)
    except LookupError:
        raise InputFileError(f"{path}: {encoding!r} is not a text encoding", path=path) from None
    except (UnicodeError, ValueError):
        pass  # a text codec these bytes do not suit; the file's own lines will say
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    return _WITHOUT_MARK.get(info.name, info.name), 0


def physical_lines(stream: BinaryIO, codec: str, *, first: int = 1) -> Iterator[PhysicalLine]:
    """Decode ``stream`` line by line; bad lines carry their problem instead of text.

    Args:
        stream: The bytes, positioned after any byte-order mark.
        codec: A codec from :func:`detect_encoding`.
        first: The number of the first line.
    """
    newline = "\n".encode(codec)
    width = len(newline)
    raw = _narrow_lines(stream) if newline == b"\n" else _wide_lines(stream, newline, width)
    for number, data in enumerate(raw, start=first):
        if data is None:
            yield PhysicalLine(number, None, f"the line is longer than {MAX_LINE_BYTES:,} bytes")
            continue
        try:
            yield PhysicalLine(number, data.decode(codec))
        except UnicodeDecodeError as exc:
            yield PhysicalLine(number, None, _undecodable(exc, data, codec))


def _undecodable(exc: UnicodeDecodeError, data: bytes, codec: str) -> str:
    bad = data[exc.start : max(exc.end, exc.start + 1)][:4]
    shown = " ".join(f"0x{byte:02x}" for byte in bad)
    return f"cannot be decoded as {codec}: byte {shown} at byte {exc.start + 1} of the line"


def _narrow_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Lines of a codec whose newline is the single byte 0x0A; ``None`` for an overlong
    line (its bytes are skipped, never kept)."""
    while True:
        data = stream.readline(MAX_LINE_BYTES + 1)
        if not data:
            return
        if len(data) <= MAX_LINE_BYTES or data.endswith(b"\n"):
            yield data
            continue
        while data and not data.endswith(b"\n"):
            data = stream.readline(_CHUNK)
        yield None


def _wide_lines(stream: BinaryIO, newline: bytes, width: int) -> Iterator[bytes | None]:
    """Lines of other codecs (UTF-16, UTF-32, EBCDIC): the newline counts only where a
    code unit starts."""
    buffer = b""
    skipping = False  # inside an overlong line, already reported
    while True:
        chunk = stream.read(_CHUNK)
        buffer += chunk
        start = 0
        while (end := _aligned_find(buffer, newline, start, width)) != -1:
            if not skipping:
                yield buffer[start:end]
            skipping = False
            start = end
        buffer = buffer[start:]
        if len(buffer) > MAX_LINE_BYTES:
            if not skipping:
                yield None
            # Keep a partial code unit, so the next newline is still found aligned.
            skipping, buffer = True, buffer[len(buffer) - len(buffer) % width :]
        if not chunk:
            if buffer and not skipping:
                yield buffer
            return


def _aligned_find(data: bytes, newline: bytes, start: int, width: int) -> int:
    """The end of the first newline at or after ``start`` on a code-unit boundary."""
    index = data.find(newline, start)
    while index != -1 and (index - start) % width:
        index = data.find(newline, index + 1)
    return -1 if index == -1 else index + width
