"""The SMPP code tables, exhaustively: every status of SMPP 3.4 and every receipt state."""

from __future__ import annotations

import pytest
from smpplib import consts

from smsbridge import Kind, Scope, Status
from smsbridge_smpp.codes import (
    COMMAND_STATUSES,
    MESSAGE_STATES,
    RECEIPT_STATES,
    THROTTLING,
    status_code,
)

# smpplib's table of command_status names: the specification's list as the library knows it.
_SPEC = {
    value: name
    for name, value in vars(consts).items()
    if name.startswith("SMPP_ESME_") and isinstance(value, int) and value < 0x400
}


def test_every_specified_status_has_a_row_naming_it() -> None:
    missing = sorted(status_code(v) for v in _SPEC if status_code(v) not in COMMAND_STATUSES)
    assert missing == []
    for value, name in _SPEC.items():
        description = COMMAND_STATUSES[status_code(value)].description
        assert description.startswith(name.removeprefix("SMPP_")), (value, description)


@pytest.mark.parametrize("code", sorted(COMMAND_STATUSES.entries))
def test_every_row_is_well_formed(code: str) -> None:
    outcome = COMMAND_STATUSES[code]
    assert code == status_code(int(code, 16))
    assert outcome.description.startswith("ESME_R")
    if code == "0x00000000":
        assert outcome.status is Status.ACCEPTED
    else:
        # A non-zero status means the SMSC did not take the message: never a success,
        # never "unknown" (that would park a message nobody has).
        assert not outcome.status.is_success
        assert outcome.status is not Status.UNKNOWN


def test_throttling_codes_are_transient_provider_refusals() -> None:
    for value in THROTTLING:
        outcome = COMMAND_STATUSES[status_code(value)]
        assert (outcome.scope, outcome.kind) == (Scope.PROVIDER, Kind.TRANSIENT)


def test_what_the_router_reads_from_key_codes() -> None:
    assert COMMAND_STATUSES["0x0000000B"].status is Status.INVALID_NUMBER
    assert COMMAND_STATUSES["0x0000000E"].scope is Scope.PROVIDER  # bad password: fail over
    assert COMMAND_STATUSES["0x0000000E"].kind is Kind.PERMANENT
    assert COMMAND_STATUSES["0x00000008"].kind is Kind.TRANSIENT  # system error


def test_vendor_codes_are_refusals_not_unknown_outcomes() -> None:
    outcome = COMMAND_STATUSES.lookup(status_code(0x400))
    assert outcome.status is Status.REJECTED
    assert (outcome.scope, outcome.kind) == (Scope.PROVIDER, Kind.TRANSIENT)


def test_every_message_state_maps_to_a_receipt_state() -> None:
    assert sorted(MESSAGE_STATES) == list(range(1, 9))
    assert set(MESSAGE_STATES.values()) == set(RECEIPT_STATES.entries)
    for value in MESSAGE_STATES:
        assert getattr(consts, "SMPP_MESSAGE_STATE_" + _long(MESSAGE_STATES[value])) == value


def _long(stat: str) -> str:
    return {
        "ENROUTE": "ENROUTE",
        "DELIVRD": "DELIVERED",
        "EXPIRED": "EXPIRED",
        "DELETED": "DELETED",
        "UNDELIV": "UNDELIVERABLE",
        "ACCEPTD": "ACCEPTED",
        "UNKNOWN": "UNKNOWN",
        "REJECTD": "REJECTED",
    }[stat]


@pytest.mark.parametrize(
    ("stat", "status", "final"),
    [
        ("DELIVRD", Status.DELIVERED, True),
        ("UNDELIV", Status.FAILED_PERMANENT, True),
        ("EXPIRED", Status.EXPIRED, True),
        ("DELETED", Status.CANCELLED, True),
        ("REJECTD", Status.REJECTED, True),
        ("ENROUTE", Status.QUEUED, False),
        ("ACCEPTD", Status.SENT, False),
        ("UNKNOWN", Status.UNKNOWN, False),
    ],
)
def test_receipt_states(stat: str, status: Status, final: bool) -> None:
    outcome = RECEIPT_STATES[stat]
    assert outcome.status is status
    assert outcome.status.is_final is final
    assert outcome.description


def test_an_unknown_receipt_state_is_not_final() -> None:
    assert not RECEIPT_STATES.lookup("WHATEVER").status.is_final
