"""A loopback emulator of Clickatell's legacy HTTP API (spec v2.6).

It serves ``/http/{auth,ping,sendmsg,querymsg,delmsg,getbalance,getmsgcharge}``,
``/http_batch/{startbatch,senditem,quicksend,endbatch}`` and the coverage query (under
``/utils/routeCoverage`` as clients use it, the spec's ``/utills/routecoverage`` and
``/http/routecoverage``), over GET or POST, with the spec's answers and error codes:
sessions that lapse after 15 minutes of inactivity (on the injectable clock), per-part
charging against a credit balance with per-prefix routes, messages whose status moves on
as they are queried (or :meth:`ClickatellEmulator.tick` is called), scheduled messages
held until their time, and status callbacks posted to :attr:`callback_url`.

Request validation lives in :mod:`.emulator_rules`; this module holds the state.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from smsbridge.testing import Emulator, EmulatorRequest, EmulatorResponse, route

from .emulator_rules import (
    CALLBACK_STATUSES,
    FINAL,
    Refusal,
    check_message_params,
    check_number,
    err,
    price_for,
)

__all__ = ["ClickatellEmulator", "EmulatedMessage"]

SECRET_PARAMS = frozenset({"api_id", "user", "password", "session_id"})


@attrs.define
class EmulatedMessage:
    """One accepted message as the emulated gateway tracks it."""

    api_id: str
    client_id: str | None
    to: str
    sender: str | None
    text: str
    parts: int
    charge: Decimal
    status: str
    callback: int
    send_at: float | None = None
    queries: int = 0


@attrs.define
class _BatchState:
    params: dict[str, str]
    created: float


class ClickatellEmulator(Emulator):
    """The emulated gateway.

    Args:
        api_id: The API product id it accepts.
        user: The username it accepts.
        password: The password it accepts.
        balance: Starting credit.
        prices: Prefix → charge per part; ``None`` marks an unroutable prefix (error 114).
            The longest matching prefix wins; ``""`` is the default route.
        number_errors: Number (digits) → destination error code it is refused with
            (``"121"`` blocked, ``"122"`` opted out, ``"128"`` delisted, ``"250"`` DNC).
        final_status: Number → the final status its messages reach (``"004"`` default).
        queries_until_final: Status queries (or ticks) a message stays ``003`` before
            reaching its final status.
        session_idle_limit: Seconds of inactivity that end a session (900).
        senders: Registered sender ids; ``None`` accepts any well-formed one.
        allowed_ips: IP lockdown (error 007); ``None`` allows any.
        mt_limit: Most messages accepted before error 130; ``None`` for no limit.
        frozen: Refuse everything with error 004.
        callback_url: Where status callbacks are POSTed, for messages sent with a
            ``callback`` value asking for them.
        quirky_spacing: Drop the space after ``:`` on every other line of multi-line
            answers, as some real answers do.
        kwargs: For :class:`~smsbridge.testing.Emulator` (``clock``, ``seed``...).
    """

    name = "clickatell"

    def __init__(
        self,
        *,
        api_id: str = "3141592",
        user: str = "emulated-user",
        password: str = "emulated-password-5f0c",  # noqa: S107 - an emulator's own login
        balance: Decimal | int | str = 1000,
        prices: Mapping[str, Decimal | int | str | None] | None = None,
        number_errors: Mapping[str, str] | None = None,
        final_status: Mapping[str, str] | None = None,
        queries_until_final: int = 1,
        session_idle_limit: float = 900.0,
        senders: set[str] | None = None,
        allowed_ips: set[str] | None = None,
        mt_limit: int | None = None,
        frozen: bool = False,
        callback_url: str | None = None,
        quirky_spacing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api_id, self.user, self.password = api_id, user, password
        self.balance = Decimal(str(balance))
        default_routes = {"": Decimal(1), "850": None}
        self.prices: dict[str, Decimal | None] = {
            k: None if v is None else Decimal(str(v))
            for k, v in (default_routes if prices is None else prices).items()
        }
        self.number_errors = dict(number_errors or {})
        self.final_status = dict(final_status or {})
        self.queries_until_final = queries_until_final
        self.session_idle_limit = session_idle_limit
        self.senders, self.allowed_ips = senders, allowed_ips
        self.mt_limit, self.frozen = mt_limit, frozen
        self.callback_url, self.quirky_spacing = callback_url, quirky_spacing
        self.sessions: dict[str, float] = {}
        self.messages: dict[str, EmulatedMessage] = {}
        self.batches: dict[str, _BatchState] = {}
        self._by_client: dict[str, str] = {}
        self._rng = random.Random(kwargs.get("seed", 0))
        self._sent = 0

    # -- helpers ----------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """Appendix A's "901 Internal error - Please retry", on a 200 like every answer."""
        return EmulatorResponse(200, "ERR: 901, Internal error")

    def _authorise(self, request: EmulatorRequest) -> None:
        if self.allowed_ips is not None and request.client[0] not in self.allowed_ips:
            raise err("007")
        now = self.clock()
        session = request.param("session_id")
        if session is not None:
            last = self.sessions.get(session)
            if last is None or now - last > self.session_idle_limit:
                self.sessions.pop(session, None)
                raise err("003")
            self.sessions[session] = now
        else:
            self._check_credentials(request, command="call")
        if self.frozen:
            raise err("004")

    def _check_credentials(self, request: EmulatorRequest, *, command: str) -> None:
        api_id, user = request.param("api_id"), request.param("user")
        password = request.param("password")
        if api_id is None and user is None and password is None:
            raise err("005")
        if api_id != self.api_id:
            raise err("108")
        if user != self.user or password != self.password:
            raise err("001" if command == "auth" else "002")

    def _serve(self, request: EmulatorRequest, action: Any) -> EmulatorResponse:
        try:
            self._authorise(request)
            body = action(request)
        except Refusal as refusal:
            body = refusal.line()
        return EmulatorResponse(200, body)

    def _line(self, index: int, text: str) -> str:
        return text.replace(": ", ":") if self.quirky_spacing and index % 2 else text

    def _notify(self, message: EmulatedMessage) -> None:
        if self.callback_url is None or message.status not in CALLBACK_STATUSES.get(
            message.callback, frozenset()
        ):
            return
        self.post_callback(
            self.callback_url,
            form={
                "api_id": self.api_id,
                "apiMsgId": message.api_id,
                "cliMsgId": message.client_id or "",
                "to": message.to,
                "timestamp": str(int(self.clock())),
                "from": message.sender or "",
                "status": message.status,
                "charge": f"{message.charge:.6f}",
            },
        )

    def _advance(self, message: EmulatedMessage) -> None:
        if message.status in FINAL:
            return
        if message.status == "011":
            if message.send_at is not None and self.clock() >= message.send_at:
                message.status = "003"
                self._notify(message)
            return
        message.queries += 1
        if message.queries > self.queries_until_final:
            message.status = self.final_status.get(message.to, "004")
            self._notify(message)

    def tick(self) -> None:
        """Move every message one step on, as time passing would."""
        with self.lock:
            for message in list(self.messages.values()):
                self._advance(message)

    def _find(self, request: EmulatorRequest) -> EmulatedMessage:
        api_id, client_id = request.param("apimsgid"), request.param("climsgid")
        if api_id:
            if api_id not in self.messages:
                raise err("103")
            return self.messages[api_id]
        if client_id:
            if client_id not in self._by_client:
                raise err("104")
            return self.messages[self._by_client[client_id]]
        raise err("109")

    # -- sending ----------------------------------------------------------------------

    def _accept(
        self, params: Mapping[str, str], text: str, destinations: list[str], *, multi: bool,
        command: str,
    ) -> str:  # fmt: skip
        """Validate and accept ``text`` to each destination; the answer's lines."""
        checked = check_message_params(params, text, self.clock(), self.senders)
        lines: list[str] = []
        accepted: list[EmulatedMessage] = []
        for index, number in enumerate(destinations):
            suffix = f" To: {number}" if multi else ""
            try:
                check_number(number, self.number_errors)
                price = price_for(number, self.prices)
                if self.mt_limit is not None and self._sent >= self.mt_limit:
                    until = int(self.clock()) + 86400
                    raise err("130", f"Maximum MT limit exceeded until {until}")
                charge = price * checked.parts
                if charge > self.balance:
                    raise err("301")
            except Refusal as refusal:
                lines.append(self._line(index, refusal.line() + suffix))
                continue
            over = checked.max_credits is not None and price > checked.max_credits
            message = EmulatedMessage(
                api_id=self._new_id(), client_id=checked.client_id, to=number,
                sender=checked.sender, text=checked.text, parts=checked.parts,
                charge=Decimal(0) if over else charge,
                # Spec 5.2.8: over max_credits still gets an id, then routing error 009.
                status="009" if over else ("011" if checked.send_at else "003"),
                callback=checked.callback, send_at=checked.send_at,
            )  # fmt: skip
            self.balance -= message.charge
            self._sent += 1
            self.messages[message.api_id] = message
            if message.client_id:
                self._by_client[message.client_id] = message.api_id
            accepted.append(message)
            lines.append(self._line(index, f"ID: {message.api_id}{suffix}"))
        if accepted:
            self.record(
                command,
                [f"+{m.to}" for m in accepted],
                message_ids=[m.api_id for m in accepted],
                reference=checked.client_id,
                body=checked.text,
                parts=checked.parts,
                charge=sum((m.charge for m in accepted), Decimal(0)),
                fields={k: v for k, v in params.items() if k not in SECRET_PARAMS},
            )
            for message in accepted:
                self._notify(message)
        return "\n".join(lines)

    def _destinations(self, request: EmulatorRequest) -> list[str]:
        raw = request.param("to") or ""
        numbers = [n.strip() for n in raw.split(",") if n.strip()]
        most = 300 if request.method == "POST" else 100
        if not numbers or len(numbers) > most:
            raise err("101")
        return numbers

    def _sendmsg(self, request: EmulatorRequest) -> str:
        numbers = self._destinations(request)
        params = dict(request.query.pairs) | dict(request.form.pairs)
        return self._accept(
            params, params.get("text", ""), numbers, multi=len(numbers) > 1, command="sendmsg"
        )

    # -- routes -----------------------------------------------------------------------

    @route("GET", "/http/auth")
    @route("POST", "/http/auth")
    def auth(self, request: EmulatorRequest) -> EmulatorResponse:
        """``OK: <session id>`` for valid credentials."""
        try:
            self._check_credentials(request, command="auth")
            if self.frozen:
                raise err("004")
        except Refusal as refusal:
            return EmulatorResponse(200, refusal.line())
        session = self._new_id()
        self.sessions[session] = self.clock()
        return EmulatorResponse(200, f"OK: {session}")

    @route("GET", "/http/ping")
    @route("POST", "/http/ping")
    def ping(self, request: EmulatorRequest) -> EmulatorResponse:
        """``OK:``; keeps the session alive."""
        return self._serve(request, lambda _r: "OK: ")

    @route("GET", "/http/sendmsg")
    @route("POST", "/http/sendmsg")
    def sendmsg(self, request: EmulatorRequest) -> EmulatorResponse:
        """``ID: x`` (one destination) or ``ID: x To: n`` / ``ERR: c, t To: n`` lines."""
        return self._serve(request, self._sendmsg)

    @route("GET", "/http/querymsg")
    @route("POST", "/http/querymsg")
    def querymsg(self, request: EmulatorRequest) -> EmulatorResponse:
        """``ID: x Status: nnn``; every query moves the message on one step."""

        def act(req: EmulatorRequest) -> str:
            message = self._find(req)
            self._advance(message)
            return f"ID: {message.api_id} Status: {message.status}"

        return self._serve(request, act)

    @route("GET", "/http/delmsg")
    @route("POST", "/http/delmsg")
    def delmsg(self, request: EmulatorRequest) -> EmulatorResponse:
        """Cancels a scheduled or queued message (006, refunded); else its status."""

        def act(req: EmulatorRequest) -> str:
            message = self._find(req)
            if message.status in ("011", "002"):
                message.status = "006"
                self.balance += message.charge
                self._notify(message)
            return f"ID: {message.api_id} Status: {message.status}"

        return self._serve(request, act)

    @route("GET", "/http/getbalance")
    @route("POST", "/http/getbalance")
    def getbalance(self, request: EmulatorRequest) -> EmulatorResponse:
        """``Credit: n``."""
        return self._serve(request, lambda _r: f"Credit: {self.balance}")

    @route("GET", "/http/getmsgcharge")
    @route("POST", "/http/getmsgcharge")
    def getmsgcharge(self, request: EmulatorRequest) -> EmulatorResponse:
        """``apiMsgId: x charge: y status: z`` (``cliMsgId`` first when asked by it)."""

        def act(req: EmulatorRequest) -> str:
            m = self._find(req)
            if req.param("apimsgid"):
                return f"apiMsgId: {m.api_id} charge: {m.charge} status: {m.status}"
            return f"cliMsgId: {m.client_id} charge: {m.charge} apiMsgId: {m.api_id} status: {m.status}"  # noqa: E501

        return self._serve(request, act)

    @route("GET", "/utils/routeCoverage")
    @route("POST", "/utils/routeCoverage")
    @route("GET", "/utils/routecoverage")
    @route("POST", "/utils/routecoverage")
    @route("GET", "/utills/routecoverage")
    @route("POST", "/utills/routecoverage")
    @route("GET", "/http/routecoverage")
    @route("POST", "/http/routecoverage")
    def routecoverage(self, request: EmulatorRequest) -> EmulatorResponse:
        """``OK: ... Charge: n`` or the uncoded ``ERR: ...`` of spec 6.3."""

        def act(req: EmulatorRequest) -> str:
            number = req.param("msisdn") or ""
            try:
                check_number(number, {})
                price = price_for(number, self.prices)
            except Refusal:
                return (
                    "ERR: This prefix is not currently supported. Messages sent to this "
                    "prefix will fail. Please contact support for assistance."
                )
            return (
                "OK: This prefix is currently supported. Messages sent to this prefix "
                f"will be routed. Charge: {price}"
            )

        return self._serve(request, act)

    @route("GET", "/http_batch/startbatch")
    @route("POST", "/http_batch/startbatch")
    def startbatch(self, request: EmulatorRequest) -> EmulatorResponse:
        """``ID: <batch id>``; needs a ``template`` (202), checked like a message's text."""

        def act(req: EmulatorRequest) -> str:
            params = dict(req.query.pairs) | dict(req.form.pairs)
            if not params.get("template"):
                raise err("202")
            check_message_params(params, params["template"], self.clock(), self.senders)
            batch_id = self._new_id()
            self.batches[batch_id] = _BatchState(params, self.clock())
            return f"ID: {batch_id}"

        return self._serve(request, act)

    def _batch(self, request: EmulatorRequest) -> _BatchState:
        batch = self.batches.get(request.param("batch_id") or "")
        if batch is None or self.clock() - batch.created > 86400:
            raise err("201")
        return batch

    @route("GET", "/http_batch/senditem")
    @route("POST", "/http_batch/senditem")
    def senditem(self, request: EmulatorRequest) -> EmulatorResponse:
        """``ID: x``: the batch template with ``#fieldN#`` filled from ``fieldN``."""

        def act(req: EmulatorRequest) -> str:
            batch = self._batch(req)
            params = {k: v for k, v in batch.params.items() if k != "template"}
            if req.param("climsgid"):
                params["climsgid"] = req.param("climsgid") or ""
            text = batch.params["template"]
            if params.get("unicode") != "1":  # no substitution in Unicode batches (5.2.14)
                for name, value in [*req.query.pairs, *req.form.pairs]:
                    if name.startswith("field") and name[5:].isdigit():
                        text = text.replace(f"#{name}#", value)
            return self._accept(
                params, text, self._destinations(req)[:1], multi=False, command="senditem"
            )

        return self._serve(request, act)

    @route("GET", "/http_batch/quicksend")
    @route("POST", "/http_batch/quicksend")
    def quicksend(self, request: EmulatorRequest) -> EmulatorResponse:
        """``ID: x To: n`` per destination: the batch template, unchanged, to each."""

        def act(req: EmulatorRequest) -> str:
            batch = self._batch(req)
            params = {k: v for k, v in batch.params.items() if k not in ("template", "climsgid")}
            return self._accept(
                params, batch.params["template"], self._destinations(req), multi=True,
                command="quicksend",
            )  # fmt: skip

        return self._serve(request, act)

    @route("GET", "/http_batch/endbatch")
    @route("POST", "/http_batch/endbatch")
    def endbatch(self, request: EmulatorRequest) -> EmulatorResponse:
        """``OK``; forgets the batch."""

        def act(req: EmulatorRequest) -> str:
            self._batch(req)
            self.batches.pop(req.param("batch_id") or "", None)
            return "OK"

        return self._serve(request, act)
