"""A loopback emulator of the BulkSMS EAPI, as its documentation describes it.

Speaks ``send_batch``, ``send_sms``, ``quote_sms``, ``get_credits`` and ``get_report`` over
POST (form, ISO-8859-1) or GET. It parses ``batch_data`` leniently (invalid lines ignored,
over-long values truncated), replays the original answer to a ``stop_dup_id`` seen within
``dedup_window`` seconds (failures are not remembered), answers 1 for future schedules,
charges credits per part, and answers the toolkit's ``TransientCode`` fault with code 40.

Given a ``push_url`` it also pushes status reports the way EAPI's HTTP push does: a GET
with ``msisdn``, ``batch_id``, ``status``, ``completed_time`` (``yy-MM-dd HH:mm:ss`` in the
account's zone, final reports only) and ``source_id`` (when set) as query parameters, sent
through the toolkit's callback sender (so its ``CallbackPlan`` duplicates, shuffles and
delays them). Each message reports 10 (delivered upstream) then its final status.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import attrs

from smsbridge import segment
from smsbridge.sdk import Emulator, EmulatorRequest, EmulatorResponse, route

from . import protocol
from .protocol import DIALECT

__all__ = ["AcceptedMessage", "BulkSmsEmulator"]

_BASE = "/eapi/"
_SENDER_MAX = 11
_SOURCE_ID_MAX = 20
_DCAS = frozenset({"7bit", "8bit", "16bit"})
_ROUTING_GROUPS = frozenset({"1", "2", "3"})


@attrs.frozen(slots=True)
class AcceptedMessage:
    """One message of an accepted submission, as the emulator understood it."""

    batch_id: str
    msisdn: str
    text: str
    dca: str
    parts: int
    sender: str | None = None
    msg_class: str | None = None
    routing_group: str | None = None
    source_id: str | None = None
    repliable: str | None = None


class _Refused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def _reply(text: str) -> EmulatorResponse:
    return EmulatorResponse(
        200, text.encode("iso-8859-1", "replace"), content_type="text/plain; charset=ISO-8859-1"
    )


class BulkSmsEmulator(Emulator):
    """The EAPI on loopback.

    Args:
        username: The account name it accepts.
        password: The password it accepts.
        credits: Starting credit balance.
        price_per_part: Credits charged per SMS part.
        dedup_window: Seconds a ``stop_dup_id`` is remembered ("a few hours").
        max_batch_size: Messages per ``send_batch`` beyond which it answers 201.
        account_timezone: Zone that ``send_time`` is read in.
        report_status: Status code reported for sent messages (11: delivered).
        record_bodies: Keep every accepted message (:attr:`messages`) and its report
            row. False keeps only counts, for million-recipient benchmarks (and pushes
            nothing).
        push_url: Where status reports are pushed (the account profile's HTTP push URL);
            None pushes nothing. Batches sent with ``want_report=0`` are not pushed;
            scheduled ones are pushed by :meth:`tick` once due.
        kwargs: :class:`~smsbridge.testing.Emulator` arguments (``clock``, ``seed``...).
    """

    name = "bulksms"

    def __init__(
        self,
        *,
        username: str = "emulator-user",
        password: str = "emulator-password-1",  # noqa: S107 (a test double's account)
        credits: Decimal | int | str = Decimal(100_000),
        price_per_part: Decimal | int | str = Decimal(1),
        dedup_window: float = 6 * 3600.0,
        max_batch_size: int = 30_000,
        account_timezone: str = "UTC",
        report_status: str = "11",
        record_bodies: bool = True,
        push_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.username, self.password = username, password
        self.credits = Decimal(credits)
        self.price_per_part = Decimal(price_per_part)
        self.dedup_window = dedup_window
        self.max_batch_size = max_batch_size
        self.zone = ZoneInfo(account_timezone)
        self.report_status = report_status
        self.record_bodies = record_bodies
        self.push_url = push_url
        self.messages: list[AcceptedMessage] = []
        self.accepted_count = 0
        self.next_codes: list[str] = []
        """Codes answered (without processing) to the next submissions, in order."""
        self.report_overrides: dict[str, str] = {}
        """msisdn -> status code reported instead of ``report_status``."""
        self._dedup: dict[str, tuple[float, str]] = {}
        self._reports: dict[str, tuple[float, list[str]]] = {}
        self._unpushed: dict[str, list[AcceptedMessage]] = {}
        self._next_batch = 30430

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """EAPI's own "temporarily unavailable": HTTP 200 with code 40."""
        return _reply("40|Temporarily unavailable|")

    def echo_response(self, request: EmulatorRequest, echo: str) -> EmulatorResponse:
        """Code 24 (data validation failed) quoting the request."""
        return _reply(f"24|Data validation failed: {echo}|")

    # -- helpers --------------------------------------------------------------------------

    def _params(self, request: EmulatorRequest) -> dict[str, str]:
        if not self.record_bodies:
            self.requests.clear()  # a million-recipient run must not keep every body
        pairs = list(request.query)
        if request.body:
            text = request.body.decode("ascii", "replace")
            pairs += parse_qsl(text, keep_blank_values=True, encoding=protocol.CHARSET)
        params: dict[str, str] = {}
        for name, value in pairs:
            params.setdefault(name, value)
        if params.get("username") != self.username or params.get("password") != self.password:
            raise _Refused("23", f"invalid credentials (username was: {params.get('username')})")
        return params

    def _parts(self, text: str, dca: str) -> int:
        if dca == "8bit":
            return 1  # at most 140 octets, one part
        if dca == "7bit":
            return max(1, segment(text).part_count)
        return max(1, segment(text, encoding="UCS-2").part_count)

    def _message(self, field: str, dca: str, params: Mapping[str, str]) -> tuple[str, int]:
        """Decode and truncate one body to what the request allows."""
        limit_parts = 1
        if params.get("allow_concat_text_sms") == "1":
            max_parts = params.get("concat_text_sms_max_parts", "2")
            limit_parts = int(max_parts) if max_parts.isdigit() and int(max_parts) > 0 else 1
        if dca == "7bit":
            text = protocol.decode_text(field, dca)
            limit = 160 if limit_parts == 1 else 153 * limit_parts
        else:
            if len(field) % 2 or not all(c in "0123456789abcdefABCDEF" for c in field):
                raise ValueError("not hex octets")
            octets = 140 if limit_parts == 1 or dca == "8bit" else 134 * limit_parts
            field = field[: octets * 2]  # over-long values are truncated, not refused
            text = protocol.decode_text(field, dca)
            limit = len(text)
        text = text[:limit]
        if not text:
            raise ValueError("empty message")
        return text, self._parts(text, dca)

    def _schedule(self, params: Mapping[str, str]) -> float | None:
        when: float | None = None
        if params.get("send_time_unixtime", "").isdigit():
            when = float(params["send_time_unixtime"])
        elif params.get("send_time"):
            try:
                local = datetime.strptime(params["send_time"], "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise _Refused("24", "send_time must be yyyy-mm-dd hh:mm:ss") from None
            when = local.replace(tzinfo=self.zone).astimezone(UTC).timestamp()
        return when if when is not None and when > self.clock() else None

    def _accept(
        self, command: str, params: Mapping[str, str], messages: list[AcceptedMessage]
    ) -> str:
        """Charge, record and answer an accepted submission (``messages`` lack batch ids)."""
        if params.get("test_always_fail") == "1":
            raise _Refused("22", "TEST_ALWAYS_FAIL")
        scheduled = self._schedule(params)
        code, word = ("1", "SCHEDULED") if scheduled is not None else ("0", "IN_PROGRESS")
        self._next_batch += 1
        batch_id = str(self._next_batch)
        if params.get("test_always_succeed") == "1":
            return f"{code}|{word}|{batch_id}"
        if self.next_codes:
            raise _Refused(self.next_codes.pop(0), "injected")
        charge = self.price_per_part * sum(m.parts for m in messages)
        if charge > self.credits:
            raise _Refused("25", "You do not have sufficient credits")
        self.credits -= charge
        self.accepted_count += len(messages)
        kept = {k: v for k, v in params.items() if k not in ("password", "batch_data", "message")}
        if self.record_bodies:
            stamped = [attrs.evolve(m, batch_id=batch_id) for m in messages]
            self.messages.extend(stamped)
            self._reports[batch_id] = (scheduled or 0.0, [m.msisdn for m in stamped])
            if self.push_url is not None and params.get("want_report") != "0":
                self._unpushed[batch_id] = stamped
                if scheduled is None:
                    self._push(batch_id)
            body = messages[0].text if command == "send_sms" else None
            self.record(
                command,
                [f"+{m.msisdn}" for m in messages],
                message_ids=(batch_id,),
                reference=params.get("stop_dup_id"),
                body=body,
                parts=sum(m.parts for m in messages),
                charge=charge,
                fields=kept,
            )
        else:
            self.record(
                command,
                (),
                message_ids=(batch_id,),
                reference=params.get("stop_dup_id"),
                parts=len(messages),
                charge=charge,
                fields=kept,
            )
        return f"{code}|{word}|{batch_id}"

    def _submission(self, request: EmulatorRequest, command: str) -> EmulatorResponse:
        try:
            params = self._params(request)
            dup = params.get("stop_dup_id", "")
            now = self.clock()
            if dup.isdigit() and int(dup) > 0 and dup in self._dedup:
                at, answer = self._dedup[dup]
                if now - at <= self.dedup_window:
                    return _reply(answer)
            if command == "send_batch":
                messages = self._batch_messages(params)
            else:
                messages = self._sms_messages(params)
            answer = self._accept(command, params, messages)
        except _Refused as exc:
            return _reply(f"{exc.code}|{exc.text}|")
        if dup.isdigit() and int(dup) > 0:
            self._dedup[dup] = (now, answer)
        return _reply(answer)

    def _settings(self, source: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, Any]:
        def pick(name: str) -> str | None:
            value = source.get(name) or defaults.get(name)
            return value or None

        # "Invalid values for fields will be ignored or corrected (e.g. by truncating
        # values that are too long)": the message still goes, without them.
        sender, source_id = pick("sender"), pick("source_id")
        msg_class = pick("msg_class")
        routing = pick("routing_group") or pick("cost_route")
        repliable = pick("repliable")
        repliable = repliable if repliable in ("0", "1") else None
        if repliable == "1":
            sender = None  # "this parameter will override any default sender id"
        return {
            "sender": sender[:_SENDER_MAX] if sender else None,
            "msg_class": msg_class if msg_class in ("0", "2") else None,
            "routing_group": routing if routing in _ROUTING_GROUPS else None,
            "source_id": source_id[:_SOURCE_ID_MAX] if source_id else None,
            "repliable": repliable,
        }

    def _batch_messages(self, params: Mapping[str, str]) -> list[AcceptedMessage]:
        data = params.get("batch_data", "")
        reader = csv.reader(io.StringIO(data, newline=""), dialect=DIALECT)
        header = [name.strip() for name in next(reader, [])]
        if "msisdn" not in header or "message" not in header:
            raise _Refused("24", "batch_data needs msisdn and message columns")
        out: list[AcceptedMessage] = []
        for line in reader:
            if len(line) != len(header):
                continue  # invalid lines are ignored
            row = dict(zip(header, line, strict=True))
            message = self._one(row["msisdn"], row["message"], row, params)
            if message is not None:
                out.append(message)
            if len(out) > self.max_batch_size:
                raise _Refused("201", "Maximum batch size exceeded")
        if not out:
            raise _Refused("24", "no valid lines in batch_data")
        return out

    def _one(
        self, msisdn: str, field: str, row: Mapping[str, str], params: Mapping[str, str]
    ) -> AcceptedMessage | None:
        msisdn = msisdn.strip()
        dca = row.get("dca") or params.get("dca") or "7bit"
        if not msisdn.isdigit() or dca not in _DCAS:
            return None
        try:
            text, parts = self._message(field, dca, params)
        except ValueError:
            return None
        return AcceptedMessage("", msisdn, text, dca, parts, **self._settings(row, params))

    def _sms_messages(self, params: Mapping[str, str]) -> list[AcceptedMessage]:
        numbers = [n.strip() for n in params.get("msisdn", "").split(",")]
        if not numbers or not all(n.isdigit() for n in numbers):
            raise _Refused("24", "msisdn must be digits, comma separated")
        out = [self._one(n, params.get("message", ""), {}, params) for n in numbers]
        if any(m is None for m in out):
            raise _Refused("24", "invalid message")
        return [m for m in out if m is not None]

    # -- HTTP push -------------------------------------------------------------------------

    def _push(self, batch_id: str) -> None:
        """Push the reports of one batch: 10 (delivered upstream), then the final status."""
        url = self.push_url
        messages = self._unpushed.pop(batch_id, [])
        if url is None:
            return
        completed = datetime.fromtimestamp(self.clock(), self.zone).strftime("%y-%m-%d %H:%M:%S")
        for message in messages:
            final = self.report_overrides.get(message.msisdn, self.report_status)
            base = [("msisdn", message.msisdn), ("batch_id", batch_id)]
            if message.source_id:
                base.append(("source_id", message.source_id))
            if final != "10":
                self.post_callback(url, form=[*base, ("status", "10")], method="GET")
            fields = [*base, ("status", final), ("completed_time", completed)]
            self.post_callback(url, form=fields, method="GET")

    def tick(self) -> None:
        """Push the reports of scheduled batches whose send time has come."""
        with self.lock:
            now = self.clock()
            for batch_id in list(self._unpushed):
                if self._reports.get(batch_id, (0.0, []))[0] <= now:
                    self._push(batch_id)

    # -- routes ---------------------------------------------------------------------------

    @route("POST", _BASE + protocol.SEND_BATCH_PATH)
    @route("GET", _BASE + protocol.SEND_BATCH_PATH)
    def send_batch(self, request: EmulatorRequest) -> EmulatorResponse:
        """``submission/send_batch/1/1.0``."""
        return self._submission(request, "send_batch")

    @route("POST", _BASE + protocol.SEND_SMS_PATH)
    @route("GET", _BASE + protocol.SEND_SMS_PATH)
    def send_sms(self, request: EmulatorRequest) -> EmulatorResponse:
        """``submission/send_sms/2/2.0``."""
        return self._submission(request, "send_sms")

    @route("POST", _BASE + protocol.QUOTE_PATH)
    @route("GET", _BASE + protocol.QUOTE_PATH)
    def quote_sms(self, request: EmulatorRequest) -> EmulatorResponse:
        """``submission/quote_sms/2/2.0``: ``0|Quotation issued|<credits>``."""
        try:
            messages = self._sms_messages(self._params(request))
        except _Refused as exc:
            return _reply(f"{exc.code}|{exc.text}|")
        total = self.price_per_part * sum(m.parts for m in messages)
        return _reply(f"0|Quotation issued|{total:.2f}")

    @route("POST", _BASE + protocol.CREDITS_PATH)
    @route("GET", _BASE + protocol.CREDITS_PATH)
    def get_credits(self, request: EmulatorRequest) -> EmulatorResponse:
        """``user/get_credits/1/1.1``: ``0|<credits, 2 decimals>``."""
        try:
            self._params(request)
        except _Refused as exc:
            return _reply(f"{exc.code}|{exc.text}")
        return _reply(f"0|{self.credits:.2f}")

    @route("POST", _BASE + protocol.REPORT_PATH)
    @route("GET", _BASE + protocol.REPORT_PATH)
    def get_report(self, request: EmulatorRequest) -> EmulatorResponse:
        """``status_reports/get_report/2/2.0``: header, blank line, ``msisdn|status``."""
        try:
            params = self._params(request)
        except _Refused as exc:
            return _reply(f"{exc.code}|{exc.text}")
        batch_id = params.get("batch_id", "")
        if not batch_id.isdigit():
            return _reply("24|batch_id must be a positive integer")
        lines = ["0|Results to follow", ""]
        send_at, numbers = self._reports.get(batch_id, (0.0, []))
        # A scheduled message cannot be asked about until it has been sent.
        if send_at <= self.clock():
            wanted = params.get("msisdn")
            for number in numbers:
                if not wanted or wanted == number:
                    lines.append(
                        f"{number}|{self.report_overrides.get(number, self.report_status)}"
                    )
        return _reply("\n".join(lines) + "\n")
