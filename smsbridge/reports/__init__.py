"""Delivery reports: a WSGI and ASGI callback receiver, polling, and the part-combination rule.

Every provider's reports become :class:`~smsbridge.DeliveryReport` objects with a unified
status, recorded against the message in the outbox and passed to the application through
the ``smsbridge_delivery_report`` hook. See ``docs/reports.md``.
"""

from __future__ import annotations

from smsbridge.reports.asgi import AsgiReceiver
from smsbridge.reports.auth import (
    Auth,
    BasicAuth,
    TokenAuth,
    Unauthenticated,
    Verdict,
    new_token,
)
from smsbridge.reports.combine import PartCombiner, combine_parts, most_telling
from smsbridge.reports.polling import Poller, PollSummary
from smsbridge.reports.receiver import DEFAULT_MAX_BODY, ReportReceiver
from smsbridge.reports.serve import ReportServer, serve

__all__ = [
    "DEFAULT_MAX_BODY",
    "AsgiReceiver",
    "Auth",
    "BasicAuth",
    "PartCombiner",
    "PollSummary",
    "Poller",
    "ReportReceiver",
    "ReportServer",
    "TokenAuth",
    "Unauthenticated",
    "Verdict",
    "combine_parts",
    "most_telling",
    "new_token",
    "serve",
]
