"""The unified status taxonomy every provider's codes map onto.

An application reads one vocabulary whoever sent the message. Each member answers four
questions the application acts on:

* ``is_final``: will this message's status never change again? Final statuses are never
  replaced by a later report; non-final ones are.
* ``is_success``: has nothing gone wrong so far (taken, on its way, or delivered)?
* ``retryable``: could sending the same message again, here or through another provider,
  succeed?
* ``number_invalid``: does the status say the *number itself* is wrong, so that an
  application may drop it from its address book?

``INVALID_NUMBER`` is a member of its own rather than a flag on ``REJECTED`` or
``FAILED_PERMANENT`` so that all four answers are properties of the status alone: a
temporary failure, a blacklisting or an opt-out keeps the number (smsmode's report codes
draw exactly this line), while "unassigned", "unknown subscriber" or "not a valid
destination" means the number should go.
"""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(enum.Enum):
    """Where a message stands, in terms any provider's code maps onto."""

    ACCEPTED = "accepted"
    """The provider took the submission; nothing more is known yet."""
    SCHEDULED = "scheduled"
    """Held for a later send time."""
    QUEUED = "queued"
    """Waiting inside the provider or upstream; it will be retried there."""
    SENT = "sent"
    """Handed to the operator or upstream gateway; no handset receipt yet."""
    DELIVERED = "delivered"
    """The handset confirmed receipt."""
    FAILED_TEMPORARY = "failed_temporary"
    """Not delivered, the number is fine; sending again later may work."""
    FAILED_PERMANENT = "failed_permanent"
    """Not delivered and will not be on this route."""
    INVALID_NUMBER = "invalid_number"
    """Refused or undeliverable because the number itself is wrong."""
    EXPIRED = "expired"
    """The validity period ran out before delivery."""
    CANCELLED = "cancelled"
    """Stopped by the sender before it went out."""
    REJECTED = "rejected"
    """Refused before sending: validation, credit, authentication, blocked or opted-out."""
    UNKNOWN = "unknown"
    """The outcome cannot be known (lost response, "message unknown")."""

    @property
    def is_final(self) -> bool:
        """True when no later report can change this status."""
        return self in _FINAL

    @property
    def is_success(self) -> bool:
        """True while nothing has gone wrong: taken, on its way, or delivered."""
        return self in _SUCCESS

    @property
    def is_delivered(self) -> bool:
        """True only for a confirmed handset delivery."""
        return self is Status.DELIVERED

    @property
    def is_failure(self) -> bool:
        """True for a final status that is not a delivery."""
        return self.is_final and self is not Status.DELIVERED

    @property
    def retryable(self) -> bool:
        """True when sending the same message again may succeed.

        ``UNKNOWN`` answers False: the first attempt may have been accepted, so a resend
        risks a duplicate; the router reconciles before it resends.
        ``REJECTED`` answers False for the status alone; a rejection caused by the
        provider (no credit, account blocked) carries a provider-scope error that tells
        the router to fail over.
        """
        return self in _RETRYABLE

    @property
    def number_invalid(self) -> bool:
        """True only when the number itself is wrong and may be dropped."""
        return self is Status.INVALID_NUMBER

    def can_become(self, other: Status) -> bool:
        """Whether a report saying ``other`` may replace this status.

        Final statuses never move; anything non-final may be replaced by a status
        further along. ``UNKNOWN`` yields to any news.
        """
        if self.is_final:
            return False
        if self is Status.UNKNOWN or other.is_final:
            return True
        return _PROGRESS[other] >= _PROGRESS[self]


_FINAL = frozenset(
    {
        Status.DELIVERED,
        Status.FAILED_TEMPORARY,
        Status.FAILED_PERMANENT,
        Status.INVALID_NUMBER,
        Status.EXPIRED,
        Status.CANCELLED,
        Status.REJECTED,
    }
)
_SUCCESS = frozenset(
    {Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENT, Status.DELIVERED}
)
# EXPIRED is retryable: the handset was unreachable for the whole validity period, which
# says nothing against the number or the content.
_RETRYABLE = frozenset({Status.FAILED_TEMPORARY, Status.EXPIRED})
# Order of the non-final statuses along a message's life, so that a late "accepted" does
# not overwrite an earlier "sent".
_PROGRESS = {
    Status.UNKNOWN: 0,
    Status.ACCEPTED: 1,
    Status.SCHEDULED: 2,
    Status.QUEUED: 3,
    Status.SENT: 4,
}
