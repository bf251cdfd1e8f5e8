"""The state behind :class:`~.emulator.ClickatellEmulator`: accounts, messages, charging.

:class:`ClickatellGateway` holds what the emulated gateway knows (sessions, balance,
messages and their statuses, open batches) and the bookkeeping every route shares:
authorising a request, accepting and charging a submission, moving statuses on and
posting callbacks. Request validation lives in :mod:`.emulator_rules`; the HTTP routes
live in :mod:`.emulator`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from smsbridge.sdk import Emulator, EmulatorRequest, EmulatorResponse

from .emulator_rules import (
    CALLBACK_STATUSES,
    FINAL,
    Refusal,
    check_message_params,
    check_number,
    err,
    price_for,
)

__all__ = ["SECRET_PARAMS", "BatchState", "ClickatellGateway", "EmulatedMessage"]

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
class BatchState:
    """An open ``startbatch`` batch: its parameters (with ``template``) and creation time."""

    params: dict[str, str]
    created: float


class ClickatellGateway(Emulator):
    """The emulated gateway's state and shared bookkeeping, without its routes.

    Takes the arguments documented on :class:`~.emulator.ClickatellEmulator`.
    """

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
        vouchers: Mapping[str, Decimal | int | str] | None = None,
        route_features: int | None = None,
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
        self.route_features = route_features
        self.vouchers = {k: Decimal(str(v)) for k, v in (vouchers or {}).items()}
        self.sessions: dict[str, float] = {}
        self.messages: dict[str, EmulatedMessage] = {}
        self.batches: dict[str, BatchState] = {}
        self._by_client: dict[str, str] = {}
        self._rng = random.Random(kwargs.get("seed", 0))
        self._sent = 0

    # -- helpers ----------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """Appendix A's "901 Internal error - Please retry", on a 200 like every answer."""
        return EmulatorResponse(200, "ERR: 901, Internal error")

    def echo_response(self, request: EmulatorRequest, echo: str) -> EmulatorResponse:
        """Error 105 quoting the request, as answers that echo it were seen to."""
        return EmulatorResponse(200, f"ERR: 105, Invalid Destination Address {echo}")

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
            # Spec 5.2.9: a route without a required feature is not used; none is left.
            over = over or (
                self.route_features is not None and checked.req_feat & ~self.route_features != 0
            )
            message = EmulatedMessage(
                api_id=self._new_id(), client_id=checked.client_id, to=number,
                sender=checked.sender, text=checked.text, parts=checked.parts,
                charge=Decimal(0) if over else charge,
                # Spec 5.2.8: over max_credits (or, 5.2.9, no route with the required
                # features) still gets an id, then routing error 009.
                status="009" if over else ("011" if checked.send_at else "003"),
                callback=checked.callback, send_at=checked.send_at,
            )  # fmt: skip
            self.balance -= message.charge
            self._sent += 1
            self.messages[message.api_id] = message
            if message.client_id:
                # A multi-destination sendmsg (a group of rows) gives every destination the
                # one climsgid: querymsg/getmsgcharge/delmsg by it then answer for the last
                # destination accepted. The spec does not say which one the gateway picks.
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

    def _batch(self, request: EmulatorRequest) -> BatchState:
        batch = self.batches.get(request.param("batch_id") or "")
        if batch is None or self.clock() - batch.created > 86400:
            raise err("201")
        return batch
