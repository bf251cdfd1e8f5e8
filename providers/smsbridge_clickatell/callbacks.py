"""Parsing of Clickatell's message-status callbacks (spec 5.2.5) into delivery reports.

The gateway calls the account's callback URL with GET (query string) or POST (form) and
the variables ``api_id, apiMsgId, cliMsgId, to, timestamp, from, status, charge``. The
XML and SOAP variants carry the same values as XML in one parameter called ``data``;
they are read with ``defusedxml`` because the body comes from the network.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl

from defusedxml import ElementTree  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from smsbridge import Cost, DeliveryReport, Kind, MalformedResponseError, ProviderError, Scope
from smsbridge.sdk import Secret

from .codes import STATUSES

__all__ = ["callback_fields", "parse_callback"]

PROVIDER = "clickatell"
_MAX_BODY = 64 * 1024
# Field names as they appear in the HTTP and XML forms, and lower-cased in SOAP.
_NAMES = {
    "apimsgid": "apiMsgId",
    "climsgid": "cliMsgId",
    "to": "to",
    "from": "from",
    "timestamp": "timestamp",
    "status": "status",
    "charge": "charge",
    "api_id": "api_id",
}
_ID_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")
_NUMBER_RE = re.compile(r"^\+?\d{1,20}$")
_CHARGE_RE = re.compile(r"^\d{1,9}(?:\.\d{1,10})?$")


def _bad(what: str) -> MalformedResponseError:
    return MalformedResponseError(f"unreadable Clickatell callback: {what}", provider=PROVIDER)


def _xml_fields(data: str | bytes) -> dict[str, str]:
    # Bytes go to the parser as they came, so it decodes them as the XML declaration
    # says: the SOAP callbacks declare ISO-8859-1 (spec 5.2.5), the XML ones nothing
    # (UTF-8).
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise _bad(f"invalid XML ({type(exc).__name__})") from None
    found: dict[str, str] = {}
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        name = _NAMES.get(local.lower())
        if name is not None and name not in found:
            found[name] = (element.text or "").strip()
    return found


def _utf8(value: str) -> str:
    # Form values were read one byte per character (latin-1); outside the XML, the
    # gateway's values are ASCII or UTF-8.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("a form value is not UTF-8") from None


def callback_fields(
    *, method: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> dict[str, str]:
    """The callback's variables by canonical name, whichever of the six forms it used.

    XML in a POST is decoded as its declaration says (ISO-8859-1 for SOAP), whether it is
    the body or the form's ``data`` parameter.

    Raises:
        MalformedResponseError: An oversized, undecodable or unparsable request.
    """
    fields: dict[str, str] = {str(k): str(v) for k, v in query.items()}
    xml: str | bytes | None = None
    if method.upper() == "POST" and body:
        if len(body) > _MAX_BODY:
            raise _bad("body too large")
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if "xml" in ctype.lower() or body.lstrip().startswith(b"<"):
            xml = body
        else:
            # latin-1 maps each byte to one character, so percent-decoded octets can be
            # turned back into bytes for the XML parser without guessing a charset.
            pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
            for key, value in pairs:
                if key.lower() == "data":
                    xml = value.strip().strip('"').encode("latin-1")
                else:
                    fields[_utf8(key)] = _utf8(value)
    if xml is None:
        data = fields.get("data", "").strip().strip('"')
        xml = data if data.startswith("<") else None
    if xml is not None and xml.lstrip()[:1] in ("<", b"<"):
        return _xml_fields(xml)
    canonical: dict[str, str] = {}
    for key, value in fields.items():
        name = _NAMES.get(key.lower())
        if name is not None and name not in canonical:
            canonical[name] = value.strip()
    return canonical


def parse_callback(
    *,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    api_id: Secret | None = None,
    received_at: datetime | None = None,
) -> list[DeliveryReport]:
    """Turn one status callback into a :class:`~smsbridge.DeliveryReport`.

    Args:
        method: ``GET`` or ``POST``.
        query: The query-string parameters.
        headers: The request headers.
        body: The raw request body.
        api_id: When given, a callback naming another ``api_id`` is refused, and one
            naming this one is ``tenant_verified``.
        received_at: When the callback arrived (now by default).

    Returns:
        A list with one report.

    Raises:
        MalformedResponseError: Required fields are missing or malformed.
        ProviderError: The callback belongs to another API product (request scope).
    """
    fields = callback_fields(method=method, query=query, headers=headers, body=body)
    message_id = fields.get("apiMsgId", "")
    status = fields.get("status", "")
    if not _ID_RE.match(message_id):
        raise _bad("missing or invalid apiMsgId")
    if not re.fullmatch(r"\d{1,3}", status):
        raise _bad("missing or invalid status")
    sender_api = fields.get("api_id")
    if (
        api_id is not None
        and sender_api
        and not hmac.compare_digest(sender_api.encode(), api_id.reveal().encode())
    ):
        raise ProviderError(
            "callback for another Clickatell API product",
            scope=Scope.REQUEST,
            kind=Kind.PERMANENT,
            provider=PROVIDER,
        )
    status = status.zfill(3)
    outcome = STATUSES.lookup(status)
    occurred = None
    stamp = fields.get("timestamp", "")
    if stamp:
        if not re.fullmatch(r"\d{1,11}", stamp):
            raise _bad("invalid timestamp")
        occurred = datetime.fromtimestamp(int(stamp), UTC)
    cost = None
    charge = fields.get("charge", "")
    if charge:
        if not _CHARGE_RE.match(charge):
            raise _bad("invalid charge")
        cost = Cost(Decimal(charge), "credits")
    to = fields.get("to", "")
    if to and not _NUMBER_RE.match(to):
        raise _bad("invalid destination")
    raw = {k: v for k, v in fields.items() if k != "api_id"}
    return [
        DeliveryReport(
            provider=PROVIDER,
            message_id=message_id,
            status=outcome.status,
            provider_code=status,
            provider_text=outcome.description,
            recipient=f"+{to.lstrip('+')}" if to else None,
            reference=fields.get("cliMsgId") or None,
            occurred_at=occurred,
            received_at=received_at or datetime.now(UTC),
            cost=cost,
            error=outcome.info(status) if outcome.is_error else None,
            raw=raw,
            tenant_verified=api_id is not None and bool(sender_api),
        )
    ]
