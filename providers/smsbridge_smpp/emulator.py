"""An SMSC on loopback speaking SMPP 3.4, with the fault switches tests need.

It binds clients by ``system_id``/``password``, answers ``submit_sm`` with an id after a
configurable per-PDU latency (responses are scheduled, not serialised, so a client's
window really overlaps them), records every accepted part, reassembles concatenated
texts, and sends delivery receipts as ``deliver_sm``. Receipts not acknowledged when a
connection drops are sent again on the next bind, as SMSCs do.

Fault switches: the shared :class:`~smsbridge.testing.faults.FaultPlan` (``HttpStatus``
becomes ``ESME_RTHROTTLED`` for 429 and ``ESME_RSYSERR`` otherwise, ``TransientCode``
``ESME_RMSGQFUL``, ``ConnectionReset``, ``AcceptThenDrop``, ``Garbage``, ``Delay``), and
SMPP's own: :meth:`SmscEmulator.refuse_binds`, :meth:`~SmscEmulator.throttle`,
:meth:`~SmscEmulator.drop_after`, ``latency``, ``no_response``, ``status_for``,
``receipt_stat``, ``duplicate_receipts`` and ``hold_receipts`` (released in reverse order
by :meth:`~SmscEmulator.release_receipts`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import UTC, datetime
from typing import Any, Self

from smsbridge.sdk import (
    AcceptThenDrop,
    ConnectionReset,
    Delay,
    EchoRequest,
    Emulator,
    EmulatorRequest,
    Garbage,
    HttpStatus,
    TransientCode,
)

from . import wire
from .emulator_conn import Conn, decode_text
from .protocol import receipt_text

__all__ = ["SmscEmulator"]

_THROTTLED, _QUEUE_FULL, _SYSERR = 0x58, 0x14, 0x08
_BINDS = {"bind_transceiver": True, "bind_transmitter": False, "bind_receiver": True}


class SmscEmulator(Emulator):
    """The loopback SMSC.

    Args:
        system_id: The account's ``system_id``.
        password: The account's password.
        latency: Seconds before each response PDU (and receipt) is sent.
        gsm7_packed: Read ``data_coding`` 0 as packed GSM-7 when reassembling texts.
        kwargs: :class:`~smsbridge.testing.Emulator`'s (``clock``, ``seed``).
    """

    name = "smpp"

    def __init__(
        self,
        *,
        system_id: str = "smsbridge",
        password: str = "emu-pass",  # noqa: S107 (the emulator's fixed test login)
        latency: float = 0.0,
        gsm7_packed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.system_id = system_id
        self.password = password
        self.latency = latency
        self.gsm7_packed = gsm7_packed
        self.no_response = False
        """Accept and record every submit_sm but never answer it."""
        self.answer_together = 1
        """Hold submit_sm responses until this many are waiting, then send them all
        (proves a client's window without depending on timing)."""
        self.status_for: dict[str, int] = {}
        """Destination digits to the command_status their submit_sm gets."""
        self.receipt_stat = "DELIVRD"
        self.receipt_stats: dict[str, str] = {}
        """Destination digits to their receipts' ``stat``."""
        self.duplicate_receipts = False
        self.hold_receipts = False
        self.binds = 0
        self.unbinds = 0
        self.enquire_links = 0
        self.max_outstanding = 0
        """Most submit_sm of one connection seen before their responses left."""
        self.receipt_answers: list[int] = []
        self.texts: dict[tuple[str, int], dict[int, str]] = {}
        self._bind_refusals: list[int] = []
        self._throttles: list[int] = []
        self._drop_after: int | None = None
        self._held: list[tuple[str, str]] = []
        self._unacked: list[tuple[str, str]] = []
        self._next_id = 0
        self._listener: socket.socket | None = None
        self._conns: list[Conn] = []
        self._port = 0

    # -- switches -----------------------------------------------------------------------

    def refuse_binds(self, status: int = 0x0D, times: int = 1) -> None:
        """Answer the next ``times`` binds with ``status`` (ESME_RBINDFAIL by default)."""
        with self.lock:
            self._bind_refusals.extend([status] * times)

    def throttle(self, times: int, status: int = _THROTTLED) -> None:
        """Answer the next ``times`` submit_sm with a throttling status, unprocessed."""
        with self.lock:
            self._throttles.extend([status] * times)

    def drop_after(self, count: int) -> None:
        """Accept ``count`` more submit_sm, then drop the connection before answering
        them (a connection lost mid-window)."""
        with self.lock:
            self._drop_after = count

    def release_receipts(self) -> int:
        """Send held receipts, newest first (out of order). Returns how many."""
        with self.lock:
            held, self._held = self._held[::-1], []
        for digits, message_id in held:
            self._send_receipt(digits, message_id)
        return len(held)

    # -- serving ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``smpp://127.0.0.1:PORT``."""
        return f"smpp://127.0.0.1:{self._port}"

    def start(self) -> Self:
        """Listen on a free loopback port."""
        listener = socket.create_server(("127.0.0.1", 0))
        self._port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self.lock:
            conns, self._conns = list(self._conns), []
        for conn in conns:
            conn.close()

    def __repr__(self) -> str:
        return f"SmscEmulator({self.url if self._port else 'not started'})"

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock, self._handle, self._closed)
            with self.lock:
                self._conns.append(conn)
            conn.start()

    def _closed(self, conn: Conn) -> None:
        with self.lock:
            if conn in self._conns:
                self._conns.remove(conn)
            self._unacked.extend(conn.unacked_receipts())

    # -- PDUs ---------------------------------------------------------------------------

    def _handle(self, conn: Conn, raw: bytes) -> None:
        pdu = wire.decode(raw)
        command, sequence = str(pdu.command), int(pdu.sequence)
        if command in _BINDS:
            self._bind(conn, pdu, command, sequence)
        elif not conn.bound:
            conn.reply(wire.encode("generic_nack", sequence=sequence, status=0x04)[1])
        elif command == "submit_sm":
            self._submit(conn, pdu, raw, sequence)
        elif command == "deliver_sm_resp":
            self.receipt_answers.append(int(pdu.status))
            conn.acked(sequence)
        elif command == "enquire_link":
            self.enquire_links += 1
            conn.reply(wire.encode("enquire_link_resp", sequence=sequence)[1])
        elif command == "unbind":
            self.unbinds += 1
            conn.reply(wire.encode("unbind_resp", sequence=sequence)[1])
            conn.close_after_replies()
        elif not pdu.is_response():
            conn.reply(wire.encode("generic_nack", sequence=sequence, status=0x03)[1])

    def _bind(self, conn: Conn, pdu: Any, command: str, sequence: int) -> None:
        with self.lock:
            refusal = self._bind_refusals.pop(0) if self._bind_refusals else None
        ok = _text(pdu.system_id) == self.system_id and _text(pdu.password) == self.password
        status = refusal if refusal is not None else (0 if ok else 0x0E)
        reply = command + "_resp"
        conn.reply(wire.encode(reply, sequence=sequence, status=status, system_id="emu")[1])
        if status:
            conn.close_after_replies()
            return
        conn.bound, conn.receives = True, _BINDS[command]
        with self.lock:
            self.binds += 1
            again, self._unacked = self._unacked, []
        for digits, message_id in again:
            self._send_receipt(digits, message_id, conn=conn)

    def _submit(self, conn: Conn, pdu: Any, raw: bytes, sequence: int) -> None:
        digits = _text(pdu.destination_addr) or ""
        request = EmulatorRequest(
            method="SMPP", path="/submit_sm", body=raw, received_at=self.clock()
        )
        fault = self.faults.pick(request)
        delay = self.latency + (fault.seconds if isinstance(fault, Delay) else 0.0)
        with self.lock:
            status = self._throttles.pop(0) if self._throttles else None
        if isinstance(fault, ConnectionReset):
            conn.close()
            return
        if status is None and isinstance(fault, HttpStatus):
            status = _THROTTLED if fault.status == 429 else _SYSERR
        if status is None and isinstance(fault, TransientCode | EchoRequest):
            status = _QUEUE_FULL if isinstance(fault, TransientCode) else _SYSERR
        if status is None and isinstance(fault, Garbage) and not fault.process:
            conn.reply(fault.body, delay=delay)
            conn.close_after_replies()
            return
        status = self.status_for.get(digits, 0) if status is None else status
        message_id = self._accept_submit(pdu, digits) if status == 0 else ""
        conn.outstanding(+1)
        self.max_outstanding = max(self.max_outstanding, conn.in_flight)
        drop = isinstance(fault, AcceptThenDrop) or self._count_drop()
        if drop:
            conn.close()
            return
        if isinstance(fault, Garbage):
            conn.reply(fault.body, delay=delay, done=True)
            conn.close_after_replies()
            return
        if self.no_response:
            return
        answer = wire.encode(
            "submit_sm_resp", sequence=sequence, status=status, message_id=message_id
        )
        receipt = status == 0 and int(pdu.registered_delivery or 0) & 0x01
        with self.lock:
            conn.held.append((answer[1], digits if receipt else None, message_id))
            if len(conn.held) < self.answer_together:
                return
            held, conn.held = conn.held, []
        for data, to, sent_id in held:
            conn.reply(data, delay=delay, done=True)
            if to is not None:
                self._send_receipt(to, sent_id, conn=conn, after=delay)

    def _count_drop(self) -> bool:
        with self.lock:
            if self._drop_after is None:
                return False
            self._drop_after -= 1
            if self._drop_after > 0:
                return False
            self._drop_after = None
            return True

    def _accept_submit(self, pdu: Any, digits: str) -> str:
        with self.lock:
            self._next_id += 1
            message_id = f"{self._next_id:08x}"
        ref, total, number, text = decode_text(pdu, packed=self.gsm7_packed)
        # A single part has no reference: key it by its id (negative, apart from refs).
        key = (digits, ref if total > 1 else -int(message_id, 16))
        with self.lock:
            self.texts.setdefault(key, {})[number] = text
        self.record(
            "submit_sm",
            ["+" + digits],
            message_ids=[message_id],
            body=text,
            fields={
                "data_coding": str(int(pdu.data_coding or 0)),
                "esm_class": str(int(pdu.esm_class or 0)),
                "part": f"{number}/{total}",
                "ref": str(ref),
                "source_addr": _text(pdu.source_addr) or "",
            },
        )
        return message_id

    def message_text(self, number: str, ref: int | None = None) -> str:
        """The reassembled text sent to ``number`` (the only or given reference)."""
        digits = number.lstrip("+")
        with self.lock:
            keys = [k for k in self.texts if k[0] == digits and (ref is None or k[1] == ref)]
            parts = self.texts[keys[-1]]
        return "".join(parts[n] for n in sorted(parts))

    # -- receipts -----------------------------------------------------------------------

    def _send_receipt(
        self, digits: str, message_id: str, *, conn: Conn | None = None, after: float = 0.0
    ) -> None:
        if self.hold_receipts:
            with self.lock:
                self._held.append((digits, message_id))
            return
        if conn is None or not conn.open or not conn.receives:
            with self.lock:
                live = [c for c in self._conns if c.bound and c.receives and c.open]
            if not live:
                with self.lock:
                    self._unacked.append((digits, message_id))
                return
            conn = live[0]
        stat = self.receipt_stats.get(digits, self.receipt_stat)
        when = datetime.fromtimestamp(self.clock(), UTC)
        body = receipt_text(message_id, stat, when=when)
        copies = 2 if self.duplicate_receipts else 1
        for _ in range(copies):
            sequence, data = wire.encode(
                "deliver_sm",
                source_addr=digits,
                esm_class=0x04,
                short_message=body,
                receipted_message_id=message_id,
            )
            conn.reply(data, delay=after, receipt=(sequence, digits, message_id))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).strip("\x00") or None
