"""The BulkSMS EAPI provider's options."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from smsbridge.sdk import ProviderOptions, Secret, secret_converter

from .stopdup import STOP_DUP_MAX

__all__ = ["MAX_BATCH_SIZE", "BulkSmsOptions"]

MAX_BATCH_SIZE = 30_000
"""The smaller of the two documented ``send_batch`` maxima (30,000 and 50,000)."""


def _in_range(low: int, high: int) -> Any:
    return attrs.validators.and_(
        attrs.validators.instance_of(int), attrs.validators.ge(low), attrs.validators.le(high)
    )


def _zone(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"account_timezone {value!r} is not a known time zone") from None


@attrs.frozen(kw_only=True, slots=True)
class BulkSmsOptions(ProviderOptions):
    """Options of the BulkSMS EAPI provider.

    Args:
        base_url: The EAPI base, ending in ``/eapi`` (regional hosts serve the same API).
        username: The BulkSMS account name.
        password: The account password (sent in POST bodies only).
        batch_size: Messages per ``send_batch`` request (1..30,000).
        unknown_outcome_retries: Resends of a request whose outcome is unknown (same
            bytes, same ``stop_dup_id``) before giving up with ``UnknownOutcomeError``.
        upstream_retry_limit: Consecutive 26/28 refusals reported as transient; past it
            they are reported permanent so that the router fails over.
        stop_dup_start: First ``stop_dup_id`` of the in-memory counter (clock-derived
            when None).
        routing_group: Default ``routing_group`` (1, 2 or 3); the account's when None.
        want_report: Ask for delivery reports.
        account_timezone: The account's time zone (IANA name). When set, schedules go as
            ``send_time`` in that zone; otherwise as ``send_time_unixtime``.
        dry_run: ``"succeed"`` or ``"fail"``: validate only (``test_always_succeed`` /
            ``test_always_fail``); nothing is sent.
    """

    base_url: str = "https://bulksms.vsms.net/eapi"
    username: Secret = attrs.field(converter=secret_converter)
    password: Secret = attrs.field(converter=secret_converter)
    batch_size: int = attrs.field(default=10_000, validator=_in_range(1, MAX_BATCH_SIZE))
    unknown_outcome_retries: int = attrs.field(default=1, validator=_in_range(0, 10))
    upstream_retry_limit: int = attrs.field(default=3, validator=_in_range(0, 100))
    stop_dup_start: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_in_range(1, STOP_DUP_MAX))
    )
    routing_group: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_in_range(1, 3))
    )
    want_report: bool = True
    account_timezone: str | None = attrs.field(default=None, validator=_zone)
    dry_run: Literal["succeed", "fail"] | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(("succeed", "fail")))
    )
