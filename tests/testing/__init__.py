"""Tests of the emulator toolkit, and the toy emulator they share."""

from __future__ import annotations

from typing import Any

from smsbridge.testing import Emulator, EmulatorRequest, EmulatorResponse, route


class ToyEmulator(Emulator):
    """A made-up provider, small enough to read at a glance.

    ``POST /send`` (form ``to``, comma-separated, ``text``, ``ref``) answers ``{"ids": [...]}``;
    ``GET /status?id=`` answers the message's state; ``POST /login`` opens a 60 s session
    that ``GET /whoami?token=`` checks against the emulator's clock; ``GET /big?size=``
    answers that many bytes. Its transient error is a 200 with ``{"code": "T42"}``.
    """

    name = "toy"
    session_seconds = 60.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._next_id = 0
        self._sessions: dict[str, float] = {}

    @route("POST", "/send")
    def send(self, request: EmulatorRequest) -> EmulatorResponse:
        recipients = [n for n in (request.form.get("to") or "").split(",") if n]
        if not recipients:
            return EmulatorResponse.from_json({"code": "E1", "error": "no recipients"}, status=400)
        ids = []
        for _ in recipients:
            self._next_id += 1
            ids.append(f"toy-{self._next_id}")
        self.record(
            "send",
            recipients,
            message_ids=ids,
            reference=request.form.get("ref"),
            body=request.form.get("text"),
            fields=request.form.to_dict(),
        )
        return EmulatorResponse.from_json({"ids": ids})

    @route("GET", "/status")
    def status(self, request: EmulatorRequest) -> EmulatorResponse:
        wanted = request.query.get("id")
        known = any(wanted in s.message_ids for s in self.submissions)
        return EmulatorResponse.from_json(
            {"id": wanted, "state": "ACCEPTED" if known else "UNKNOWN"}
        )

    @route("POST", "/login")
    def login(self, request: EmulatorRequest) -> EmulatorResponse:
        token = f"session-{len(self._sessions) + 1}"
        self._sessions[token] = self.clock() + self.session_seconds
        return EmulatorResponse.from_json({"token": token})

    @route("GET", "/whoami")
    def whoami(self, request: EmulatorRequest) -> EmulatorResponse:
        expires = self._sessions.get(request.query.get("token") or "")
        if expires is None or self.clock() >= expires:
            return EmulatorResponse.from_json(
                {"code": "E401", "error": "session expired"}, status=401
            )
        return EmulatorResponse.from_json({"user": "toy"})

    @route("GET", "/big")
    def big(self, request: EmulatorRequest) -> EmulatorResponse:
        return EmulatorResponse(200, b"x" * int(request.query.get("size") or "1000"))

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        return EmulatorResponse.from_json({"code": "T42", "error": "busy, try later"})
