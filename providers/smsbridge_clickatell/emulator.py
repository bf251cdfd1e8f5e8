"""A loopback emulator of Clickatell's legacy HTTP API (spec v2.6).

It serves ``/http/{auth,ping,sendmsg,querymsg,delmsg,getbalance,getmsgcharge}``,
``/http/token_pay``, ``/http_batch/{startbatch,senditem,quicksend,endbatch}`` and the
coverage query (under
``/utils/routeCoverage`` as clients use it, the spec's ``/utills/routecoverage`` and
``/http/routecoverage``), over GET or POST, with the spec's answers and error codes:
sessions that lapse after 15 minutes of inactivity (on the injectable clock), per-part
charging against a credit balance with per-prefix routes, messages whose status moves on
as they are queried (or :meth:`ClickatellEmulator.tick` is called), scheduled messages
held until their time, and status callbacks posted to :attr:`callback_url`.

Request validation lives in :mod:`.emulator_rules`, the state and the bookkeeping the
routes share in :mod:`.emulator_state`; this module holds the routes.
"""

from __future__ import annotations

from smsbridge.sdk import EmulatorRequest, EmulatorResponse, route

from .emulator_rules import Refusal, check_message_params, check_number, err, price_for
from .emulator_state import BatchState, ClickatellGateway, EmulatedMessage

__all__ = ["ClickatellEmulator", "EmulatedMessage"]


class ClickatellEmulator(ClickatellGateway):
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
        route_features: The ``req_feat`` bits the routes support; a message requiring
            another gets an id, then routing error 009 (spec 5.2.9). ``None``: all.
        vouchers: Unspent 16-digit vouchers and the credit each adds (``token_pay``).
        quirky_spacing: Drop the space after ``:`` on every other line of multi-line
            answers, as some real answers do.
        kwargs: For :class:`~smsbridge.testing.Emulator` (``clock``, ``seed``...).
    """

    name = "clickatell"

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

    @route("GET", "/http/token_pay")
    @route("POST", "/http/token_pay")
    def token_pay(self, request: EmulatorRequest) -> EmulatorResponse:
        """``OK: 605`` once a voucher of :attr:`vouchers` is spent (its credit added);
        ``ERR: 101`` for anything but an unspent 16-digit voucher (spec 6.5)."""

        def act(req: EmulatorRequest) -> str:
            token = req.param("token") or ""
            if len(token) != 16 or not token.isdigit() or token not in self.vouchers:
                raise err("101")
            self.balance += self.vouchers.pop(token)
            return "OK: 605"

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
            self.batches[batch_id] = BatchState(params, self.clock())
            return f"ID: {batch_id}"

        return self._serve(request, act)

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
