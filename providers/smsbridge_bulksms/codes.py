"""BulkSMS EAPI codes and what each means in smsbridge's vocabulary.

Two code spaces, both from the EAPI documentation:

* :data:`SUBMISSION_CODES`: the ``status_code`` that ``send_sms``, ``send_batch``,
  ``quote_sms``, ``get_credits`` and ``get_report`` answer a request with. Success (0, 1)
  means the submission was taken; the rest are request-level failures, raised as
  :class:`~smsbridge.ProviderError` with the outcome's scope and kind.
* :data:`REPORT_CODES`: the per-message status reported by ``get_report`` and the HTTP
  push of status reports.

The provider never reads ``status_description``: the documentation says to depend on the
code alone.
"""

from __future__ import annotations

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = [
    "REPORT_CODES",
    "SUBMISSION_CODES",
    "TRANSIENT_RETRY_CODES",
    "UPSTREAM_RETRY_CODES",
]

_P = Scope.PROVIDER
_R = Scope.RECIPIENT
_Q = Scope.REQUEST
_T = Kind.TRANSIENT
_X = Kind.PERMANENT

_BOTH = {
    "0": Outcome(Status.ACCEPTED, description="In progress"),
    # "Internal fatal error": the documentation calls every code but 40/26/28 fatal,
    # so not transient; nothing says the request was at fault, so another provider
    # may well take the same messages (provider scope).
    "22": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Internal fatal error"),
    # Bad credentials are the account's problem, not the message's: fail over.
    "23": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Authentication failure"),
    # The submission itself is invalid; any provider would refuse the same input.
    "24": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Data validation failed"),
    "25": Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_X,
        description="You do not have sufficient credits",
    ),
    # 26/28: "might have been resolved after several resend attempts" -- transient,
    # but the provider caps consecutive retries (``upstream_retry_limit``) and then
    # reports them permanent so the router stops hammering and fails over. In a
    # report it is final for that message, but the cause is upstream and passing.
    "26": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Upstream credits not available"),
    # A daily quota is per account: permanent for today here, another provider is fine.
    "27": Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_X,
        description="You have exceeded your daily quota",
    ),
    "28": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Upstream quota exceeded"),
    # The one code the documentation says to resend on.
    "40": Outcome(
        Status.FAILED_TEMPORARY, scope=_P, kind=_T, description="Temporarily unavailable"
    ),
}
"""Codes that mean the same in a request's ``status_code`` and in a report."""

SUBMISSION_CODES = CodeTable(
    "bulksms",
    {
        **_BOTH,
        "1": Outcome(Status.SCHEDULED, description="Scheduled"),
        # Listed for send_batch on the newer pages; the provider cuts batches below the
        # documented maximum, so seeing it means the request (its size) is at fault.
        "201": Outcome(
            Status.REJECTED, scope=_Q, kind=_X, description="Maximum batch size exceeded"
        ),
    },
)
"""``status_code`` of a submission, quote, credits or report request."""

TRANSIENT_RETRY_CODES = frozenset({"40"})
"""Codes the documentation says to resend on."""
UPSTREAM_RETRY_CODES = frozenset({"26", "28"})
"""Codes that "might have been resolved after several resend attempts": retry, capped."""

REPORT_CODES = CodeTable(
    "bulksms",
    {
        **_BOTH,
        # Handed to the network; final only for networks that never confirm handset
        # delivery, which the report cannot tell apart, so it stays non-final (SENT).
        "10": Outcome(Status.SENT, description="Delivered upstream"),
        "11": Outcome(Status.DELIVERED, description="Delivered to mobile"),
        # The documentation says to assume the message is still in progress.
        "12": Outcome(Status.SENT, description="Delivered upstream unacknowledged"),
        "29": Outcome(Status.CANCELLED, description="Message sending cancelled"),
        # Removed in 2006 and "never seen", but documented: a test submission that was
        # deliberately not sent, i.e. stopped by the sender's own choice.
        "30": Outcome(Status.CANCELLED, description="Test complete"),
        "31": Outcome(
            Status.FAILED_PERMANENT,
            scope=_P,
            kind=_X,
            description="Unroutable",
            reason="A routing failure is this provider's routes, not the recipient: "
            "provider scope like Clickatell 009/114 and smsmode 34/3560, so the router "
            "may fail over. Nothing says the number is wrong, so it is kept.",
        ),
        # A complaint-driven block is about this recipient; the number itself is valid.
        "32": Outcome(
            Status.REJECTED,
            scope=_R,
            kind=_X,
            description="Blocked (probably a recipient complaint against you)",
        ),
        # Censorship judges the content: the same text fails for everyone.
        "33": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Failed: censored"),
        "50": Outcome(
            Status.FAILED_PERMANENT,
            scope=_R,
            kind=_X,
            description="Delivery failed - generic failure",
        ),
        "51": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Delivery to phone failed"
        ),
        "52": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Delivery to network failed"
        ),
        # The handset stayed unreachable for the whole validity period; the number is fine.
        "53": Outcome(Status.EXPIRED, scope=_R, kind=_T, description="Message expired"),
        "54": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Failed on remote network"
        ),
        "55": Outcome(
            Status.FAILED_PERMANENT,
            scope=_R,
            kind=_X,
            description="Failed: remotely blocked (variety of reasons)",
        ),
        "56": Outcome(
            Status.FAILED_PERMANENT,
            scope=_Q,
            kind=_X,
            description="Failed: remotely censored (typically content)",
        ),
        # SIM full and similar handset faults pass; the number is fine.
        "57": Outcome(
            Status.FAILED_TEMPORARY,
            scope=_R,
            kind=_T,
            description="Failed due to fault on handset (e.g. SIM full)",
        ),
        # 60-64 are documented as transient, non-final states: the provider keeps trying.
        "60": Outcome(Status.QUEUED, description="Transient upstream failure"),
        "61": Outcome(Status.QUEUED, description="Upstream status update"),
        "62": Outcome(Status.QUEUED, description="Upstream cancel failed"),
        "63": Outcome(
            Status.QUEUED, description="Queued for retry after temporary failure delivering"
        ),
        "64": Outcome(
            Status.QUEUED,
            description="Queued for retry after temporary failure delivering, "
            "due to fault on handset",
        ),
        # The provider itself does not know: never guess.
        "70": Outcome(Status.UNKNOWN, scope=_P, kind=_T, description="Unknown upstream status"),
        "201": Outcome(
            Status.REJECTED, scope=_Q, kind=_X, description="Maximum batch size exceeded"
        ),
    },
)
"""Per-message status in ``get_report`` rows and HTTP push status reports."""
