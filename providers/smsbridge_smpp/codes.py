"""SMPP 3.4 command statuses and receipt states, mapped onto smsbridge's vocabulary.

Two tables side by side, as the specification keeps them apart:

* :data:`COMMAND_STATUSES`: the ``command_status`` of a response PDU (SMPP 3.4 section
  5.1.3), keyed by its eight-digit hexadecimal form (``0x00000058``). A non-zero status on
  a ``submit_sm_resp`` means the SMSC did not take the message (section 4.4.2: the
  ``message_id`` is then empty), so no entry is a success but ``0x00000000``.
* :data:`RECEIPT_STATES`: the ``stat:`` word of a delivery receipt (Appendix B) and the
  ``message_state`` TLV (section 5.2.28) it mirrors.

Nothing else in the package interprets a code: the session and the parsers look codes up
here.
"""

from __future__ import annotations

from smsbridge import Kind, Scope, Status
from smsbridge.sdk import CodeTable, Outcome

__all__ = [
    "COMMAND_STATUSES",
    "MESSAGE_STATES",
    "RECEIPT_STATES",
    "THROTTLING",
    "status_code",
]

_R, _Q, _P = Scope.RECIPIENT, Scope.REQUEST, Scope.PROVIDER
_T, _X = Kind.TRANSIENT, Kind.PERMANENT


def status_code(value: int) -> str:
    """The table key of a numeric ``command_status`` (``0x00000058``)."""
    return f"0x{value & 0xFFFFFFFF:08X}"


#: Statuses that ask the client to slow down rather than fail the message: the window
#: shrinks and the submission is repeated after a pause (never counted as an attempt).
THROTTLING = frozenset({0x58, 0x14})


def _o(status: Status, scope: Scope, kind: Kind, name: str, text: str) -> Outcome:
    return Outcome(status, scope=scope, kind=kind, description=f"{name}: {text}")


_REJ = Status.REJECTED

COMMAND_STATUSES = CodeTable(
    "smpp",
    {
        "0x00000000": Outcome(Status.ACCEPTED, description="ESME_ROK: No Error"),
        # -- PDU framing and session state: our client built or timed the PDU wrongly, or
        # -- the SMSC lost the bind; a fresh bind or another provider may do better.
        "0x00000001": _o(_REJ, _Q, _X, "ESME_RINVMSGLEN", "Message Length is invalid"),
        "0x00000002": _o(_REJ, _P, _T, "ESME_RINVCMDLEN", "Command Length is invalid"),
        "0x00000003": _o(_REJ, _P, _X, "ESME_RINVCMDID", "Invalid Command ID"),
        # The session is not bound as the SMSC sees it: rebinding fixes it.
        "0x00000004": _o(
            _REJ, _P, _T, "ESME_RINVBNDSTS", "Incorrect BIND Status for given command"
        ),
        "0x00000005": _o(_REJ, _P, _T, "ESME_RALYBND", "ESME Already in Bound State"),
        "0x00000006": _o(_REJ, _Q, _X, "ESME_RINVPRTFLG", "Invalid Priority Flag"),
        "0x00000007": _o(_REJ, _Q, _X, "ESME_RINVREGDLVFLG", "Invalid Registered Delivery Flag"),
        # "System Error": the SMSC's own trouble, nothing was taken; try again or elsewhere.
        "0x00000008": _o(_REJ, _P, _T, "ESME_RSYSERR", "System Error"),
        # Sender ids are registered per account: another provider may accept the same one.
        "0x0000000A": _o(_REJ, _P, _X, "ESME_RINVSRCADR", "Invalid Source Address"),
        # The destination itself is malformed or unassigned: drop it from the address book.
        "0x0000000B": _o(Status.INVALID_NUMBER, _R, _X, "ESME_RINVDSTADR", "Invalid Dest Addr"),
        "0x0000000C": _o(_REJ, _Q, _X, "ESME_RINVMSGID", "Message ID is invalid"),
        # -- binding: the account or its configuration; retrying the same credentials
        # -- here will not help, another provider may.
        "0x0000000D": _o(_REJ, _P, _X, "ESME_RBINDFAIL", "Bind Failed"),
        "0x0000000E": _o(_REJ, _P, _X, "ESME_RINVPASWD", "Invalid Password"),
        "0x0000000F": _o(_REJ, _P, _X, "ESME_RINVSYSID", "Invalid System ID"),
        "0x00000011": _o(_REJ, _Q, _X, "ESME_RCANCELFAIL", "Cancel SM Failed"),
        "0x00000013": _o(_REJ, _Q, _X, "ESME_RREPLACEFAIL", "Replace SM Failed"),
        # Queue full: a throttling signal (see THROTTLING); if it survives the pauses the
        # SMSC is congested, which another provider may not be.
        "0x00000014": _o(_REJ, _P, _T, "ESME_RMSGQFUL", "Message Queue Full"),
        "0x00000015": _o(_REJ, _P, _X, "ESME_RINVSERTYP", "Invalid Service Type"),
        "0x00000033": _o(_REJ, _Q, _X, "ESME_RINVNUMDESTS", "Invalid number of destinations"),
        "0x00000034": _o(_REJ, _Q, _X, "ESME_RINVDLNAME", "Invalid Distribution List name"),
        "0x00000040": _o(_REJ, _Q, _X, "ESME_RINVDESTFLAG", "Destination flag is invalid"),
        "0x00000042": _o(_REJ, _Q, _X, "ESME_RINVSUBREP", "Invalid 'submit with replace' request"),
        # esm_class carries our concatenation choice (UDHI): an account that refuses it
        # needs another concatenation option, a configuration matter.
        "0x00000043": _o(_REJ, _P, _X, "ESME_RINVESMCLASS", "Invalid esm_class field data"),
        "0x00000044": _o(_REJ, _Q, _X, "ESME_RCNTSUBDL", "Cannot Submit to Distribution List"),
        # A generic refusal with no reason given: the SMSC's business, perhaps transient.
        "0x00000045": _o(_REJ, _P, _T, "ESME_RSUBMITFAIL", "submit_sm or submit_multi failed"),
        # TON/NPI come from the account options (source) or our numbering rules (dest):
        # configuration, not the recipient's fault.
        "0x00000048": _o(_REJ, _P, _X, "ESME_RINVSRCTON", "Invalid Source address TON"),
        "0x00000049": _o(_REJ, _P, _X, "ESME_RINVSRCNPI", "Invalid Source address NPI"),
        "0x00000050": _o(_REJ, _P, _X, "ESME_RINVDSTTON", "Invalid Destination address TON"),
        "0x00000051": _o(_REJ, _P, _X, "ESME_RINVDSTNPI", "Invalid Destination address NPI"),
        "0x00000053": _o(_REJ, _P, _X, "ESME_RINVSYSTYP", "Invalid system_type field"),
        "0x00000054": _o(_REJ, _Q, _X, "ESME_RINVREPFLAG", "Invalid replace_if_present flag"),
        "0x00000055": _o(_REJ, _Q, _X, "ESME_RINVNUMMSGS", "Invalid number of messages"),
        # Throttled: see THROTTLING; surfaces only when pauses did not help.
        "0x00000058": _o(_REJ, _P, _T, "ESME_RTHROTTLED", "Throttling error"),
        "0x00000061": _o(_REJ, _Q, _X, "ESME_RINVSCHED", "Invalid Scheduled Delivery Time"),
        "0x00000062": _o(_REJ, _Q, _X, "ESME_RINVEXPIRY", "Invalid message validity period"),
        "0x00000063": _o(_REJ, _Q, _X, "ESME_RINVDFTMSGID", "Predefined Message Invalid"),
        # The three "receiver" codes are what an ESME answers to deliver_sm; an SMSC that
        # relays them about a submission speaks for the handset side.
        "0x00000064": _o(_REJ, _R, _T, "ESME_RX_T_APPN", "ESME Receiver Temporary App Error"),
        "0x00000065": _o(_REJ, _R, _X, "ESME_RX_P_APPN", "ESME Receiver Permanent App Error"),
        "0x00000066": _o(_REJ, _R, _X, "ESME_RX_R_APPN", "ESME Receiver Reject Message Error"),
        "0x00000067": _o(_REJ, _Q, _X, "ESME_RQUERYFAIL", "query_sm request failed"),
        "0x000000C0": _o(_REJ, _Q, _X, "ESME_RINVOPTPARSTREAM", "Error in the optional part"),
        # sar_* / message_payload are account options: refused TLVs are configuration.
        "0x000000C1": _o(_REJ, _P, _X, "ESME_ROPTPARNOTALLWD", "Optional Parameter not allowed"),
        "0x000000C2": _o(_REJ, _Q, _X, "ESME_RINVPARLEN", "Invalid Parameter Length"),
        "0x000000C3": _o(
            _REJ, _P, _X, "ESME_RMISSINGOPTPARAM", "Expected Optional Parameter missing"
        ),
        "0x000000C4": _o(_REJ, _Q, _X, "ESME_RINVOPTPARAMVAL", "Invalid Optional Parameter Value"),
        # data_sm's "delivery failure": tried and failed toward the handset.
        "0x000000FE": _o(
            Status.FAILED_TEMPORARY, _R, _T, "ESME_RDELIVERYFAILURE", "Delivery Failure"
        ),
        "0x000000FF": _o(_REJ, _P, _T, "ESME_RUNKNOWNERR", "Unknown Error"),
    },
    # 0x400-0x4FF are vendor-specific, and SMSCs invent others. Section 4.4.2 still holds:
    # a non-zero status means the message was not taken, so it is a refusal, never an
    # unknown outcome; provider scope and transient, since nothing says the text or the
    # number is at fault.
    unknown=Outcome(
        Status.REJECTED,
        scope=_P,
        kind=_T,
        description="command_status not in SMPP 3.4 (vendor-specific)",
    ),
)

RECEIPT_STATES = CodeTable(
    "smpp",
    {
        # ENROUTE: "the message is in enroute state", retried by the SMSC.
        "ENROUTE": Outcome(Status.QUEUED, description="Message in enroute state"),
        "DELIVRD": Outcome(Status.DELIVERED, description="Message is delivered to destination"),
        "EXPIRED": Outcome(
            Status.EXPIRED, scope=_R, kind=_T, description="Message validity period has expired"
        ),
        # Deleted on the sender's or operator's request before delivery.
        "DELETED": Outcome(
            Status.CANCELLED, scope=_R, kind=_X, description="Message has been deleted"
        ),
        # The SMSC gave up on the handset: the text will not get there on this route; the
        # number is not said to be wrong.
        "UNDELIV": Outcome(
            Status.FAILED_PERMANENT, scope=_R, kind=_X, description="Message is undeliverable"
        ),
        # "Accepted": read on the subscriber's behalf by customer service (Appendix B), and
        # what Jasmin and Kannel report for an intermediate hop. Not final: a later DELIVRD
        # or UNDELIV still says more.
        "ACCEPTD": Outcome(Status.SENT, description="Message is in accepted state"),
        "UNKNOWN": Outcome(
            Status.UNKNOWN, scope=_P, kind=_T, description="Message is in invalid state"
        ),
        "REJECTD": Outcome(
            Status.REJECTED, scope=_R, kind=_X, description="Message is in a rejected state"
        ),
    },
)

#: The ``message_state`` TLV's values (section 5.2.28), as receipt ``stat:`` words.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
