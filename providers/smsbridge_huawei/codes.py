"""Huawei MSGSMS codes: request results, per-number statuses and status-report statuses.

One table for all three, because the platform shares one namespace: ``000000`` is both the
request-level and the per-number success, and the ``E200xxx`` platform codes appear both as
per-number statuses in a send response and as ``status`` in a status report.

Edge-case decisions are commented on the entry. Codes the spec lists from memory only are
marked "(name unverified)" in their description; they are kept because a real server may
send them and an unmapped code would fall back to UNKNOWN.
"""

from __future__ import annotations

import re

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = [
    "CARRIER_FAILURE",
    "CLOCK_SKEW_CODE",
    "CODES",
    "REQUEST_CODES",
    "SUCCESS",
    "report_outcome",
]

SUCCESS = "000000"
CLOCK_SKEW_CODE = "E000110"

_R, _P, _Q = Scope.RECIPIENT, Scope.PROVIDER, Scope.REQUEST
_T, _X = Kind.TRANSIENT, Kind.PERMANENT


def _auth(description: str) -> Outcome:
    return Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_X,
        description=description,
        reason="Authentication header problems are our configuration, not the message: "
        "another provider would take the same message (provider scope); retrying "
        "unchanged cannot help.",
    )


def _platform(description: str) -> Outcome:
    return Outcome(
        Status.FAILED_PERMANENT,
        scope=_R,
        kind=_X,
        description=description,
        reason="The spec lists this E200xxx code without detail: the platform refused "
        "this number; nothing says the number is wrong, nothing says retrying helps.",
    )


_ENTRIES: dict[str, Outcome] = {
    # ---- success (request and per number) -------------------------------------------
    SUCCESS: Outcome(Status.ACCEPTED, description="success; wait for the status report"),
    # ---- request-level codes -----------------------------------------------------------
    # The documented usual cause is a request the platform could not parse (bad
    # templateParas quoting): the request is at fault. A 5xx answer is treated as a
    # transient provider failure by the provider before this table is consulted.
    "E000000": Outcome(
        Status.REJECTED, scope=_Q, kind=_X, description="system error: request not understood"
    ),
    "E000001": _auth("Authorization header missing"),
    "E000002": _auth("realm missing in Authorization"),
    "E000003": _auth("profile missing in Authorization"),
    "E000004": _auth("realm must be SDP"),
    "E000005": _auth("profile must be UsernameToken"),
    "E000006": _auth("type must be Appkey"),
    "E000007": _auth("type missing in Authorization"),
    "E000008": _auth("WSSE missing in Authorization"),
    "E000020": _auth("X-WSSE header missing"),
    "E000021": _auth("UserName missing in X-WSSE"),
    "E000022": _auth("Nonce missing in X-WSSE"),
    "E000023": _auth("Created missing in X-WSSE"),
    "E000024": _auth("PasswordDigest missing in X-WSSE (name unverified)"),
    "E000025": _auth("UsernameToken missing (name unverified)"),
    "E000101": _auth("authentication failed (name unverified)"),
    "E000102": _auth("invalid app_key (name unverified)"),
    "E000103": _auth("app_key not available (name unverified)"),
    "E000104": _auth("invalid app_secret (name unverified)"),
    "E000105": _auth("invalid PasswordDigest (name unverified)"),
    "E000106": _auth("app_key has no SMS capability bound (name unverified)"),
    "E000109": _auth("user status not active (name unverified)"),
    # Our clock is off: the header is regenerated on every attempt, so only fixing the
    # clock helps. Raised as ClockSkewError by the provider.
    CLOCK_SKEW_CODE: Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_X,
        description="time limit exceeded: the local clock is off by more than 24 hours",
    ),
    "E000111": _auth("wrong username/password (name unverified)"),
    "E000112": _auth("user frozen (name unverified)"),
    "E000503": Outcome(
        Status.REJECTED, scope=_Q, kind=_X, description="parameter format error in the request"
    ),
    "E000504": Outcome(
        Status.REJECTED, scope=_Q, kind=_X, description="number count error (name unverified)"
    ),
    "E000505": Outcome(
        Status.REJECTED,
        scope=_Q,
        kind=_X,
        description="parameter length error (name unverified)",
    ),
    # With a result[] the per-number statuses decide; this outcome is used only when the
    # platform says "sending failed" and gives no per-number detail. Nothing was sent, and
    # it says nothing against the message, so another provider may be tried.
    "E000510": Outcome(
        Status.REJECTED, scope=_P, kind=_T, description="SMS sending failed; see per-number status"
    ),
    "E000620": Outcome(
        Status.REJECTED, scope=_P, kind=_X, description="caller IP not in the IP whitelist"
    ),
    # The daily/monthly cap resets with the period (or when raised in the console): try
    # another provider now, this one later.
    "E000623": Outcome(
        Status.REJECTED, scope=_P, kind=_T, description="sending volume limit reached"
    ),
    # ---- per-number platform codes (send response status, or report status) ----------
    # Platform back-pressure: the number is fine and a later attempt may pass.
    "E200015": Outcome(
        Status.FAILED_TEMPORARY, scope=_P, kind=_T, description="too many SMSs pending"
    ),
    "E200018": Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_X,
        description="sender channel check failed (from does not match the application)",
    ),
    "E200019": _platform("Huawei platform error E200019"),
    "E200020": _platform("Huawei platform error E200020"),
    "E200021": _platform("Huawei platform error E200021"),
    "E200022": _platform("Huawei platform error E200022"),
    # A number range the application's carrier table does not know: the number may well
    # be assigned (new ranges), so it is not declared invalid.
    "E200023": _platform("recipient not in the application's carrier table"),
    "E200025": _platform("Huawei platform error E200025"),
    "E200026": _platform("Huawei platform error E200026"),
    # Routing failure inside Huawei: another provider may route it.
    "E200027": Outcome(
        Status.FAILED_PERMANENT, scope=_P, kind=_X, description="gateway match failed"
    ),
    # Values are per recipient (per group), so the failure is this recipient's.
    "E200028": Outcome(
        Status.REJECTED, scope=_R, kind=_X, description="template variable check failed"
    ),
    # Template configuration problems are specific to Huawei's approved templates: the
    # same text can still go through another provider, hence PROVIDER scope.
    "E200029": Outcome(
        Status.REJECTED, scope=_P, kind=_X, description="template type check failed"
    ),
    "E200030": Outcome(Status.REJECTED, scope=_P, kind=_X, description="template not activated"),
    "E200031": Outcome(Status.REJECTED, scope=_P, kind=_X, description="protocol check failed"),
    "E200032": Outcome(Status.REJECTED, scope=_P, kind=_X, description="SMS requires a template"),
    "E200033": Outcome(Status.REJECTED, scope=_P, kind=_X, description="wrong template type"),
    "E200034": Outcome(Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="resend timeout"),
    "E200035": _platform("Huawei platform error E200035"),
    "E200036": Outcome(
        Status.FAILED_PERMANENT, scope=_P, kind=_X, description="southbound rate set to 0"
    ),
    "E200038": Outcome(
        Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="long-SMS receive timeout"
    ),
    # The platform sent one SMS to the first occurrence; this entry was dropped, not
    # charged. Not a fault of the number, and resending it would duplicate.
    "E200041": Outcome(
        Status.REJECTED,
        scope=_R,
        kind=_X,
        description="duplicate recipient in the same request (de-duplicated, sent once)",
    ),
    # ---- status report statuses --------------------------------------------------------
    "DELIVRD": Outcome(Status.DELIVERED, description="delivered to the handset"),
    "EXPIRED": Outcome(Status.EXPIRED, scope=_R, kind=_T, description="validity expired"),
    "DELETED": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="deleted"),
    "UNDELIV": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="delivery failed"),
    # Huawei lists ACCEPTD as a report status but it is not a handset receipt: the SMSC
    # took it. Non-final, so a later DELIVRD/UNDELIV replaces it.
    "ACCEPTD": Outcome(Status.SENT, description="accepted by the SMSC"),
    # Final on the platform, but smsbridge's UNKNOWN never claims a failure that may not
    # have happened; it is not retryable either, so nothing is resent blindly.
    "UNKNOWN": Outcome(Status.UNKNOWN, scope=_R, kind=_X, description="unknown"),
    "REJECTD": Outcome(Status.REJECTED, scope=_R, kind=_X, description="rejected"),
    "MILIMIT": Outcome(
        Status.FAILED_TEMPORARY,
        scope=_R,
        kind=_T,
        description="per-number per-minute limit reached; retry after a minute",
    ),
    "LIMIT": Outcome(
        Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="per-number limit reached"
    ),
    "BEYONDN": Outcome(
        Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="per-number daily limit reached"
    ),
    "CTLIMIT": Outcome(
        Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="per-number overall limit reached"
    ),
    # Content blocked: the text is at fault wherever it is sent.
    "KEYWORD": Outcome(
        Status.REJECTED, scope=_Q, kind=_X, description="content blocked by keyword"
    ),
    # Blacklisted numbers stay valid numbers: the subscriber opted out or complained.
    "BLACK": Outcome(Status.REJECTED, scope=_R, kind=_X, description="number blacklisted"),
    "TDBLACK": Outcome(
        Status.REJECTED, scope=_R, kind=_X, description="number unsubscribed (blacklist)"
    ),
    "TSBLACK": Outcome(
        Status.REJECTED, scope=_R, kind=_X, description="number complained (blacklist)"
    ),
    "MBBLACK": Outcome(
        Status.REJECTED, scope=_R, kind=_X, description="number on carrier blacklist"
    ),
    "RTE_ERR": Outcome(
        Status.FAILED_PERMANENT, scope=_P, kind=_X, description="routing error (unverified)"
    ),
    "UNDELIVE": Outcome(
        Status.FAILED_PERMANENT, scope=_R, kind=_X, description="carrier: undeliverable"
    ),
}

CODES = CodeTable("huawei", _ENTRIES)
"""Every documented Huawei code -> unified outcome."""

REQUEST_CODES = frozenset(code for code in _ENTRIES if code.startswith("E000"))
"""The request-level (``E000xxx``) codes."""

# Raw carrier codes (``MK:0208``, ``IB:0011``, ``SGIP:56``...) number in the hundreds;
# all are final failures reported by the carrier, and none documents the number as wrong.
CARRIER_FAILURE = Outcome(
    Status.FAILED_PERMANENT, scope=_R, kind=_X, description="carrier error code"
)
_CARRIER_RE = re.compile(r"^[A-Z]{1,8}:[0-9A-Za-z]{1,8}$")


def report_outcome(code: str) -> Outcome:
    """The outcome of a status-report or per-number status code.

    Args:
        code: ``DELIVRD``, ``E200028``, a raw carrier code such as ``MK:0208``...

    Returns:
        The table's outcome, :data:`CARRIER_FAILURE` for a raw carrier code, or the
        table's UNKNOWN fallback (never a success) for anything else.
    """
    code = code.strip()
    if code in CODES:
        return CODES[code]
    if _CARRIER_RE.match(code):
        return CARRIER_FAILURE
    return CODES.unknown
