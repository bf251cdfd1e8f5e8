"""What the event hooks hand their plugins: one frozen value per thing that happened.

The dispatcher and the router only say *that* something happened (an attempt, a
decision, a breaker change); :class:`~smsbridge.observe.relay.EventRelay` turns that into
these values, with every text already passed through the bridge's
:class:`~smsbridge.credentials.Redactor`, and calls the hooks of
:class:`~smsbridge.observe.specs.EventSpecs`. Values may gain fields later, never lose
or rename one, so a plugin written today keeps working.

Numbers and message bodies are left out on purpose: a log is no place for a one-time
code or a phone number. References find the item (``smsbridge status REFERENCE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from smsbridge.errors import ErrorInfo
from smsbridge.results import Cost

__all__ = [
    "ATTEMPT",
    "BREAKER",
    "EVENTS",
    "FAILOVER",
    "INPUT_REJECTED",
    "RECONCILE",
    "REPORT",
    "RETRY",
    "WORKER_PROGRESS",
    "Attempt",
    "BreakerChange",
    "Failover",
    "Reconciliation",
    "Retry",
]

#: A request to a provider ended (:class:`Attempt`).
ATTEMPT = "smsbridge.attempt"
#: An item is put back for a later attempt (:class:`Retry`).
RETRY = "smsbridge.retry"
#: An item's attempt goes to another provider (:class:`Failover`).
FAILOVER = "smsbridge.failover"
#: A circuit breaker changed state (:class:`BreakerChange`).
BREAKER = "smsbridge.breaker"
#: A step in settling an unknown outcome (:class:`Reconciliation`).
RECONCILE = "smsbridge.reconcile"
#: A delivery report was recorded.
REPORT = "smsbridge.report"
#: A row of a recipient file was not sent.
INPUT_REJECTED = "smsbridge.input.rejected"
#: A worker's periodic progress line.
WORKER_PROGRESS = "smsbridge.worker.progress"

EVENTS = (
    ATTEMPT,
    RETRY,
    FAILOVER,
    BREAKER,
    RECONCILE,
    REPORT,
    INPUT_REJECTED,
    WORKER_PROGRESS,
)
"""Every event name; each is also the name of the logger it is logged on."""


def _frozen_counts(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Attempt:
    """One request to a provider, with how it ended.

    Args:
        provider: The provider's registered name.
        reference: The request's client reference: the item's for one recipient, the
            batch's for a grouped request (``None`` when its rows belong to several).
        recipients: How many recipients the request carried.
        started_at: When it left (seconds since the epoch).
        duration: Seconds until its answer or failure; ``None`` when the start was not
            seen (an observer appeared while the request was out).
        outcome: ``"answered"`` (per-recipient results came back), ``"failed"`` (the
            request failed as a whole and was not taken) or ``"unknown"`` (it failed
            after leaving: the provider may hold it).
        statuses: Recipients per result status (``{"accepted": 2, "rejected": 1}``);
            empty unless answered.
        parts: SMS parts the provider reported for the request (0 when it said none).
        cost: What the answer said the request cost, when it said (summed over
            recipients priced in one unit).
        error: The request's error (failed or unknown), redacted.
    """

    provider: str
    reference: str | None
    recipients: int
    started_at: float
    duration: float | None
    outcome: str
    statuses: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_counts)
    parts: int = 0
    cost: Cost | None = None
    error: ErrorInfo | None = None


@attrs.frozen(kw_only=True)
class Retry:
    """An item will be tried again later (through any usable provider).

    Args:
        provider: The provider of the attempt that failed.
        reference: The item's reference.
        attempts: Attempts made so far.
        delay: Seconds until it is due again.
        error: Why (redacted).
        excluded: The provider refused the message for good: never again for it.
    """

    provider: str
    reference: str
    attempts: int
    delay: float
    error: ErrorInfo | None
    excluded: bool = False


@attrs.frozen(kw_only=True)
class Failover:
    """An item's attempt goes to another provider than its last one did.

    Args:
        reference: The item's reference.
        from_provider: Where its last attempt went.
        to_provider: Where this one goes.
        attempts: Attempts made before this one.
        error: Why the last one failed (redacted).
    """

    reference: str
    from_provider: str
    to_provider: str
    attempts: int
    error: ErrorInfo | None


@attrs.frozen(kw_only=True)
class BreakerChange:
    """A provider's circuit breaker changed state (as seen by this process).

    Args:
        provider: The provider's registered name.
        old: ``"closed"``, ``"open"`` or ``"half_open"``.
        new: The same vocabulary.
        failures: Consecutive provider-scope failures counted.
    """

    provider: str
    old: str
    new: str
    failures: int


@attrs.frozen(kw_only=True)
class Reconciliation:
    """A step in settling an item whose outcome was unknown.

    Args:
        provider: The provider that may hold the message.
        reference: The item's reference.
        step: ``"unknown"`` (an attempt's outcome is unknown; the item waits for a
            lookup or replay), ``"lookup"`` (the provider was asked by reference),
            ``"replay"`` (the same request is sent again with the same idempotency key)
            or ``"parked"`` (nothing safe to do now; looked at again much later).
        action: What follows: ``"finish"``, ``"retry"``, ``"reconcile"``, ``"park"``
            (a replay: ``"replay"``).
        found: For a lookup: ``"found"``, ``"not-found"`` or ``"failed"``.
        status: The status a lookup found (or the one recorded).
        delay: Seconds until the item is looked at again, when it waits.
        error: The error recorded with the item (redacted).
    """

    provider: str
    reference: str
    step: str
    action: str
    found: str | None = None
    status: str | None = None
    delay: float | None = None
    error: ErrorInfo | None = None
