"""A loopback emulator of smsmode's HTTP API 1.6.

It serves ``/http/1.6/{sendSMS,compteRendu,smsStatus,deleteSMS,credit}.do`` over GET or
POST with the documented answers: ``35`` for a missing or invalid parameter, ``32`` for
bad credentials, ``33`` when the credit does not cover the parts, the text decoded as
ISO-8859-15 (UTF-8 for ``classe_msg=9``) and silently truncated beyond ``nbr_msg`` parts,
scheduled messages held (status 10) until their ``date_envoi`` on the injectable clock,
reports moving ``0`` → ``13`` → final as they are asked for (or :meth:`tick` is called),
and each change pushed to the message's ``notification_url``.

The toolkit's callback sender always POSTs; smsmode calls with GET and a query string,
so the emulator puts the fields in the query string and sends no body: a receiver that
reads the query (as it must for smsmode) sees exactly the documented fields.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import attrs

from smsbridge import GSM7, UCS2, segment
from smsbridge.sdk import Emulator, EmulatorRequest, EmulatorResponse, route

__all__ = ["EmulatedSms", "SmsmodeEmulator"]

PREFIX = "/http/1.6"
ACCEPTED = "Accepté - le message a été accepté par le système et est en cours de traitement"
ANSWERS = {
    "31": "Erreur interne",
    "32": "Erreur d'authentification",
    "33": "Crédits insuffisants",
    "35": "Paramètre obligatoire manquant",
    "50": "Temporairement inaccessible",
    "61": "SMS introuvable",
}
STATUS_TEXT = {"0": "Sent", "10": "Scheduled", "11": "Received", "13": "Delivered to operator",
               "15": "Partially received"}  # fmt: skip
SECRET_PARAMS = frozenset({"accessToken", "pseudo", "pass"})
#: Report statuses after which nothing changes (anything but 0, 1, 10, 12, 13, 15).
PENDING = frozenset({"0", "1", "10", "12", "13", "15"})
_CHARS = {GSM7: (160, 153), UCS2: (70, 67)}


class _Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@attrs.define
class EmulatedSms:
    """One accepted ``sendSMS`` (a campaign) as the emulated platform tracks it."""

    sms_id: str
    statuses: dict[str, str]
    text: str
    parts: int
    ref_client: str | None
    notification_url: str | None
    send_at: float | None


class SmsmodeEmulator(Emulator):
    """The emulated platform.

    Args:
        access_token: The API key it accepts.
        pseudo: The legacy login it accepts...
        password: ...with this password.
        balance: Starting credit; each part to each number costs ``price``.
        price: Credits per part.
        final_status: Number (international digits) → the report status its messages
            end in (``"11"`` received by default; e.g. ``"3998"``, ``"3502"``).
        timezone: The zone of ``date_envoi`` and ``date_reception``.
        kwargs: For :class:`~smsbridge.testing.Emulator` (``clock``, ``seed``...).
    """

    name = "smsmode"

    def __init__(
        self,
        *,
        access_token: str = "Ab1CD2efg3Hi",  # noqa: S107 - the emulator's own key
        pseudo: str = "emulated-pseudo",
        password: str = "emulated-pass-91b7",  # noqa: S107
        balance: Decimal | int | str = 1000,
        price: Decimal | int | str = 1,
        final_status: Mapping[str, str] | None = None,
        timezone: str = "Europe/Paris",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.access_token, self.pseudo, self.password = access_token, pseudo, password
        self.balance = Decimal(str(balance))
        self.price = Decimal(str(price))
        self.final_status = dict(final_status or {})
        self.zone = ZoneInfo(timezone)
        self.messages: dict[str, EmulatedSms] = {}
        self._rng = random.Random(kwargs.get("seed", 0))

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """Code 50, "temporarily unavailable", on a 200 like every answer."""
        return EmulatorResponse(200, f"50 | {ANSWERS['50']}")

    def echo_response(self, request: EmulatorRequest, echo: str) -> EmulatorResponse:
        """Code 32 (authentication error) quoting the request."""
        return EmulatorResponse(200, f"32 | {ANSWERS['32']}: {echo}")

    # -- plumbing ---------------------------------------------------------------------

    @staticmethod
    def params(request: EmulatorRequest) -> dict[str, str]:
        """The request's parameters, the form body decoded as smsmode does: ISO-8859-15
        unless ``classe_msg=9``, whatever the ``Content-Type`` claims."""
        params = request.query.to_dict()
        if request.method == "POST" and request.body:
            raw = request.body.decode("ascii", errors="replace")
            first = dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))
            charset = "utf-8" if first.get("classe_msg") == "9" else "iso-8859-15"
            params.update(parse_qsl(raw, keep_blank_values=True, encoding=charset))
        return params

    def _authorise(self, params: Mapping[str, str]) -> None:
        token = params.get("accessToken")
        if token is not None:
            if token != self.access_token:
                raise _Refusal("32")
            return
        if "pseudo" not in params and "pass" not in params:
            raise _Refusal("35")
        if (params.get("pseudo"), params.get("pass")) != (self.pseudo, self.password):
            raise _Refusal("32")

    def _serve(self, request: EmulatorRequest, action: Any) -> EmulatorResponse:
        params = self.params(request)
        try:
            self._authorise(params)
            body = action(request, params)
        except _Refusal as refusal:
            body = f"{refusal.code} | {ANSWERS[refusal.code]}"
        return EmulatorResponse(200, body)

    def _new_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self._rng.choice(alphabet) for _ in range(12))

    def _find(self, params: Mapping[str, str]) -> EmulatedSms:
        sms_id = params.get("smsID")
        if not sms_id:
            raise _Refusal("35")
        if sms_id not in self.messages:
            raise _Refusal("61")
        return self.messages[sms_id]

    def _date(self, when: float) -> str:
        return datetime.fromtimestamp(when, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _set(self, sms: EmulatedSms, number: str, status: str) -> None:
        sms.statuses[number] = status
        if sms.notification_url is None:
            return
        fields = {
            "numero": number,
            "date_reception": self._date(self.clock()),
            "statut": status,
            "smsID": sms.sms_id,
            "refClient": sms.ref_client or "",
            "mcc_mnc": "20801",
            "cost": str(sms.parts * self.price),
        }
        glue = "&" if "?" in sms.notification_url else "?"
        self.post_callback(f"{sms.notification_url}{glue}{urlencode(fields)}")

    def _advance(self, sms: EmulatedSms) -> None:
        for number, status in list(sms.statuses.items()):
            if status == "10":
                if sms.send_at is not None and self.clock() >= sms.send_at:
                    self._set(sms, number, "0")
            elif status == "0":
                self._set(sms, number, "13")
            elif status == "13":
                self._set(sms, number, self.final_status.get(number, "11"))

    def tick(self) -> None:
        """Move every message one step on, as time passing would."""
        with self.lock:
            for sms in list(self.messages.values()):
                self._advance(sms)

    # -- sendSMS ------------------------------------------------------------------------

    def _numbers(self, params: Mapping[str, str], method: str) -> list[str]:
        numbers = []
        for item in params.get("numero", "").split(","):
            number = item.strip()
            if number.startswith(("06", "07")) and len(number) == 10:
                number = "33" + number[1:]
            if not number.isdigit() or not 8 <= len(number) <= 15:
                raise _Refusal("35")
            numbers.append(number)
        if method == "GET" and len(numbers) > 300:
            raise _Refusal("35")
        return numbers

    def _schedule(self, value: str | None) -> float | None:
        if not value:
            return None
        try:
            when = datetime.strptime(value, "%d%m%Y-%H:%M").replace(tzinfo=self.zone)
        except ValueError:
            raise _Refusal("35") from None
        return when.timestamp()

    @staticmethod
    def _fit(text: str, classe: str, limit: int) -> tuple[str, int]:
        encoding = UCS2 if classe == "9" else GSM7
        try:
            parts = segment(text, encoding=encoding).part_count
        except ValueError:  # smsmode prints "?" for what ISO-8859-15 text cannot carry
            parts = segment(text, encoding=UCS2).part_count
        if parts <= limit:
            return text, max(parts, 1)
        single, multi = _CHARS[encoding]
        return text[: single if limit == 1 else multi * limit], limit

    def _send(self, request: EmulatorRequest, params: Mapping[str, str]) -> str:
        text = params.get("message")
        if not text or not params.get("numero"):
            raise _Refusal("35")
        numbers = self._numbers(params, request.method)
        classe = params.get("classe_msg", "2")
        sender = params.get("emetteur")
        reference = params.get("refClient")
        try:
            limit = int(params.get("nbr_msg", "5"))
        except ValueError:
            raise _Refusal("35") from None
        if (
            classe not in ("2", "4", "9")
            or limit < 1
            or (sender is not None and (len(sender) > 11 or " " in sender or classe == "4"))
            or (reference is not None and len(reference) > 40)
            or params.get("stop", "1") not in ("1", "2")
        ):
            raise _Refusal("35")
        send_at = self._schedule(params.get("date_envoi"))
        text, parts = self._fit(text, classe, limit)
        charge = self.price * parts * len(numbers)
        if charge > self.balance:
            raise _Refusal("33")
        self.balance -= charge
        sms_id = self._new_id()
        scheduled = send_at is not None and send_at > self.clock()
        sms = EmulatedSms(
            sms_id=sms_id,
            statuses=dict.fromkeys(numbers, "10" if scheduled else "0"),
            text=text,
            parts=parts,
            ref_client=reference,
            notification_url=params.get("notification_url"),
            send_at=send_at,
        )
        self.messages[sms_id] = sms
        self.record(
            "sendSMS", numbers, message_ids=(sms_id,), reference=reference, body=text,
            parts=parts, charge=charge,
            fields={k: v for k, v in params.items() if k not in SECRET_PARAMS},
        )  # fmt: skip
        return f"0 | {ACCEPTED} | {sms_id}"

    @route("GET", f"{PREFIX}/sendSMS.do")
    @route("POST", f"{PREFIX}/sendSMS.do")
    def send_sms(self, request: EmulatorRequest) -> EmulatorResponse:
        """``sendSMS.do``."""
        return self._serve(request, self._send)

    # -- the other commands -------------------------------------------------------------

    def _report(self, request: EmulatorRequest, params: Mapping[str, str]) -> str:
        sms = self._find(params)
        self._advance(sms)
        return " | ".join(f"{n} {s}" for n, s in sms.statuses.items() if s != "10")

    def _status(self, request: EmulatorRequest, params: Mapping[str, str]) -> str:
        statuses = set(self._find(params).statuses.values())
        # Mixed outcomes with some received read as "partially received".
        code = statuses.pop() if len(statuses) == 1 else "15" if "11" in statuses else "13"
        return f"{code} | {STATUS_TEXT.get(code, 'Status')}"

    def _delete(self, request: EmulatorRequest, params: Mapping[str, str]) -> str:
        number = params.get("numero")
        if number and not params.get("smsID"):
            found = [s for s in self.messages.values() if number in s.statuses]
            if not found:
                raise _Refusal("61")
            sms = found[-1]
        else:
            sms = self._find(params)
        # Only what has not left yet can be deleted.
        if set(sms.statuses.values()) != {"10"}:
            raise _Refusal("61")
        del self.messages[sms.sms_id]
        self.balance += self.price * sms.parts * len(sms.statuses)
        return "0"

    def _credit(self, request: EmulatorRequest, params: Mapping[str, str]) -> str:
        return f"{self.balance:f}"

    @route("GET", f"{PREFIX}/compteRendu.do")
    @route("POST", f"{PREFIX}/compteRendu.do")
    def compte_rendu(self, request: EmulatorRequest) -> EmulatorResponse:
        """``compteRendu.do``: ``number status | number status``."""
        return self._serve(request, self._report)

    @route("GET", f"{PREFIX}/smsStatus.do")
    @route("POST", f"{PREFIX}/smsStatus.do")
    def sms_status(self, request: EmulatorRequest) -> EmulatorResponse:
        """``smsStatus.do``: the campaign's status."""
        return self._serve(request, self._status)

    @route("GET", f"{PREFIX}/deleteSMS.do")
    @route("POST", f"{PREFIX}/deleteSMS.do")
    def delete_sms(self, request: EmulatorRequest) -> EmulatorResponse:
        """``deleteSMS.do``: by ``smsID``, or the latest message to ``numero``."""
        return self._serve(request, self._delete)

    @route("GET", f"{PREFIX}/credit.do")
    @route("POST", f"{PREFIX}/credit.do")
    def credit(self, request: EmulatorRequest) -> EmulatorResponse:
        """``credit.do``: a bare decimal."""
        return self._serve(request, self._credit)
