"""Clickatell's legacy HTTP API codes, mapped onto smsbridge's unified vocabulary.

The API has two separate numbering spaces that overlap (``001`` is both "authentication
failed" and "message unknown"), so the data lives in two tables side by side:

* :data:`ERRORS`: the ``ERR: nnn, text`` codes of Appendix A, returned *before* the
  gateway accepts anything (no charge). A few codes (004, 110, 111, 112, 302) are listed
  only in the Data Manager's copy of the same list; they are included because the
  gateway is documented there to return them.
* :data:`STATUSES`: the message statuses of Appendix B, reported by ``querymsg``,
  ``getmsgcharge``, ``delmsg`` and callbacks once a message has an API message id.
  There is no status 013 in the specification.

Nothing else in the package interprets a code: parsers look codes up here.
"""

from __future__ import annotations

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = ["DESTINATION_CODES", "ERRORS", "SESSION_EXPIRED", "STATUSES"]

_R, _Q, _P = Scope.RECIPIENT, Scope.REQUEST, Scope.PROVIDER
_T, _X = Kind.TRANSIENT, Kind.PERMANENT

#: Errors about one destination rather than the request or the account: the gateway may
#: return them without a ``To:`` for a single destination, and they are that recipient's
#: result, never a reason to abort the rest of a batch. 114 is among them although its
#: scope is the provider: it speaks about this number's prefix only.
DESTINATION_CODES = frozenset({"105", "114", "121", "122", "128", "250"})

#: The error code that makes the provider re-authenticate and repeat the call once.
SESSION_EXPIRED = "003"

ERRORS = CodeTable(
    "clickatell",
    {
        # -- authentication: the account or its configuration, so another provider may
        # -- succeed; retrying the same credentials here will not.
        "001": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Authentication failed"),
        "002": Outcome(
            Status.REJECTED, scope=_P, kind=_X, description="Unknown username or password"
        ),
        # Handled by re-authenticating; if it still surfaces (a session lost again right
        # after a fresh auth), a later attempt is likely to work.
        "003": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Session ID expired"),
        "004": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Account frozen"),
        # The provider always sends a session id in session mode, so a 005 means the
        # gateway lost it or the account is misconfigured: not the message's fault.
        "005": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Missing session ID"),
        "007": Outcome(Status.REJECTED, scope=_P, kind=_X, description="IP Lockdown violation"),
        # -- the request itself is malformed: nothing was sent, nobody else will take it.
        "101": Outcome(
            Status.REJECTED, scope=_Q, kind=_X, description="Invalid or missing parameters"
        ),
        "102": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid user data header"),
        # Unknown ids on a query/cancel: the gateway has no such message. UNKNOWN rather
        # than REJECTED because it reports about a message, not a submission; the router
        # reads the code when reconciling (104 by client reference = never accepted).
        "103": Outcome(Status.UNKNOWN, scope=_Q, kind=_X, description="Unknown API message ID"),
        "104": Outcome(Status.UNKNOWN, scope=_Q, kind=_X, description="Unknown client message ID"),
        "105": Outcome(
            Status.INVALID_NUMBER, scope=_R, kind=_X, description="Invalid destination address"
        ),
        "106": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid source address"),
        "107": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Empty message"),
        # api_id belongs to the configuration (an account's API product), like 001.
        "108": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Invalid or missing API ID"),
        "109": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Missing message ID"),
        "110": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Error with email message"),
        "111": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid protocol"),
        "112": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid message type"),
        "113": Outcome(
            Status.REJECTED, scope=_Q, kind=_X, description="Maximum message parts exceeded"
        ),
        # "Not currently routing messages to this network prefix": the number is fine
        # (not INVALID_NUMBER) and another provider may well reach it, so provider scope
        # lets the router fail this recipient over; permanent because only Clickatell
        # support can change the routing.
        "114": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Cannot route message"),
        # Expired in Clickatell's own queue before reaching the upstream gateway: a
        # throughput problem of this provider, not of the number or the text.
        "115": Outcome(Status.EXPIRED, scope=_P, kind=_T, description="Message expired"),
        "116": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid Unicode data"),
        "120": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid delivery time"),
        # Block lists and opt-outs keep the number (REJECTED, not INVALID_NUMBER) and must
        # not be worked around through another provider (recipient scope).
        "121": Outcome(
            Status.REJECTED, scope=_R, kind=_X, description="Destination mobile number blocked"
        ),
        "122": Outcome(
            Status.REJECTED, scope=_R, kind=_X, description="Destination mobile opted out"
        ),
        # Sender ids are registered per provider account: the same sender may be approved
        # elsewhere, unlike a malformed one (106).
        "123": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Invalid Sender ID"),
        "128": Outcome(
            Status.REJECTED,
            scope=_R,
            kind=_X,
            description="Number delisted",
            reason="The document says only that it 'may be returned when a number has been "
            "delisted', without saying by whom or that the number is out of service: "
            "dropping a contact needs a statement the number is wrong (smsmode's 'may be "
            "removed'), so the number is kept. Refused for this recipient like the block "
            "and DNC codes, never worked around through another provider.",
        ),
        # A daily/monthly cap of this account; the text carries the UNIX time it lifts,
        # which the parser turns into retry_after.
        "130": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Maximum MT limit exceeded"),
        # A batch expires after 24 hours; the batch sender starts a new one on 201.
        "201": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="Invalid batch ID"),
        "202": Outcome(Status.REJECTED, scope=_Q, kind=_X, description="No batch template"),
        "250": Outcome(
            Status.REJECTED,
            scope=_R,
            kind=_X,
            description="Destination address is on DNC list - Do not contact receiver",
        ),
        # Topping up is a human action: fail over now rather than retry here.
        "301": Outcome(Status.REJECTED, scope=_P, kind=_X, description="No credit left"),
        "302": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Max allowed credit"),
        # "Please retry": nothing was accepted, a later or different attempt may work.
        "901": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Internal error"),
    },
)

STATUSES = CodeTable(
    "clickatell",
    {
        # "The message ID is incorrect, or reporting is delayed": not final, no news.
        "001": Outcome(Status.UNKNOWN, scope=_P, kind=_T, description="Message unknown"),
        "002": Outcome(Status.QUEUED, description="Message queued"),
        "003": Outcome(Status.SENT, description="Delivered to gateway"),
        "004": Outcome(Status.DELIVERED, description="Received by recipient"),
        "005": Outcome(
            Status.FAILED_PERMANENT,
            scope=_Q,
            kind=_X,
            description="Error with message",
            reason="'Probably caused by the content of the message itself': the text, not "
            "the recipient, is at fault, so request scope (as BulkSMS 33/56 censored); "
            "sending the same text again will not help.",
        ),
        "006": Outcome(
            Status.CANCELLED, scope=_R, kind=_X, description="User cancelled message delivery"
        ),
        "007": Outcome(
            Status.FAILED_TEMPORARY,
            scope=_R,
            kind=_T,
            description="Error delivering message",
            reason="What a handset absent past the retry cycle ends in (spec 5.2.4: "
            "'switched off or out of coverage ... the SMS will fail and show Error "
            "Delivering Message'). The same situation is smsmode 3502 'temporary absence' "
            "and BulkSMS 53/57, both retryable: the number is fine and a later send may "
            "reach the handset.",
        ),
        "008": Outcome(Status.ACCEPTED, description="OK"),
        # The message was accepted (it has an id) and then could not be routed, also when
        # max_credits was too low (spec 5.2.8). FAILED_PERMANENT rather than REJECTED
        # because it failed after acceptance; provider scope because another provider's
        # routes or prices may get it through.
        "009": Outcome(Status.FAILED_PERMANENT, scope=_P, kind=_X, description="Routing error"),
        "010": Outcome(Status.EXPIRED, scope=_P, kind=_T, description="Message expired"),
        "011": Outcome(Status.SCHEDULED, description="Message queued for later delivery"),
        # Never sent for lack of funds: refused rather than failed, and the account's
        # problem (fail over).
        "012": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Out of credit"),
        # The account's MT cap; it lifts at the next period.
        "014": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Maximum MT limit exceeded"),
    },
)
