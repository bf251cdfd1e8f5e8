"""PDUs on a socket: framing, sequence numbers and smpplib's codec behind typed errors.

smpplib encodes and decodes every PDU; this module only frames them on the stream and
turns whatever the library raises on hostile bytes into :class:`MalformedResponseError`,
so that one place decides what untrusted input may do (close the connection, never crash
a thread).
"""

from __future__ import annotations

import socket
import struct
import threading
from functools import cache
from typing import Any

from smsbridge import ConfigurationError, MalformedResponseError

__all__ = ["MAX_PDU", "Sequencer", "codec", "decode", "encode", "read_frame"]

#: Largest PDU accepted: a submit_sm with a full message_payload and every TLV.
MAX_PDU = 70_000
_HEADER = struct.Struct(">LLLL")


class Sequencer:
    """Sequence numbers 1..0x7FFFFFFF, thread-safe; smpplib's ``client`` argument."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    @property
    def sequence(self) -> int:
        """The last number handed out."""
        return self._value

    def next_sequence(self) -> int:
        """The next number, wrapping after 0x7FFFFFFF."""
        with self._lock:
            self._value = self._value % 0x7FFFFFFF + 1
            return self._value


_SHARED = Sequencer()


@cache
def codec() -> Any:
    """smpplib's PDU module, imported on first use so that the provider registers (and
    says what is missing) without the optional dependency.

    Raises:
        ConfigurationError: smpplib is not installed.
    """
    try:
        from smpplib import smpp
    except ImportError:
        raise ConfigurationError(
            "the smpp provider needs smpplib: pip install 'smsbridge[smpp]'", provider="smpp"
        ) from None
    return smpp


def encode(command: str, *, sequence: int | None = None, **fields: Any) -> tuple[int, bytes]:
    """A PDU's bytes and sequence number.

    Args:
        command: The smpplib command name (``"submit_sm"``).
        sequence: The sequence number; a fresh one from the shared sequencer if None
            (responses pass the request's).
        fields: The PDU's fields by smpplib name.
    """
    pdu = codec().make_pdu(command, client=_SHARED, allow_unknown_opt_params=True, **fields)
    if sequence is not None:
        pdu.sequence = sequence
    return int(pdu.sequence), bytes(pdu.generate())


def decode(raw: bytes) -> Any:
    """Parse one framed PDU (smpplib object with ``command``, ``status``, ``sequence``).

    Raises:
        MalformedResponseError: The bytes are not a PDU smpplib can read.
    """
    try:
        pdu = codec().parse_pdu(raw, client=_SHARED, allow_unknown_opt_params=True)
    except Exception:  # smpplib raises struct, index, unicode and its own errors alike
        pdu = None
    if pdu is None:
        raise MalformedResponseError("unreadable SMPP PDU", provider="smpp")
    return pdu


def header(raw: bytes) -> tuple[int, int, int, int]:
    """``(length, command_id, command_status, sequence)`` of a framed PDU."""
    values: tuple[int, int, int, int] = _HEADER.unpack_from(raw)
    return values


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> bytes | None:
    """Read one whole PDU, or None when the peer closed the connection.

    Raises:
        MalformedResponseError: A length outside 16..:data:`MAX_PDU`.
        OSError: The socket failed (including its timeout).
    """
    head = _recv_exact(sock, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">L", head)
    if not 16 <= length <= MAX_PDU:
        raise MalformedResponseError("SMPP PDU length out of range", provider="smpp")
    rest = _recv_exact(sock, length - 4)
    return None if rest is None else head + rest
