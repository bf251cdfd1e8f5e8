"""A loopback emulator of Huawei MSGSMS: both send APIs, X-WSSE checks, status reports.

What it does (the spec's emulator checklist): validates the Authorization and X-WSSE
headers exactly and answers the matching E0000xx code; recomputes the digest from the
stored app secret (official hex-then-Base64 form, and the raw-digest variant unless
``strict_digest``); rejects ``Created`` more than 24 hours from its (injectable) clock with
E000110; decodes batchSendSms as a form and batchSendDiffSms as JSON; checks ``to``
(characters, at most 500, duplicates -> E200041 on repeats); checks values against the
registered template (E200028); answers one ``result[]`` per number with ``smsMsgId``
``<uuid>_<n>``; records accepted submissions with parts and charge; and POSTs a
form-encoded status report per part to ``statusCallback`` through the toolkit's callback
sender (so late, duplicated and out-of-order reports come from its ``CallbackPlan``).

Choices where the spec is silent (documented in docs/providers/huawei.md): an unknown
template id -> E200030 per number; a number that is not possible -> E200023 per number;
a generic Chinese mainland template without signature -> E000503; unknown app key ->
E000102; wrong digest -> E000105.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import phonenumbers

from smsbridge.sdk import Emulator, EmulatorRequest, EmulatorResponse, route

from .protocol import BATCH_PATH, DIFF_PATH, MAX_NUMBERS
from .templates import CHINESE_MAINLAND, INTERNATIONAL, check_value, fill, parts_for, placeholders
from .wsse import WsseError, digest_matches, parse_created, parse_headers, password_digest

__all__ = ["EmulatorTemplate", "HuaweiEmulator"]

MAX_SKEW_SECONDS = 24 * 3600
_HTTP_FOR = {"E000620": 403, "E000623": 403}


@attrs.frozen
class EmulatorTemplate:
    """An approved template registered on the emulator.

    Args:
        text: Template text with ``${...}`` variables (``${1}``, ``${TEXT}``, ``${NUM_6}``).
        signature: The signature name shown in 【】 (Chinese mainland).
        generic: A generic (通用) template: the request must carry ``signature``.
        region: ``"CN"`` (Chinese mainland) or ``"INTL"``.
    """

    text: str
    signature: str | None = None
    generic: bool = False
    region: str = CHINESE_MAINLAND


class _Refusal(Exception):
    def __init__(self, code: str, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.code, self.text, self.status = code, text, status


class HuaweiEmulator(Emulator):
    """Huawei MSGSMS on 127.0.0.1.

    Args:
        app_key: The application key it accepts.
        app_secret: The application secret digests are checked with.
        channel: The application's channel number; any other ``from`` gets E200018.
        strict_digest: Accept only the official hex-then-Base64 digest.
        kwargs: :class:`~smsbridge.testing.Emulator` arguments (``clock``, ``callback_plan``...).

    Attributes:
        templates: Registered templates by id (see :meth:`register_template`).
        number_status: Per-number status to answer instead of ``000000`` (e.g. E200015).
        report_status: Status-report status per number (``DELIVRD`` otherwise).
        forced: Request-level ``(code, http_status)`` answers for the next requests.
    """

    name = "huawei"

    def __init__(
        self,
        *,
        app_key: str = "emulator-app-key",
        app_secret: str = "emulator-app-secret",  # noqa: S107 - a test credential
        channel: str = "csms12345678",
        strict_digest: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.app_key, self.app_secret, self.channel = app_key, app_secret, channel
        self.strict_digest = strict_digest
        self.templates: dict[str, EmulatorTemplate] = {}
        self.number_status: dict[str, str] = {}
        self.report_status: dict[str, str] = {}
        self.forced: deque[tuple[str, int]] = deque()
        self._serial = 0

    def register_template(
        self,
        template_id: str,
        text: str,
        *,
        signature: str | None = None,
        generic: bool = False,
        region: str = CHINESE_MAINLAND,
    ) -> None:
        """Approve a template on the emulator."""
        with self.lock:
            self.templates[template_id] = EmulatorTemplate(text, signature, generic, region)

    def transient_error_response(self, request: EmulatorRequest) -> EmulatorResponse:
        """Huawei's "system error" with HTTP 503."""
        return _error("E000000", "system busy", 503)

    def echo_response(self, request: EmulatorRequest, echo: str) -> EmulatorResponse:
        """E000503 (parameter format error) quoting the request."""
        return _error("E000503", f"parameter format error: {echo}", 400)

    # -- routes ------------------------------------------------------------------------

    @route("POST", BATCH_PATH)
    def batch_send(self, request: EmulatorRequest) -> EmulatorResponse:
        """batchSendSms: form body, one template and parameter set."""
        try:
            self._authenticate(request)
            if not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                raise _Refusal("E000503", "Content-Type must be application/x-www-form-urlencoded")
            form = request.form
            common = self._common(form.get("from"), form.get("statusCallback"), form.get("extend"))
            to = _split_to(form.get("to") or "")
            params = _paras(form.get("templateParas"))
            group = (to, form.get("templateId") or "", params, form.get("signature"))
            self._check_group(*group)
        except _Refusal as refusal:
            return _error(refusal.code, refusal.text, refusal.status)
        return self._accept("batchSendSms", [group], *common, fields=form.to_dict())

    @route("POST", DIFF_PATH)
    def diff_send(self, request: EmulatorRequest) -> EmulatorResponse:
        """batchSendDiffSms: JSON body, groups with their own values."""
        try:
            self._authenticate(request)
            if "json" not in request.headers.get("content-type", ""):
                raise _Refusal("E000503", "Content-Type must be application/json")
            if len(request.body) > 64 * 1024:
                raise _Refusal("E000503", "body exceeds 64 KB")
            body = request.json
            if not isinstance(body, dict) or not isinstance(body.get("smsContent"), list):
                raise _Refusal("E000000", "request body could not be parsed")
            common = self._common(body.get("from"), body.get("statusCallback"), body.get("extend"))
            groups = []
            for entry in body["smsContent"]:
                if not isinstance(entry, dict) or not isinstance(entry.get("to"), list):
                    raise _Refusal("E000503", "smsContent[].to must be an array")
                to = [str(n) for n in entry["to"]]
                if not to or len(to) > MAX_NUMBERS or any(not _syntax_ok(n) for n in to):
                    raise _Refusal("E000503", "bad phone number format or count")
                params = entry.get("templateParas") or []
                if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                    raise _Refusal("E000000", "templateParas must be an array of strings")
                group = (to, str(entry.get("templateId") or ""), params, entry.get("signature"))
                self._check_group(*group)
                groups.append(group)
            if not groups:
                raise _Refusal("E000503", "smsContent is empty")
        except _Refusal as refusal:
            return _error(refusal.code, refusal.text, refusal.status)
        fields = {"from": str(body.get("from")), "groups": str(len(groups))}
        return self._accept("batchSendDiffSms", groups, *common, fields=fields)

    # -- checks ------------------------------------------------------------------------

    def _authenticate(self, request: EmulatorRequest) -> None:
        if self.forced:
            code, status = self.forced.popleft()
            raise _Refusal(code, f"forced {code}", status)
        try:
            token = parse_headers(
                request.headers.get("authorization"), request.headers.get("x-wsse")
            )
        except WsseError as exc:
            raise _Refusal(exc.code, exc.text, 401) from None
        if token.username != self.app_key:
            raise _Refusal("E000102", "invalid app_key", 401)
        created = parse_created(token.created)
        now = self.clock()
        if created is None or abs(created.timestamp() - now) > MAX_SKEW_SECONDS:
            raise _Refusal("E000110", "time limit exceeded", 401)
        ok = digest_matches(token.digest, token.nonce, token.created, self.app_secret)
        if self.strict_digest:
            ok = token.digest == password_digest(token.nonce, token.created, self.app_secret)
        if not ok:
            raise _Refusal("E000105", "invalid PasswordDigest", 401)

    def _common(
        self, channel: object, callback: object, extend: object
    ) -> tuple[str, str | None, str | None]:
        if not isinstance(channel, str) or not 1 <= len(channel) <= 21:
            raise _Refusal("E000503", "from must be 1-21 characters")
        if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
            raise _Refusal("E000503", "statusCallback must be at most 512 characters")
        if extend is not None:
            if not isinstance(extend, str) or not extend or "{" in extend or "}" in extend:
                raise _Refusal("E000503", "extend must be non-empty without { or }")
            if len(extend.encode()) > 128:
                raise _Refusal("E000503", "extend field exceeds 128 bytes")
        return channel, callback or None, extend

    def _check_group(
        self, to: Sequence[str], template_id: str, params: Sequence[str], signature: object
    ) -> None:
        if not 1 <= len(template_id) <= 32:
            raise _Refusal("E000503", "templateId must be 1-32 characters")
        if any(set(p) & set("'{}") for p in params):
            raise _Refusal("E000503", "special characters in template variables")
        template = self.templates.get(template_id)
        if template and template.generic and template.region == CHINESE_MAINLAND and not signature:
            raise _Refusal("E000503", "a generic template needs a signature")

    def _group_status(self, template_id: str, params: Sequence[str], channel: str) -> str:
        template = self.templates.get(template_id)
        if template is None:
            return "E200030"
        if channel != self.channel:
            return "E200018"
        attributes = placeholders(template.text)
        if len(params) != len(attributes) or any(
            check_value(a, v) for a, v in zip(attributes, params, strict=False)
        ):
            return "E200028"
        return "000000"

    # -- acceptance --------------------------------------------------------------------

    def _accept(
        self,
        command: str,
        groups: Sequence[tuple[Sequence[str], str, Sequence[str], object]],
        channel: str,
        callback: str | None,
        extend: str | None,
        *,
        fields: dict[str, str],
    ) -> EmulatorResponse:
        batch_id = str(uuid.UUID(int=self._serial * 7919 + 1))
        created = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        seen: set[str] = set()
        results = []
        for to, template_id, params, signature in groups:
            status = self._group_status(template_id, params, channel)
            template = self.templates.get(template_id)
            accepted, ids, parts_seen, charged = [], [], 1, 0
            for raw in to:
                number = _normalise(raw)
                self._serial += 1
                message_id = f"{batch_id}_{self._serial}"
                entry: dict[str, Any] = {
                    "originTo": number or raw, "createTime": created, "from": channel,
                    "smsMsgId": message_id,
                }  # fmt: skip
                if number is None:
                    code = "E200023"
                elif number in seen:
                    code = "E200041"
                else:
                    code = self.number_status.get(number, status)
                    seen.add(number)
                parts = 0
                if code == "000000" and template is not None and number is not None:
                    region = CHINESE_MAINLAND if number.startswith("+86") else INTERNATIONAL
                    sig = template.signature or (signature if isinstance(signature, str) else None)
                    parts = parts_for(template.text, list(params), sig, region)
                    parts_seen = parts
                    charged += parts
                    accepted.append(number)
                    ids.append(message_id)
                    self._report(callback, message_id, number, parts, extend)
                entry.update(status=code, countryId=_country(number), total=parts)
                results.append(entry)
            if accepted:
                text = fill(template.text, params) if template else ""
                self.record(
                    command, accepted, message_ids=ids, reference=extend, body=text,
                    parts=parts_seen, charge=Decimal(charged),
                    fields={**fields, "templateId": template_id},
                )  # fmt: skip
        return EmulatorResponse.from_json(
            {"code": "000000", "description": "Success", "result": results}
        )

    def _report(
        self, callback: str | None, message_id: str, number: str, parts: int, extend: str | None
    ) -> None:
        if not callback:
            return  # kept on the platform for an hour, never pushed
        status = self.report_status.get(number, "DELIVRD")
        updated = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for sequence in range(1, parts + 1):
            form = [
                ("sequence", str(sequence)), ("total", str(parts)), ("orgCode", "000"),
                ("updateTime", updated), ("source", "2"), ("smsMsgId", message_id),
                ("status", status),
            ]  # fmt: skip
            if extend:
                form += [("extend", extend), ("to", number)]
            self.post_callback(callback, form=form)


def _error(code: str, text: str, status: int) -> EmulatorResponse:
    return EmulatorResponse.from_json(
        {"code": code, "description": text}, status=_HTTP_FOR.get(code, status)
    )


def _syntax_ok(number: str) -> bool:
    return 0 < len(number) <= 21 and all(c.isdigit() or c == "+" for c in number)


def _split_to(value: str) -> list[str]:
    numbers = value.split(",") if value else []
    if not numbers or len(numbers) > MAX_NUMBERS or not all(_syntax_ok(n) for n in numbers):
        raise _Refusal("E000503", "bad phone number format or count")
    return numbers


def _paras(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        params = json.loads(value)
    except ValueError:
        raise _Refusal("E000000", "templateParas could not be parsed") from None
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise _Refusal("E000000", "templateParas must be a JSON array of strings")
    return params


def _normalise(number: str) -> str | None:
    digits = number.lstrip("+")
    if not number.startswith("+"):
        # The platform adds 86 to Chinese mainland numbers sent without it.
        digits = "86" + digits
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return "+" + digits


def _country(number: str | None) -> str:
    if number is None:
        return ""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""
