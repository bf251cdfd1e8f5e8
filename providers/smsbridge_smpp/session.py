"""One bound SMPP session: bind, windowed submits, keep-alive, rebind, unbind.

The session owns the socket. A reader thread takes every PDU off the wire and settles the
submission waiting for it by sequence number, answers ``enquire_link`` and hands each
``deliver_sm`` to the provider; a keeper thread sends ``enquire_link`` when the line has
been quiet and binds again, with exponential backoff, when the connection is lost, so
that delivery receipts keep flowing between sends.

What a submission's fate means for the router is decided here, once: a PDU that was
never written was not sent (safe to retry anywhere); one that was written and got no
response (timeout, connection lost, garbage) has an unknown outcome.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from smsbridge import (
    Kind,
    MalformedResponseError,
    ProviderError,
    Scope,
    Secret,
    SmsBridgeError,
    TransportError,
)

from . import wire
from .codes import COMMAND_STATUSES, THROTTLING, status_code
from .window import Window

__all__ = ["SessionSettings", "SmppSession", "SubmitOutcome"]

logger = logging.getLogger("smsbridge.smpp")

_BIND_COMMANDS = {"transceiver": "bind_transceiver", "transmitter": "bind_transmitter"}


@attrs.frozen(kw_only=True)
class SessionSettings:
    """Where and how to bind (built by the provider from its options)."""

    host: str
    port: int
    tls: ssl.SSLContext | None
    system_id: Secret
    password: Secret
    system_type: str = ""
    bind: str = "transceiver"
    window: int = 10
    response_timeout: float = 15.0
    connect_timeout: float = 5.0
    enquire_interval: float = 30.0
    rebind_delay: float = 1.0
    max_rebind_delay: float = 60.0
    throttle_pause: float = 0.2
    max_throttle_pause: float = 5.0
    max_throttle_rounds: int = 8


@attrs.frozen
class SubmitOutcome:
    """What became of one ``submit_sm``.

    Args:
        status: The response's ``command_status``; None when none came.
        message_id: The SMSC's id (on success).
        written: The PDU left (so without a status the outcome is unknown).
        reason: Why there is no status (``"timeout"``, ``"connection lost"``...).
    """

    status: int | None
    message_id: str | None = attrs.field(default=None, kw_only=True)
    written: bool = attrs.field(default=False, kw_only=True)
    reason: str | None = attrs.field(default=None, kw_only=True)

    @property
    def unknown(self) -> bool:
        """Written and unanswered: the SMSC may have taken it."""
        return self.status is None and self.written


class _Slot:
    __slots__ = ("done", "message_id", "on_accepted", "pending", "reason", "sent_at", "status")

    def __init__(self, sent_at: float, on_accepted: Callable[[str], None] | None) -> None:
        self.on_accepted = on_accepted
        self.pending: tuple[dict[int, _Slot], int] | None = None
        self.done = threading.Event()
        self.status: int | None = None
        self.message_id: str | None = None
        self.reason: str | None = None
        self.sent_at = sent_at


class _Connection:
    def __init__(self, sock: socket.socket, now: float) -> None:
        self.sock = sock
        self.send_lock = threading.Lock()
        self.pending: dict[int, _Slot] = {}
        self.alive = True
        self.last_heard = now
        self.enquiry_sent: float | None = None
        self.unbound = threading.Event()

    def send(self, data: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(data)

    def shut(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class SmppSession:
    """A long-lived bind to one SMSC, shared by every thread that sends through it.

    Args:
        settings: Address, credentials, window and timers.
        on_deliver: Called (on the reader thread) with each ``deliver_sm`` PDU; returns
            the ``command_status`` of the ``deliver_sm_resp``.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        settings: SessionSettings,
        on_deliver: Callable[[Any], int],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._on_deliver = on_deliver
        self._clock = clock
        self._cond = threading.Condition()
        self.window = Window(
            size=settings.window,
            pause=settings.throttle_pause,
            max_pause=settings.max_throttle_pause,
        )
        self._conn: _Connection | None = None
        self._closed = False
        self._failures = 0
        self._next_bind_at = 0.0
        self._last_error: SmsBridgeError | None = None
        self._keeper: threading.Thread | None = None
        self._binding = threading.Lock()
        self.binds = 0
        """Successful binds so far (tests and benchmarks read it)."""

    # -- binding ------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        """Whether a bound connection is up."""
        conn = self._conn
        return conn is not None and conn.alive

    def ensure_bound(self) -> _Connection:
        """The live connection, binding first when there is none.

        Raises:
            TransportError: The SMSC cannot be reached, or a bind failed a moment ago and
                its backoff has not passed (``retry_after`` says how long).
            ProviderError: The SMSC refused the bind (its ``command_status``).
        """
        with self._cond:
            if self._closed:
                raise TransportError("the SMPP session is closed", provider="smpp")
            conn = self._conn
            if conn is not None and conn.alive:
                return conn
        with self._binding:  # one bind at a time: the keeper and senders may race
            with self._cond:
                conn = self._conn
                if conn is not None and conn.alive:
                    return conn
                wait = self._next_bind_at - self._clock()
                if wait > 0 and self._last_error is not None:
                    raise _again(self._last_error, wait)
            return self._bind()

    def _bind(self) -> _Connection:
        s = self.settings
        try:
            conn = self._open()
        except SmsBridgeError as exc:
            with self._cond:
                self._failures += 1
                delay = min(s.max_rebind_delay, s.rebind_delay * 2 ** (self._failures - 1))
                self._next_bind_at = self._clock() + delay
                self._last_error = exc
            logger.warning("SMPP bind failed (%s, code %s)", type(exc).__name__, exc.code)
            raise
        with self._cond:
            if self._closed:
                conn.shut()
                raise TransportError("the SMPP session is closed", provider="smpp")
            if self._conn is not None and self._conn.alive:
                conn.shut()  # another thread bound meanwhile
                return self._conn
            self._conn = conn
            self._failures = 0
            self._last_error = None
            self.window.reset()
            self.binds += 1
            self._cond.notify_all()
        threading.Thread(target=self._read_loop, args=(conn,), daemon=True).start()
        if self._keeper is None:
            self._keeper = threading.Thread(target=self._keep, daemon=True)
            self._keeper.start()
        return conn

    def _open(self) -> _Connection:
        s = self.settings
        try:
            sock = socket.create_connection((s.host, s.port), timeout=s.connect_timeout)
        except OSError:
            raise TransportError(
                f"could not connect to the SMSC at {s.host}:{s.port}", provider="smpp"
            ) from None
        try:
            # Small PDUs back to back: Nagle's algorithm would hold each one until the
            # previous is acknowledged, which a delayed ACK stretches to tens of ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if s.tls is not None:
                sock = s.tls.wrap_socket(sock, server_hostname=s.host)
            sock.settimeout(s.response_timeout)
            sequence, data = wire.encode(
                _BIND_COMMANDS[s.bind],
                system_id=s.system_id.reveal(),
                password=s.password.reveal(),
                system_type=s.system_type,
                interface_version=0x34,
            )
            sock.sendall(data)
            raw = wire.read_frame(sock)
            if raw is None:
                raise TransportError("the SMSC closed the connection on bind", provider="smpp")
            pdu = wire.decode(raw)
            if not str(pdu.command).endswith("_resp") or pdu.sequence != sequence:
                raise MalformedResponseError("unexpected answer to bind", provider="smpp")
            if pdu.status != 0:
                code = status_code(int(pdu.status))
                raise COMMAND_STATUSES.error(code)
        except OSError:
            sock.close()
            raise TransportError("the SMSC did not answer the bind", provider="smpp") from None
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)  # the reader blocks; close() unblocks it with shutdown
        return _Connection(sock, self._clock())

    # -- submitting ---------------------------------------------------------------------

    def submit(
        self,
        pdus: Sequence[Mapping[str, Any]],
        on_accepted: Sequence[Callable[[str], None] | None] = (),
    ) -> list[SubmitOutcome]:
        """Send ``submit_sm`` PDUs through the window and wait for their responses.

        Throttling answers pause the window and send the PDU again, up to
        ``max_throttle_rounds`` times; it then keeps the throttling status.

        Args:
            pdus: The fields of each ``submit_sm``.
            on_accepted: Per PDU, called with its message id on the reader thread as
                its successful response is read (before any PDU behind it).

        Returns:
            One outcome per PDU, in order.

        Raises:
            SmsBridgeError: Binding failed before any PDU was written.
        """
        outcomes: list[SubmitOutcome | None] = [None] * len(pdus)
        todo = list(range(len(pdus)))
        rounds = 0
        while todo:
            rounds += 1
            slots: list[tuple[int, _Slot | SubmitOutcome]] = []
            for index in todo:
                hook = on_accepted[index] if index < len(on_accepted) else None
                slots.append((index, self._send_one(pdus[index], hook, written_any=bool(slots))))
            todo = []
            for index, slot in slots:
                outcome = slot if isinstance(slot, SubmitOutcome) else self._await(slot)
                throttled = outcome.status is not None and outcome.status in THROTTLING
                if throttled and rounds < self.settings.max_throttle_rounds:
                    todo.append(index)
                else:
                    outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def _send_one(
        self,
        fields: Mapping[str, Any],
        on_accepted: Callable[[str], None] | None,
        *,
        written_any: bool,
    ) -> _Slot | SubmitOutcome:
        try:
            conn = self.ensure_bound()
        except SmsBridgeError as exc:
            if not written_any:
                raise
            return SubmitOutcome(None, reason=exc.message)
        with self._cond:
            while True:
                if not conn.alive:
                    return SubmitOutcome(None, reason="connection lost before sending")
                wait = self.window.wait_time(self._clock())
                if wait is None:
                    break
                self._cond.wait(min(wait, 1.0))
            sequence, data = wire.encode("submit_sm", **fields)
            slot = _Slot(self._clock(), on_accepted)
            conn.pending[sequence] = slot
            slot.pending = (conn.pending, sequence)
            self.window.sent()
        try:
            conn.send(data)
        except OSError:
            # Some of it may have left: the SMSC may have read a whole PDU.
            self._lost(conn)
        return slot

    def _await(self, slot: _Slot) -> SubmitOutcome:
        remaining = slot.sent_at + self.settings.response_timeout - self._clock()
        if not slot.done.wait(max(remaining, 0.0)):
            with self._cond:
                if not slot.done.is_set():
                    if slot.pending is not None:  # a late answer finds nothing to settle
                        slot.pending[0].pop(slot.pending[1], None)
                    slot.reason = "no submit_sm_resp in time"
                    slot.done.set()
                    self.window.answered(throttled=False, now=self._clock())
                    self._cond.notify_all()
        return SubmitOutcome(
            slot.status, message_id=slot.message_id, written=True, reason=slot.reason
        )

    # -- the reader -----------------------------------------------------------------------

    def _read_loop(self, conn: _Connection) -> None:
        try:
            while conn.alive:
                raw = wire.read_frame(conn.sock)
                if raw is None:
                    break
                conn.last_heard = self._clock()
                conn.enquiry_sent = None
                self._dispatch(conn, raw)
        except (OSError, SmsBridgeError) as exc:
            if conn.alive:
                logger.warning("SMPP connection lost (%s)", type(exc).__name__)
        finally:
            self._lost(conn)

    def _dispatch(self, conn: _Connection, raw: bytes) -> None:
        _length, command_id, status, sequence = wire.header(raw)
        if command_id in (0x80000004, 0x80000000):  # submit_sm_resp, generic_nack
            message_id = None
            if command_id == 0x80000004 and status == 0:
                message_id = _message_id(wire.decode(raw))
            self._settle(conn, sequence, status, message_id)
            return
        pdu = wire.decode(raw)
        command = str(pdu.command)
        if command == "deliver_sm":
            try:
                answer = self._on_deliver(pdu)
            except Exception as exc:  # a failing sink must not kill the reader
                logger.error("deliver_sm handler failed with %s", type(exc).__name__)
                answer = 0x64  # ESME_RX_T_APPN: the SMSC delivers it again later
            conn.send(wire.encode("deliver_sm_resp", sequence=sequence, status=answer)[1])
        elif command == "enquire_link":
            conn.send(wire.encode("enquire_link_resp", sequence=sequence)[1])
        elif command == "unbind":
            conn.send(wire.encode("unbind_resp", sequence=sequence)[1])
            conn.alive = False
        elif command == "unbind_resp":
            conn.unbound.set()
        elif command != "enquire_link_resp" and not pdu.is_response():
            conn.send(wire.encode("generic_nack", sequence=sequence, status=0x03)[1])

    def _settle(
        self, conn: _Connection, sequence: int, status: int, message_id: str | None
    ) -> None:
        with self._cond:
            slot = conn.pending.pop(sequence, None)
            if slot is None or slot.done.is_set():
                if status == 0:
                    logger.warning("a submit_sm_resp came after its submission was given up")
                return
            slot.status = status
            slot.message_id = message_id
            self.window.answered(throttled=status in THROTTLING, now=self._clock())
            self._cond.notify_all()
        if status == 0 and message_id is not None and slot.on_accepted is not None:
            try:
                slot.on_accepted(message_id)
            except Exception as exc:  # bookkeeping must not kill the reader
                logger.error("submit_sm_resp hook failed with %s", type(exc).__name__)
        slot.done.set()

    def _lost(self, conn: _Connection) -> None:
        with self._cond:
            was_alive = conn.alive
            conn.alive = False
            for slot in conn.pending.values():
                if not slot.done.is_set():
                    slot.reason = "connection lost before the answer"
                    slot.done.set()
                    self.window.answered(throttled=False, now=self._clock())
            conn.pending.clear()
            if self._conn is conn:
                self._conn = None
            self._cond.notify_all()
        if was_alive:
            with contextlib.suppress(OSError):
                conn.sock.close()

    # -- keep-alive and rebind ----------------------------------------------------------

    def _keep(self) -> None:
        s = self.settings
        tick = min(s.enquire_interval / 2, 0.5)
        while True:
            with self._cond:
                if self._closed:
                    return
                self._cond.wait(tick)
                if self._closed:
                    return
                conn, now = self._conn, self._clock()
                rebind = (conn is None or not conn.alive) and now >= self._next_bind_at
            if rebind:
                # A failure is logged by _bind; its backoff decides the next try.
                with contextlib.suppress(SmsBridgeError):
                    self.ensure_bound()
                continue
            if conn is None or not conn.alive:
                continue
            if conn.enquiry_sent is not None:
                if now - conn.enquiry_sent > s.response_timeout:
                    logger.warning("no enquire_link_resp in time: dropping the connection")
                    conn.shut()
                continue
            if now - conn.last_heard >= s.enquire_interval:
                conn.enquiry_sent = now
                try:
                    conn.send(wire.encode("enquire_link")[1])
                except OSError:
                    conn.shut()

    def close(self, timeout: float = 2.0) -> None:
        """Unbind gracefully and close; safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            conn = self._conn
            self._cond.notify_all()
        if conn is not None and conn.alive:
            try:
                conn.send(wire.encode("unbind")[1])
                conn.unbound.wait(timeout)
            except OSError:
                pass
            conn.shut()
        if self._keeper is not None:
            self._keeper.join(timeout)


def _message_id(pdu: Any) -> str | None:
    value = getattr(pdu, "message_id", None)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = str(value or "").strip("\x00").strip()
    return text or None


def _again(error: SmsBridgeError, wait: float) -> SmsBridgeError:
    if isinstance(error, ProviderError):
        return ProviderError(
            error.message,
            scope=error.scope,
            kind=error.kind,
            code=error.code,
            provider="smpp",
            retry_after=wait,
        )
    return TransportError(
        f"{error.message}; binding again in {wait:.1f} s",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT,
        provider="smpp",
        retry_after=wait,
    )
