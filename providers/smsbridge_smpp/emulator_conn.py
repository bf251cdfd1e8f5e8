"""One client connection of the SMSC emulator, and reading a submitted text back.

Responses are scheduled on a heap by due time and written by the connection's writer
thread, so that with a per-PDU latency many responses are in flight together, as on a
real SMSC; the reader thread only reads and hands PDUs to the emulator.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from smsbridge import SmsBridgeError
from smsbridge.sdk import decode_septets, unpack_septets

from . import wire

__all__ = ["Conn", "decode_text"]

_Receipt = tuple[int, str, str]  # sequence, digits, message id


class Conn:
    """A client connection: a reader thread, a scheduled writer, receipt bookkeeping."""

    def __init__(
        self,
        sock: socket.socket,
        handler: Callable[[Conn, bytes], None],
        on_close: Callable[[Conn], None],
    ) -> None:
        self.sock = sock
        self.bound = False
        self.receives = False
        self.open = True
        self.in_flight = 0
        self._handler = handler
        self._on_close = on_close
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, bytes, bool, _Receipt | None]] = []
        self._order = itertools.count()
        self._closing = False
        self._unacked: dict[int, tuple[str, str]] = {}
        self.held: list[tuple[bytes, str | None, str]] = []
        """Responses held by the emulator's ``answer_together`` switch."""

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def reply(
        self, data: bytes, *, delay: float = 0.0, done: bool = False,
        receipt: _Receipt | None = None,
    ) -> None:  # fmt: skip
        """Send ``data`` after ``delay`` seconds (``done``: it answers a submit_sm)."""
        with self._cond:
            item = (time.monotonic() + delay, next(self._order), data, done, receipt)
            heapq.heappush(self._heap, item)
            self._cond.notify()

    def outstanding(self, change: int) -> None:
        with self._cond:
            self.in_flight += change

    def acked(self, sequence: int) -> None:
        with self._cond:
            self._unacked.pop(sequence, None)

    def unacked_receipts(self) -> list[tuple[str, str]]:
        """Receipts sent or scheduled but not acknowledged (to send again on a rebind)."""
        with self._cond:
            queued = [item[4][1:] for item in self._heap if item[4] is not None]
            return [*self._unacked.values(), *queued]

    def close_after_replies(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            if not self.open:
                return
            self.open = False
            self._cond.notify()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._on_close(self)

    def _read(self) -> None:
        try:
            while self.open:
                raw = wire.read_frame(self.sock)
                if raw is None:
                    break
                self._handler(self, raw)
        except (OSError, SmsBridgeError):
            pass
        finally:
            self.close()

    def _write(self) -> None:
        while True:
            with self._cond:
                while self.open and not (self._heap or self._closing):
                    self._cond.wait()
                if not self.open:
                    return
                if not self._heap:  # closing with nothing left to say
                    break
                due = self._heap[0][0] - time.monotonic()
                if due > 0:
                    self._cond.wait(due)
                    continue
                _due, _n, data, done, receipt = heapq.heappop(self._heap)
                if done:
                    self.in_flight -= 1
                if receipt is not None:
                    self._unacked[receipt[0]] = receipt[1:]
            try:
                self.sock.sendall(data)
            except OSError:
                break
        self.close()


def decode_text(pdu: Any, *, packed: bool) -> tuple[int, int, int, str]:
    """``(reference, total, part number, text)`` of one submitted part.

    Reads the UDH (8- and 16-bit concatenation), ``sar_*`` TLVs or ``message_payload``,
    and decodes GSM-7 (packed or not), Latin-1 and UCS-2 by ``data_coding``.
    """
    body = getattr(pdu, "short_message", None) or b""
    payload = getattr(pdu, "message_payload", None)
    if not body and payload:
        body = payload
    if isinstance(body, str):
        body = body.encode("latin-1")
    ref, total, number, header = 0, 1, 1, 0
    if int(pdu.esm_class or 0) & 0x40 and body:
        header = body[0] + 1
        udh = body[1:header]
        if len(udh) >= 5 and udh[0] == 0x00:
            ref, total, number = udh[2], udh[3], udh[4]
        elif len(udh) >= 6 and udh[0] == 0x08:
            ref, total, number = int.from_bytes(udh[2:4], "big"), udh[4], udh[5]
    elif getattr(pdu, "sar_total_segments", None):
        ref = int(pdu.sar_msg_ref_num or 0)
        total, number = int(pdu.sar_total_segments), int(pdu.sar_segment_seqnum or 1)
    text = body[header:]
    coding = int(pdu.data_coding or 0) & 0x0F
    if coding == 0x08:
        return ref, total, number, text.decode("utf-16-be", "replace")
    if coding == 0x03:
        return ref, total, number, text.decode("latin-1")
    if packed:
        fill = (7 - (header * 8) % 7) % 7
        count = (len(text) * 8 - fill) // 7
        septets = unpack_septets(text, count, fill_bits=fill)
        decoded = decode_septets(septets)
        return ref, total, number, decoded.rstrip("\r") if len(septets) % 8 == 0 else decoded
    return ref, total, number, decode_septets(text)
