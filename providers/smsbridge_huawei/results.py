"""Reading Huawei's send answers into per-recipient results.

A send answer either refuses the whole request (raised here as the matching
:class:`~smsbridge.ProviderError`) or lists a status per number, which is matched back to
the recipients that were sent; a recipient the answer does not mention may have been sent,
so its result is UNKNOWN, never a failure to resend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from smsbridge import (
    ErrorInfo,
    Kind,
    MalformedResponseError,
    ProviderError,
    Scope,
    SendResult,
    Status,
)
from smsbridge.sdk import HttpResponse, raise_for_transport_status

from . import batch as planning
from .codes import CLOCK_SKEW_CODE, CODES, SUCCESS, report_outcome
from .protocol import ClockSkewError, NumberResult, parse_send_response

__all__ = ["interpret", "match", "unknown"]


def interpret(response: HttpResponse, *, provider: str) -> tuple[NumberResult, ...]:
    """The per-number results of a send answer, or the request-level error it carries.

    Raises:
        ProviderError: A refused request (``ClockSkewError`` for E000110; transient for
            HTTP 5xx).
        MalformedResponseError: An unreadable answer, or success without results.
    """
    try:
        parsed = parse_send_response(response.body)
    except MalformedResponseError:
        # An HTML error page from a gateway in front of the platform.
        raise_for_transport_status(response)
        raise
    if response.status >= 500:
        raise ProviderError(
            f"Huawei answered HTTP {response.status}: {parsed.description or parsed.code}",
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
            code=parsed.code,
            provider=provider,
            provider_text=parsed.description,
            retry_after=response.retry_after(),
        )
    if parsed.code == CLOCK_SKEW_CODE:
        outcome = CODES[CLOCK_SKEW_CODE]
        raise ClockSkewError(
            "Huawei refused the X-WSSE Created time: the local clock is off by more "
            f"than 24 hours (local UTC time {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
            f"{_server_time(response)}); fix the clock",
            scope=outcome.scope,
            kind=outcome.kind,
            code=parsed.code,
            provider=provider,
            provider_text=parsed.description,
        )
    if parsed.results is not None and (parsed.ok or parsed.code == "E000510"):
        return parsed.results
    if parsed.ok:
        raise MalformedResponseError(
            "Huawei answered success without per-number results",
            excerpt=response.excerpt(),
            provider=provider,
        )
    raise CODES.error(parsed.code, parsed.description or None)


def unknown(item: planning.Item, error: ErrorInfo, *, provider: str) -> SendResult:
    """An UNKNOWN result for ``item``: it may have been sent."""
    return SendResult(
        item.number, Status.UNKNOWN, provider=provider, reference=item.reference, error=error
    )


def match(
    items: Sequence[planning.Item], numbers: Iterable[NumberResult], *, provider: str
) -> list[SendResult]:
    """Pair each item with its number's result; UNKNOWN where the answer has none."""
    by_number: dict[str, list[NumberResult]] = {}
    for entry in numbers:
        by_number.setdefault(_key(entry.origin_to), []).append(entry)
    results = []
    for item in items:
        found = by_number.get(_key(item.number))
        if not found:
            results.append(
                unknown(
                    item,
                    ErrorInfo(
                        None,
                        "Huawei's response has no status for this number; it may have been sent",
                        scope=Scope.PROVIDER,
                        kind=Kind.TRANSIENT,
                    ),
                    provider=provider,
                )
            )
            continue
        entry = found.pop(0)
        outcome = report_outcome(entry.status)
        accepted = entry.status == SUCCESS
        results.append(
            SendResult(
                item.number,
                outcome.status,
                provider=provider,
                message_id=entry.message_id,
                reference=item.reference,
                parts=(entry.total or item.parts) if accepted else None,
                error=None if accepted else outcome.info(entry.status),
            )
        )
    return results


def _key(number: str) -> str:
    digits = number.strip().lstrip("+")
    if len(digits) == 11 and digits.startswith("1"):
        return "86" + digits
    return digits


def _server_time(response: HttpResponse) -> str:
    date = response.headers.get("date")
    return f", server Date {date}" if date else ""
