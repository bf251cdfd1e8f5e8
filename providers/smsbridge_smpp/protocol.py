"""Pure SMPP 3.4 building blocks: text to wire parts, addresses, receipts. No I/O.

The text is split by :func:`smsbridge.segment` (the same engine that prices it), then each
part is encoded as the account expects: GSM-7 as one septet per octet or packed (the
``data_coding`` convention varies between SMSCs), UCS-2 big-endian, or Latin-1 where the
account allows it. Long texts travel as concatenated parts with a User Data Header (the
default), with ``sar_*`` TLVs, or whole in one ``message_payload`` TLV.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

import attrs

from smsbridge import GSM7, UCS2, InvalidMessageError, MalformedResponseError, segment
from smsbridge.sdk import encode_septets, pack_septets

__all__ = [
    "CONCATENATION",
    "DATA_CODING",
    "ESM_RECEIPT",
    "ESM_UDHI",
    "Encoded",
    "Receipt",
    "WirePart",
    "address",
    "encode_text",
    "is_receipt",
    "parse_receipt",
    "sender_address",
]

#: ``esm_class`` bit: the short message starts with a User Data Header.
ESM_UDHI = 0x40
#: ``esm_class`` message type of an SMSC delivery receipt (bits 2-5).
ESM_RECEIPT = 0x04
_ESM_TYPE_MASK = 0x3C
#: ``data_coding`` values (section 5.2.19) of the encodings this provider sends.
DATA_CODING = {"GSM-7": 0x00, "Latin-1": 0x03, "UCS-2": 0x08}
#: How a long text travels: UDH parts, ``sar_*`` TLV parts, or one ``message_payload``.
CONCATENATION = ("udh", "sar", "payload")
#: Octets of one ``short_message``, and of the 8-bit concatenation UDH.
_SHORT_MESSAGE_OCTETS = 140
_UDH_OCTETS = 6
_LATIN1_SINGLE = _SHORT_MESSAGE_OCTETS
_LATIN1_MULTI = _SHORT_MESSAGE_OCTETS - _UDH_OCTETS
#: Largest ``message_payload`` (a two-octet length).
MAX_PAYLOAD = 0xFFFF


@attrs.frozen(kw_only=True, slots=True)
class WirePart:
    """One ``submit_sm``'s message fields.

    Args:
        short_message: The ``short_message`` octets (UDH included), empty with a payload.
        esm_class: The ``esm_class`` (UDHI set for UDH parts).
        tlvs: Optional parameters by smpplib field name (``sar_*``, ``message_payload``).
    """

    short_message: bytes
    esm_class: int = 0
    tlvs: Mapping[str, int | bytes] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True, slots=True)
class Encoded:
    """A text ready for the wire.

    Args:
        encoding: ``"GSM-7"``, ``"UCS-2"`` or ``"Latin-1"``.
        data_coding: The ``data_coding`` octet.
        parts: One :class:`WirePart` per ``submit_sm``.
        billed: SMS parts the operator bills (the segmented count, also for a payload).
    """

    encoding: str
    data_coding: int
    parts: tuple[WirePart, ...]
    billed: int


def _latin1_parts(text: str) -> tuple[bytes, ...] | None:
    try:
        octets = text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    if len(octets) <= _LATIN1_SINGLE:
        return (octets,)
    return tuple(octets[i : i + _LATIN1_MULTI] for i in range(0, len(octets), _LATIN1_MULTI))


def billed_parts(text: str, *, encoding: str | None, transliterate: bool, latin1: bool) -> int:
    """The SMS parts this account bills for ``text`` (see :func:`encode_text`).

    Raises:
        ValueError: The forced encoding cannot carry the text.
    """
    seg = segment(text, encoding=encoding, transliterate=transliterate)
    if seg.encoding == UCS2 and latin1 and encoding is None:
        latin = _latin1_parts(seg.text)
        if latin is not None:
            return len(latin)
    return max(seg.part_count, 1)


def encode_text(
    text: str,
    *,
    encoding: str | None = None,
    transliterate: bool = False,
    packed: bool = False,
    latin1: bool = False,
    concatenation: str = "udh",
    reference: int = 0,
    max_parts: int | None = None,
) -> Encoded:
    """Encode and split ``text`` for ``submit_sm``.

    Args:
        text: The message body.
        encoding: Force ``"GSM-7"`` or ``"UCS-2"``; ``None`` picks the cheapest.
        transliterate: Replace characters with GSM equivalents where that avoids UCS-2.
        packed: GSM-7 as packed septets (``data_coding`` 0 meaning packed on this SMSC)
            rather than one septet per octet.
        latin1: Send text that needs UCS-2 but fits ISO-8859-1 as Latin-1 (``0x03``).
        concatenation: ``"udh"``, ``"sar"`` or ``"payload"`` (see :data:`CONCATENATION`).
        reference: The concatenation reference shared by the parts (0-255 for UDH,
            0-65535 for ``sar_msg_ref_num``).
        max_parts: Refuse texts needing more parts.

    Raises:
        InvalidMessageError: The encoding cannot carry the text, too many parts, or a
            payload over 65535 octets; naming the field and value.
    """
    if concatenation not in CONCATENATION:
        raise InvalidMessageError(
            f"concatenation must be one of {CONCATENATION}, not {concatenation!r}",
            field="concatenation",
            value=concatenation,
        )
    try:
        seg = segment(text, encoding=encoding, transliterate=transliterate)
    except ValueError as exc:
        raise InvalidMessageError(str(exc), field="encoding", value=encoding) from None
    name = str(seg.encoding)
    chunks: tuple[bytes, ...]
    if seg.encoding == UCS2 and latin1 and encoding is None and _latin1_parts(seg.text):
        name = "Latin-1"
        chunks = _latin1_parts(seg.text) or ()
        whole = seg.text.encode("latin-1")
    elif seg.encoding == UCS2:
        chunks = tuple(part.encode("utf-16-be") for part in seg.parts)
        whole = seg.text.encode("utf-16-be")
    else:
        chunks = tuple(encode_septets(part) for part in seg.parts)
        whole = encode_septets(seg.text)
    chunks = chunks or (b"",)
    if max_parts is not None and len(chunks) > max_parts:
        raise InvalidMessageError(
            f"the text needs {len(chunks)} parts, more than the {max_parts} allowed",
            field="max_parts",
            value=len(chunks),
        )
    gsm = name == GSM7
    data_coding = DATA_CODING[name]
    if concatenation == "payload" and len(chunks) > 1:
        body = pack_septets(whole) if gsm and packed else whole
        if len(body) > MAX_PAYLOAD:
            raise InvalidMessageError(
                f"the text needs {len(body)} octets, more than a message_payload holds",
                field="body",
                value=len(body),
            )
        part = WirePart(short_message=b"", tlvs={"message_payload": body})
        return Encoded(encoding=name, data_coding=data_coding, parts=(part,), billed=len(chunks))
    total = len(chunks)
    parts: list[WirePart] = []
    for number, chunk in enumerate(chunks, start=1):
        if total == 1:
            payload = pack_septets(chunk) if gsm and packed else chunk
            parts.append(WirePart(short_message=payload))
        elif concatenation == "udh":
            udh = bytes((0x05, 0x00, 0x03, reference & 0xFF, total, number))
            # Packed text after a 6-octet header starts on the next septet boundary.
            payload = pack_septets(chunk, fill_bits=1) if gsm and packed else chunk
            parts.append(WirePart(short_message=udh + payload, esm_class=ESM_UDHI))
        else:
            payload = pack_septets(chunk) if gsm and packed else chunk
            tlvs: dict[str, int | bytes] = {
                "sar_msg_ref_num": reference & 0xFFFF,
                "sar_total_segments": total,
                "sar_segment_seqnum": number,
            }
            parts.append(WirePart(short_message=payload, tlvs=tlvs))
    return Encoded(encoding=name, data_coding=data_coding, parts=tuple(parts), billed=total)


def address(number: str) -> tuple[int, int, str]:
    """``(ton, npi, digits)`` of an E.164 destination: international, ISDN."""
    return 1, 1, number.lstrip("+")


_DIGITS = re.compile(r"^\+?[0-9]{1,20}$")
_ALNUM = re.compile(r"^[ -~]{1,11}$")


def sender_address(sender: str) -> tuple[int, int, str]:
    """``(ton, npi, address)`` of a sender id.

    ``+`` and long numbers are international (1/1), short codes unknown/ISDN (0/1), and
    anything else alphanumeric (5/0), up to 11 characters as GSM allows.

    Raises:
        InvalidMessageError: A sender that fits none of these, naming it.
    """
    if _DIGITS.match(sender):
        digits = sender.lstrip("+")
        if sender.startswith("+") or len(digits) > 8:
            return 1, 1, digits
        return 0, 1, digits
    if _ALNUM.match(sender):
        return 5, 0, sender
    raise InvalidMessageError(
        "sender must be digits (up to 20) or up to 11 printable ASCII characters",
        field="sender",
        value=sender,
    )


# -- delivery receipts ----------------------------------------------------------------


@attrs.frozen(kw_only=True, slots=True)
class Receipt:
    """A delivery receipt's fields (SMPP 3.4 Appendix B).

    Args:
        message_id: The SMSC's id of the submission it reports on.
        stat: The state word (``DELIVRD``...).
        err: The network-specific error code, if given.
        submitted_at: ``submit date``.
        done_at: ``done date``.
        fields: Every ``key:value`` pair as read.
    """

    message_id: str
    stat: str
    err: str | None = None
    submitted_at: datetime | None = None
    done_at: datetime | None = None
    fields: Mapping[str, str] = attrs.field(factory=dict)


def is_receipt(esm_class: int) -> bool:
    """Whether a ``deliver_sm``'s ``esm_class`` marks an SMSC delivery receipt."""
    return esm_class & _ESM_TYPE_MASK == ESM_RECEIPT


_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE)
_MAX_RECEIPT = 1024


def _date(text: str | None) -> datetime | None:
    if text is None or not text.isdigit() or len(text) not in (10, 12):
        return None
    try:
        fmt = "%y%m%d%H%M%S" if len(text) == 12 else "%y%m%d%H%M"
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_receipt(
    text: bytes, *, receipted_id: str | None = None, message_state: str | None = None
) -> Receipt:
    """Read a receipt's ``id:... stat:...`` text, preferring the TLVs where present.

    Args:
        text: The ``short_message`` (or ``message_payload``) octets.
        receipted_id: The ``receipted_message_id`` TLV, which wins over ``id:``.
        message_state: The ``message_state`` TLV as a ``stat`` word, which wins over
            ``stat:``.

    Returns:
        The receipt.

    Raises:
        MalformedResponseError: No message id or no state could be found, or the text
            is too long to be a receipt.
    """
    if len(text) > _MAX_RECEIPT:
        raise MalformedResponseError("delivery receipt too long", provider="smpp")
    decoded = text.decode("latin-1")
    fields: dict[str, str] = {}
    matches = list(_FIELD.finditer(decoded))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(decoded)
        key = match.group(1).lower()
        fields.setdefault(key, decoded[match.end() : end].strip())
    message_id = (receipted_id or fields.get("id") or "").strip().strip("\x00")
    stat = (message_state or fields.get("stat") or "").strip().upper()
    if not message_id or not stat or len(message_id) > 65 or not stat.isalpha():
        raise MalformedResponseError("delivery receipt without id or stat", provider="smpp")
    fields.pop("text", None)  # the first characters of the message: not kept
    return Receipt(
        message_id=message_id,
        stat=stat,
        err=fields.get("err"),
        submitted_at=_date(fields.get("submit date")),
        done_at=_date(fields.get("done date")),
        fields=fields,
    )


def receipt_text(message_id: str, stat: str, *, err: str = "000", when: datetime) -> bytes:
    """A receipt's text as SMSCs write it (used by the emulator)."""
    stamp = when.strftime("%y%m%d%H%M")
    dlvrd = "001" if stat == "DELIVRD" else "000"
    return (
        f"id:{message_id} sub:001 dlvrd:{dlvrd} submit date:{stamp} done date:{stamp} "
        f"stat:{stat} err:{err} text:"
    ).encode("ascii")
