"""A loopback emulator of the Pigeon API, built with smsbridge's emulator toolkit.

It checks the bearer token, refuses numbers listed in :attr:`PigeonEmulator.opted_out`,
records every accepted submission (so tests can assert "sent once"), and acts out the
toolkit's faults (HTTP errors, resets, lost answers, garbage) before or after that.
"""

from __future__ import annotations

import json
from typing import Any

from smsbridge import segment
from smsbridge.sdk import Emulator, EmulatorRequest, EmulatorResponse, route

from .protocol import MAX_RECIPIENTS, SEND_PATH

__all__ = ["PigeonEmulator"]


def _answer(status: int, data: object) -> EmulatorResponse:
    return EmulatorResponse(status, json.dumps(data).encode(), content_type="application/json")


class PigeonEmulator(Emulator):
    """The Pigeon API on 127.0.0.1.

    Args:
        token: The API token it accepts.
        kwargs: :class:`~smsbridge.testing.Emulator` arguments (``clock``, ``seed``...).
    """

    name = "pigeon"

    def __init__(self, *, token: str = "pigeon-test-token-0001", **kwargs: Any) -> None:  # noqa: S107 - the emulator's own token
        super().__init__(**kwargs)
        self.token = token
        self.opted_out: set[str] = set()
        """Numbers (E.164) answered with ``P20``."""
        self._next_id = 0

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """Pigeon's own "try again later": HTTP 503 with ``P50``."""
        return _answer(503, {"error": "P50"})

    @route("POST", SEND_PATH)
    def send(self, request: EmulatorRequest) -> EmulatorResponse:
        """Accept a message to each number, or refuse the request."""
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _answer(401, {"error": "P01"})
        try:
            body = json.loads(request.body)
            to, text = list(body["to"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return _answer(400, {"error": "P10"})
        if not to or len(to) > MAX_RECIPIENTS:
            return _answer(400, {"error": "P10"})
        parts = segment(text).part_count
        entries: list[dict[str, Any]] = []
        accepted: list[str] = []
        ids: list[str] = []
        for number in to:
            if number in self.opted_out:
                entries.append({"to": number, "error": "P20"})
                continue
            self._next_id += 1
            message_id = f"pg-{self._next_id}"
            entries.append({"to": number, "id": message_id, "status": "queued", "parts": parts})
            accepted.append(number)
            ids.append(message_id)
        if accepted:
            self.record(
                "send", accepted, message_ids=ids, reference=body.get("reference"),
                body=text, parts=parts,
            )  # fmt: skip
        return _answer(200, {"messages": entries})
