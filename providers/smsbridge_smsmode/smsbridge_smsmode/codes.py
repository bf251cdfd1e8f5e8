"""smsmode's codes, mapped onto smsbridge's unified vocabulary.

smsmode uses two numbering spaces that overlap (``33`` is "insufficient credit" in both,
``35`` is "missing parameter" as an answer but "reception error" as a report), so the
data lives in two tables side by side:

* :data:`ERRORS`: the first field of a command's answer (``code | description | ...``)
  for ``sendSMS``, ``deleteSMS``, ``compteRendu``, ``smsStatus`` and ``credit``.
* :data:`STATUSES`: a message's report status, from ``compteRendu``, ``smsStatus`` and
  the ``notification_url`` callback (the annex of the API documentation plus the support
  knowledge base's list of delivery statuses).

The knowledge base draws the line smsbridge's ``INVALID_NUMBER`` exists for: temporary
errors (35xx with a 0 in the tens) keep the number, some permanent ones say it may be
removed from the address book, and blacklisting or lack of credit never touch it.

Nothing else in the package interprets a code: parsers look codes up here.
"""

from __future__ import annotations

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = ["ACCEPTED", "ERRORS", "NOT_FOUND", "NOT_SMS_STATUSES", "STATUSES"]

_R, _Q, _P = Scope.RECIPIENT, Scope.REQUEST, Scope.PROVIDER
_T, _X = Kind.TRANSIENT, Kind.PERMANENT

#: The answer code of a command that succeeded.
ACCEPTED = "0"
#: "SMS not found" (``deleteSMS``, ``compteRendu``, ``smsStatus``).
NOT_FOUND = "61"

#: Report codes the annex lists for other channels (``40`` template, ``100``/``101``
#: rich-messaging read receipts): an SMS never reports them, so they stay out of
#: :data:`STATUSES` and fall to its unknown outcome if one ever arrives.
NOT_SMS_STATUSES = frozenset({"40", "100", "101"})

ERRORS = CodeTable(
    "smsmode",
    {
        "0": Outcome(Status.ACCEPTED, description="Accepted"),
        # The retry guidance says "retry once": nothing was accepted, and the platform,
        # not the message, is at fault, so another provider may take it.
        "31": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Internal error"),
        "32": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Authentication error"),
        # Topping up is a human action: fail over now rather than retry here.
        "33": Outcome(Status.REJECTED, scope=_P, kind=_X, description="Insufficient credit"),
        # The provider always sends the mandatory fields, so a 35 says the request's
        # content (a number, a date) was refused: no other attempt will fix it.
        "35": Outcome(
            Status.REJECTED, scope=_Q, kind=_X, description="Missing or invalid parameter"
        ),
        "50": Outcome(Status.REJECTED, scope=_P, kind=_T, description="Temporarily unavailable"),
        # About a message asked after, not a submission (raised as MessageNotFoundError).
        NOT_FOUND: Outcome(Status.UNKNOWN, scope=_Q, kind=_X, description="SMS not found"),
    },
)

STATUSES = CodeTable(
    "smsmode",
    {
        # -- on its way: not final, replaced by later reports.
        "0": Outcome(Status.SENT, description="Sent"),
        # "SMS being processed": after a schedule fires too, hence QUEUED (which may
        # replace SCHEDULED) rather than ACCEPTED (which may not).
        "1": Outcome(Status.QUEUED, description="In progress"),
        "10": Outcome(Status.SCHEDULED, description="Scheduled"),
        "12": Outcome(Status.SENT, description="Partially delivered"),
        "13": Outcome(Status.SENT, description="Delivered to operator"),
        # Campaign level: some recipients received, others have their own reports.
        "15": Outcome(Status.SENT, description="Partially received"),
        # -- delivered.
        "11": Outcome(Status.DELIVERED, description="Received"),
        # The annex marks it a final success without a handset receipt of its own; the
        # platform reports no later status for it, so treating it as sent would leave
        # the message pending forever.
        "14": Outcome(Status.DELIVERED, description="Delivered"),
        "16": Outcome(Status.DELIVERED, description="Listened"),
        # -- refused before sending: the number is kept.
        # Never sent for lack of funds: the account's problem, so fail over.
        "33": Outcome(
            Status.REJECTED, scope=_P, kind=_X, description="Not sent - insufficient credit"
        ),
        # The recipient asked not to hear from this sender: never work around it through
        # another provider (recipient scope), never drop the number either.
        "3999": Outcome(Status.REJECTED, scope=_R, kind=_X, description="Black-listed number"),
        "22": Outcome(Status.REJECTED, scope=_R, kind=_X, description="Rejected"),
        # -- the platform failed: nothing against the number or the text.
        "2": Outcome(Status.FAILED_TEMPORARY, scope=_P, kind=_T, description="Internal error"),
        # -- temporary errors: "this number must be considered valid".
        "3501": Outcome(
            Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="Temporary operator error"
        ),
        "3502": Outcome(
            Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="Temporary absence error"
        ),
        "3503": Outcome(
            Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="Temporary phone error"
        ),
        "3504": Outcome(
            Status.FAILED_TEMPORARY, scope=_R, kind=_T, description="Temporary portability error"
        ),
        # Validity ran out; "retry later possible".
        "37": Outcome(Status.EXPIRED, scope=_R, kind=_T, description="Expired message"),
        # -- permanent errors that say the number itself is wrong: "may be considered
        # -- incorrect and removed from the address book".
        "3522": Outcome(
            Status.INVALID_NUMBER, scope=_R, kind=_X, description="Permanent absence error"
        ),
        "3523": Outcome(
            Status.INVALID_NUMBER, scope=_R, kind=_X, description="Permanent phone error"
        ),
        "3526": Outcome(
            Status.FAILED_PERMANENT,
            scope=_R,
            kind=_X,
            description="Permanent portability error",
            reason="'Number ported to an unknown operator': unlike 3522/3523 the document "
            "gives no 'may be removed from the address book' advice, and a ported number "
            "still belongs to its subscriber, so the number is kept; permanent because "
            "this route cannot find the new operator.",
        ),
        "3998": Outcome(
            Status.INVALID_NUMBER, scope=_R, kind=_X, description="Invalid recipient number"
        ),
        # -- routing: "unrecognised format or unmanaged destination" does not say the
        # -- number is wrong, and another provider's routes may reach it.
        "34": Outcome(Status.FAILED_PERMANENT, scope=_P, kind=_X, description="Routing error"),
        "3560": Outcome(
            Status.FAILED_PERMANENT, scope=_P, kind=_X, description="Non-routable error"
        ),
        # -- other permanent failures: the number is kept. Reception errors are "not to
        # -- be considered incorrect"; the rest concern the operator, content or roaming
        # -- (3599, an operator malfunction, is transient: see its reason).
        "35": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Reception error"),
        "39": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Delivery error (undetermined)"
        ),
        "21": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Not deliverable"),
        "36": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Message error"),
        "38": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Message too long"),
        "50": Outcome(Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Not delivered"),
        "3521": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Permanent operator error"
        ),
        "3524": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Permanent anti-spam error"
        ),
        "3525": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Permanent content error"
        ),
        "3527": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Permanent roaming error"
        ),
        "3599": Outcome(
            Status.FAILED_TEMPORARY,
            scope=_P,
            kind=_T,
            description="Other error (operator)",
            reason="'Undefined sending problem related to operator malfunction': the "
            "seed blames the operator, not the number or the text, and lists it among "
            "the other errors next to the platform's internal error (2). A malfunction "
            "passes and another provider's route may avoid it: provider scope, transient.",
        ),
        # -- "status could not be specified by smsmode": no news, not a failure.
        "999": Outcome(Status.UNKNOWN, scope=_P, kind=_T, description="Undefined"),
    },
)
