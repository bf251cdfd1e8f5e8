"""Pigeon's codes mapped onto smsbridge's statuses: one table, tested exhaustively."""

from __future__ import annotations

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = ["CODES"]

CODES = CodeTable(
    "pigeon",
    {
        "queued": Outcome(Status.ACCEPTED, description="Accepted for delivery"),
        "delivered": Outcome(Status.DELIVERED, description="Delivered to the handset"),
        "P01": Outcome(
            Status.REJECTED, scope=Scope.PROVIDER, kind=Kind.PERMANENT,
            description="Invalid token",
        ),
        # Another account (another provider) may still have credit: fail over.
        "P02": Outcome(
            Status.REJECTED, scope=Scope.PROVIDER, kind=Kind.PERMANENT,
            description="Out of credit",
        ),
        "P10": Outcome(
            Status.REJECTED, scope=Scope.REQUEST, kind=Kind.PERMANENT,
            description="Malformed request",
        ),
        # Opted out of this sender: the number is fine, but must not be worked around.
        "P20": Outcome(
            Status.REJECTED, scope=Scope.RECIPIENT, kind=Kind.PERMANENT,
            description="Recipient opted out",
        ),
        "P21": Outcome(
            Status.INVALID_NUMBER, scope=Scope.RECIPIENT, kind=Kind.PERMANENT,
            description="Number not in service",
        ),
        "P50": Outcome(
            Status.FAILED_TEMPORARY, scope=Scope.PROVIDER, kind=Kind.TRANSIENT,
            description="Try again later",
        ),
    },
)  # fmt: skip
