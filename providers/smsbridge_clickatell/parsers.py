"""Pure response parsers of Clickatell's legacy HTTP API (re-exported by :mod:`.protocol`).

No I/O here. Every parser takes the response text and either returns data or raises an
:class:`~smsbridge.SmsBridgeError`: a :class:`~smsbridge.ProviderError` for an
``ERR: nnn, text`` answer (its scope and kind from :mod:`.codes`), a
:class:`~smsbridge.MalformedResponseError` for anything it cannot read. Parsing is
tolerant where real gateways are known to vary (spacing around ``:``, ``\\r\\n`` line
ends, upper/lower-case hex) and strict everywhere else: an answer that is not understood
is never taken for a success.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation

import attrs

from smsbridge import MalformedResponseError, ProviderError

from .codes import DESTINATION_CODES, ERRORS

__all__ = [
    "ChargeInfo",
    "SendLine",
    "error_code",
    "key_values",
    "malformed",
    "parse_balance",
    "parse_charge",
    "parse_coverage",
    "parse_id",
    "parse_ok",
    "parse_send",
    "parse_status",
    "raise_for_error",
]

PROVIDER = "clickatell"

_MAX_LINE = 2000
_ERR_RE = re.compile(r"^ERR:\s*(\d{1,4})\s*(?:,\s*(.*?))?\s*(?:To:\s*\+?(\d{1,20}))?\s*$")
_ID_RE = re.compile(r"^ID:\s*([A-Za-z0-9]{1,64})\s*(?:To:\s*\+?(\d{1,20}))?\s*$")
_STATUS_RE = re.compile(r"^ID:\s*([A-Za-z0-9]{1,64})\s*Status:\s*(\d{1,3})\s*$")
_OK_RE = re.compile(r"^OK:?\s*(\S*)\s*$")
_CREDIT_RE = re.compile(r"^Credit:\s*(-?\d{1,15}(?:\.\d{1,10})?)\s*$")
_COVERAGE_OK_RE = re.compile(r"^OK:\s*(.*?)\s*Charge:\s*(\d{1,9}(?:\.\d{1,10})?)\s*$")
_COVERAGE_ERR_RE = re.compile(r"^ERR:\s*(\D.*)$")
_KEY_RE = re.compile(r"([A-Za-z]+):")
_UNTIL_RE = re.compile(r"until\s*<?\s*(\d{9,11})")


@attrs.frozen(slots=True)
class SendLine:
    """One destination's answer to ``sendmsg``/``quicksend``/``senditem``.

    Args:
        destination: The number the line names (``To:``), digits only, if it named one.
        message_id: The API message id, for an accepted destination.
        code: The ``ERR`` code, for a refused one.
        text: The gateway's description of the error.
    """

    destination: str | None
    message_id: str | None = None
    code: str | None = None
    text: str = ""


@attrs.frozen(slots=True)
class ChargeInfo:
    """The answer to ``getmsgcharge``."""

    message_id: str | None
    client_id: str | None
    charge: Decimal
    status: str


def malformed(what: str, text: str) -> MalformedResponseError:
    """The error for an unreadable ``what`` answer, with a short excerpt of it."""
    return MalformedResponseError(
        f"unreadable {what} response from Clickatell", excerpt=text[:200], provider=PROVIDER
    )


def _lines(text: str, what: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines or any(len(line) > _MAX_LINE for line in lines):
        raise malformed(what, text)
    return lines


def _provider_error(code: str, text: str | None, *, now: float | None = None) -> ProviderError:
    error = ERRORS.error(code, text or None)
    if code == "130" and text:
        # "Maximum MT limit exceeded until <UNIX TIME STAMP>": wait until then.
        until = _UNTIL_RE.search(text)
        if until:
            current = time.time() if now is None else now
            error.retry_after = max(0.0, float(until.group(1)) - current)
    return error


def error_code(text: str) -> str | None:
    """The three-digit code of an ``ERR: nnn, text`` answer's first line, else None."""
    match = _ERR_RE.match(text.strip().split("\n", 1)[0].strip())
    return match.group(1).zfill(3) if match else None


def raise_for_error(text: str, what: str = "Clickatell") -> None:
    """Raise the :class:`~smsbridge.ProviderError` for a single-line ``ERR`` answer.

    Raises:
        ProviderError: The body is ``ERR: nnn, text``.
        MalformedResponseError: The body is empty or an ``ERR`` line without a code.
    """
    lines = _lines(text, what)
    if lines[0].startswith("ERR"):
        match = _ERR_RE.match(lines[0])
        if not match:
            raise malformed(what, text)
        raise _provider_error(match.group(1).zfill(3), match.group(2))


def parse_ok(text: str, what: str = "auth") -> str:
    """Read ``OK: <value>`` (``auth``: the session id; ``ping``, ``endbatch``: empty).

    Raises:
        ProviderError: For ``ERR``.
        MalformedResponseError: For anything else.
    """
    raise_for_error(text, what)
    lines = _lines(text, what)
    match = _OK_RE.match(lines[0])
    if len(lines) != 1 or not match:
        raise malformed(what, text)
    return match.group(1)


def _send_line(line: str, text: str) -> SendLine:
    match = _ID_RE.match(line)
    if match:
        return SendLine(match.group(2), message_id=match.group(1))
    match = _ERR_RE.match(line)
    if match:
        code = match.group(1).zfill(3)
        return SendLine(match.group(3), code=code, text=match.group(2) or "")
    raise malformed("sendmsg", text)


def parse_send(text: str, destinations: list[str]) -> list[SendLine | None]:
    """Read a ``sendmsg``/``quicksend`` answer, one entry per destination.

    Args:
        text: The response body.
        destinations: The ``to`` values sent, in order (digits only).

    Returns:
        A :class:`SendLine` per destination, aligned with ``destinations``; None where the
        answer said nothing about that destination (its outcome is unknown).

    Raises:
        ProviderError: A single ``ERR`` line that concerns the whole request (no ``To:``,
            and not one of :data:`~.codes.DESTINATION_CODES` for a single destination).
        MalformedResponseError: Anything unreadable.
    """
    lines = [_send_line(line, text) for line in _lines(text, "sendmsg")]
    if len(lines) == 1 and lines[0].destination is None:
        only = lines[0]
        if only.code is not None and (len(destinations) != 1 or only.code not in DESTINATION_CODES):
            raise _provider_error(only.code, only.text)
        if len(destinations) != 1:
            raise malformed("sendmsg", text)
        return [attrs.evolve(only, destination=destinations[0])]
    if all(line.destination is not None for line in lines):
        # A number sent twice in one request (two rows to the same phone) is answered by
        # one line per occurrence: pair them in order, so that no two rows claim one id.
        found: dict[str, list[SendLine]] = {}
        for line in lines:
            assert line.destination is not None
            found.setdefault(line.destination, []).append(line)
        return [_take(found, number) for number in destinations]
    if all(line.destination is None for line in lines) and len(lines) == len(destinations):
        # No To: at all but one line per destination: the order is the only key left.
        pairs = zip(lines, destinations, strict=True)
        return [attrs.evolve(line, destination=d) for line, d in pairs]
    raise malformed("sendmsg", text)


def _take(found: dict[str, list[SendLine]], number: str) -> SendLine | None:
    pending = found.get(number)
    return pending.pop(0) if pending else None


def parse_id(text: str, what: str) -> str:
    """Read ``ID: <id>`` (``startbatch``, ``senditem`` with one destination).

    Raises:
        ProviderError: For ``ERR``.
        MalformedResponseError: For anything else.
    """
    raise_for_error(text, what)
    lines = _lines(text, what)
    match = _ID_RE.match(lines[0])
    if len(lines) != 1 or not match:
        raise malformed(what, text)
    return match.group(1)


def parse_status(text: str, what: str = "querymsg") -> tuple[str, str]:
    """Read ``ID: <apimsgid> Status: <nnn>`` (``querymsg``, ``delmsg``).

    Returns:
        The API message id and the three-digit status.
    """
    raise_for_error(text, what)
    lines = _lines(text, what)
    match = _STATUS_RE.match(lines[0])
    if len(lines) != 1 or not match:
        raise malformed(what, text)
    return match.group(1), match.group(2).zfill(3)


def key_values(line: str) -> dict[str, str]:
    """``key: value key: value`` pairs, keys lower-cased; spacing after ``:`` optional."""
    matches = list(_KEY_RE.finditer(line))
    pairs: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        pairs[match.group(1).lower()] = line[match.end() : end].strip()
    return pairs


def _decimal(value: str | None, what: str, text: str) -> Decimal:
    if value is None or not re.fullmatch(r"-?\d{1,15}(?:\.\d{1,10})?", value):
        raise malformed(what, text)
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise malformed(what, text) from None


def parse_charge(text: str) -> ChargeInfo:
    """Read ``getmsgcharge``: ``apiMsgId: x charge: y status: z``, keys in any order,
    optionally with ``cliMsgId``."""
    raise_for_error(text, "getmsgcharge")
    lines = _lines(text, "getmsgcharge")
    pairs = key_values(lines[0]) if len(lines) == 1 else {}
    status = pairs.get("status", "")
    api_id = pairs.get("apimsgid") or None
    if not re.fullmatch(r"\d{1,3}", status) or (api_id and not api_id.isalnum()):
        raise malformed("getmsgcharge", text)
    charge = _decimal(pairs.get("charge"), "getmsgcharge", text)
    return ChargeInfo(api_id, pairs.get("climsgid") or None, charge, status.zfill(3))


def parse_balance(text: str) -> Decimal:
    """Read ``getbalance``: ``Credit: <decimal>``."""
    raise_for_error(text, "getbalance")
    lines = _lines(text, "getbalance")
    match = _CREDIT_RE.match(lines[0])
    if len(lines) != 1 or not match:
        raise malformed("getbalance", text)
    return Decimal(match.group(1))


def parse_coverage(text: str) -> tuple[bool, Decimal | None, str]:
    """Read ``routeCoverage``: ``OK: <text> Charge: <n>`` or an uncoded ``ERR: <text>``.

    Returns:
        Whether the number is routable, the charge per part, and the gateway's text.

    Raises:
        ProviderError: For a coded ``ERR: nnn, text`` (authentication and the like).
    """
    lines = _lines(text, "routeCoverage")
    if len(lines) != 1:
        raise malformed("routeCoverage", text)
    if _ERR_RE.match(lines[0]):
        raise_for_error(text, "routeCoverage")
    match = _COVERAGE_OK_RE.match(lines[0])
    if match:
        return True, Decimal(match.group(2)), match.group(1)
    match = _COVERAGE_ERR_RE.match(lines[0])
    if match:
        return False, None, match.group(1).strip()
    raise malformed("routeCoverage", text)
