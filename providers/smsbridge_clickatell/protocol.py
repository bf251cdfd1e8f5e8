"""Pure request builders and response parsers of Clickatell's legacy HTTP API.

No I/O here. Request builders live in this module; the response parsers live in
:mod:`.parsers` and are re-exported here, so ``protocol`` stays the one name to import.
Every parser takes the response text and either returns data or raises an
:class:`~smsbridge.SmsBridgeError` (see :mod:`.parsers`).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from smsbridge import BinarySegmentation, Segmentation, SendOptions, Template

from .features import MESSAGE_EXTRAS
from .parsers import PROVIDER as PROVIDER  # the name parsers report errors under
from .parsers import (
    ChargeInfo,
    SendLine,
    error_code,
    key_values,
    malformed,
    parse_balance,
    parse_charge,
    parse_coverage,
    parse_id,
    parse_ok,
    parse_send,
    parse_status,
    raise_for_error,
)

__all__ = [
    "MAX_CONCAT",
    "MAX_DESTINATIONS",
    "MAX_SCHEDULE_AHEAD",
    "SCHEDULING",
    "SEND_EXTRAS",
    "ChargeInfo",
    "SendLine",
    "batch_template",
    "client_message_id",
    "decode_unicode",
    "encode_unicode",
    "error_code",
    "key_values",
    "malformed",
    "message_fields",
    "parse_balance",
    "parse_charge",
    "parse_coverage",
    "parse_id",
    "parse_ok",
    "parse_send",
    "parse_status",
    "raise_for_error",
    "utc_now",
    "wire_number",
]

#: Destinations per ``sendmsg``/``quicksend`` submitted with POST (spec 4.3).
MAX_DESTINATIONS = 300
#: Most parts ``concat`` may ask for (spec 5.2.7).
MAX_CONCAT = 35
#: Beyond this, the gateway silently sends at once instead of scheduling (spec 5.2.16).
MAX_SCHEDULE_AHEAD = timedelta(days=7)
#: Fields that hold a message for later: an absolute time, or a delay in minutes.
SCHEDULING = frozenset({"scheduled_time", "deliv_time"})
#: Validity is 1-1440 minutes (spec 5.1); 1440 is also the default.
MAX_VALIDITY_MINUTES = 1440
#: ``sendmsg`` parameters the provider's options may set for every message; a message's
#: own ``extra`` may also set ``deliv_time`` and the binary ones (see :mod:`.features`).
SEND_EXTRAS = tuple(name for name in MESSAGE_EXTRAS if name != "deliv_time")

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


# -- requests ---------------------------------------------------------------------------


def wire_number(number: str) -> str:
    """A number as the gateway wants it: international digits, no ``+`` or ``00``.

    The bridge hands over E.164 (``+447700900123``), so dropping the ``+`` is enough;
    separators are removed for callers who pass numbers themselves.
    """
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[2:] if number.startswith("00") else digits


def client_message_id(reference: str) -> str:
    """The ``cliMsgId`` for a client reference: the reference itself when it is up to 32
    letters and digits, otherwise 32 hex characters derived from it.

    The derivation is deterministic, so a query by reference finds the message again,
    and 128 bits long, so distinct references do not collide in practice.
    """
    if _CLIENT_ID_RE.match(reference):
        return reference
    return hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]


def encode_unicode(text: str) -> str:
    """Text as the spec's ``unicode=1`` wants it: hex of UTF-16BE, no BOM (``ΩΨΘ`` →
    ``03A903A80398``)."""
    return text.encode("utf-16-be").hex().upper()


def decode_unicode(data: str) -> str:
    """The inverse of :func:`encode_unicode`, either hex case.

    Raises:
        ValueError: Odd length, a non-hex digit, or invalid UTF-16 (a lone surrogate).
    """
    if len(data) % 4 or not re.fullmatch(r"[0-9A-Fa-f]*", data):
        raise ValueError("not hex-encoded UCS-2")
    return bytes.fromhex(data).decode("utf-16-be")


def _minutes(value: timedelta) -> int:
    return max(1, math.ceil(value.total_seconds() / 60))


def message_fields(
    segmentation: Segmentation | BinarySegmentation,
    *,
    sender: str | None,
    client_id: str | None,
    options: SendOptions,
    extras: Mapping[str, str],
    now: datetime,
    text_field: str = "text",
    concat: int | None = None,
) -> list[tuple[str, str]]:
    """The message parameters of ``sendmsg`` (and ``startbatch``), without auth or ``to``.

    Args:
        segmentation: The message as it will travel; UCS-2 sends ``unicode=1`` and hex,
            binary sends ``binary=1`` and hex, or ``udh`` and ``data`` (spec 5.1).
        sender: The ``from`` address, or None for the account default.
        client_id: The ``cliMsgId`` (see :func:`client_message_id`).
        options: Scheduling, validity and callback come from here.
        extras: The checked option values (see :func:`.features.wire_extras`).
        now: The current time, to turn ``scheduled_at`` into a send time.
        text_field: ``text`` for ``sendmsg``, ``template`` for ``startbatch``.
        concat: The ``concat`` value; the part count when None.

    Returns:
        Ordered form fields.
    """
    fields: list[tuple[str, str]]
    if isinstance(segmentation, BinarySegmentation):
        if segmentation.udh:
            # A manual header: the gateway sends udh + data as one part (spec 5.1).
            fields = [("udh", segmentation.udh.hex().upper())]
            fields.append(("data", segmentation.data.hex().upper()))
        else:
            fields = [(text_field, segmentation.data.hex().upper()), ("binary", "1")]
    else:
        ucs2 = segmentation.encoding == "UCS-2"
        text = encode_unicode(segmentation.text) if ucs2 else segmentation.text
        fields = [(text_field, text)]
        if ucs2:
            fields.append(("unicode", "1"))
    parts = concat if concat is not None else segmentation.part_count
    if parts > 1:
        # concat is the most parts the gateway may use (spec 5.2.7); 1 is its default.
        fields.append(("concat", str(parts)))
    if sender is not None:
        fields.append(("from", sender))
    if client_id is not None:
        fields.append(("climsgid", client_id))
    if (
        "deliv_time" not in extras
        and options.scheduled_at is not None
        and options.scheduled_at > now
    ):
        # An absolute time (a UNIX timestamp, spec 5.2.16) rather than deliv_time's delay
        # so that a retried submission keeps the original send time.
        fields.append(("scheduled_time", str(math.ceil(options.scheduled_at.timestamp()))))
    if options.validity is not None:
        # The gateway never keeps a message longer than 1440 minutes, so a longer
        # validity means the same as the maximum.
        fields.append(("validity", str(min(_minutes(options.validity), MAX_VALIDITY_MINUTES))))
    values = dict(extras)
    if options.callback_url is not None and "callback" not in values:
        # The legacy API posts to the URL configured on the account; asking for every
        # status type (intermediate, final, error) is what a callback URL implies.
        values["callback"] = "7"
    fields.extend((key, values[key]) for key in MESSAGE_EXTRAS if key in values)
    return fields


def batch_template(template: Template) -> tuple[str, tuple[str, ...]]:
    """A smsbridge :class:`~smsbridge.Template` as a ``startbatch`` template.

    The gateway only knows fields named ``field1`` ... ``fieldN`` (spec 7.1), so each
    distinct ``{name}`` becomes ``#fieldK#`` in order of first appearance.

    Returns:
        The Clickatell template text and the variable name behind each field number.
    """
    names = template.variables
    index = {name: i for i, name in enumerate(names, start=1)}

    def swap(match: re.Match[str]) -> str:
        piece = match.group(0)
        if piece == "{{":
            return "{"
        if piece == "}}":
            return "}"
        return f"#field{index[match.group(1)]}#"

    return _PLACEHOLDER_RE.sub(swap, template.text), names


def utc_now(clock: float | None = None) -> datetime:
    """The current UTC time (from ``clock`` seconds when given)."""
    return datetime.fromtimestamp(time.time() if clock is None else clock, UTC)
