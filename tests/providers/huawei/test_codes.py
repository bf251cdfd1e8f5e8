"""The Huawei code table: every documented code, and nothing undocumented."""

from __future__ import annotations

import pytest

from smsbridge import Kind, Scope, Status
from smsbridge_huawei.codes import CARRIER_FAILURE, CODES, REQUEST_CODES, report_outcome

R, P, Q = Scope.RECIPIENT, Scope.PROVIDER, Scope.REQUEST
T, X = Kind.TRANSIENT, Kind.PERMANENT
AUTH = (Status.REJECTED, P, X)

EXPECTED: dict[str, tuple[Status, Scope, Kind]] = {
    "000000": (Status.ACCEPTED, R, X),
    "E000000": (Status.REJECTED, Q, X),
    **dict.fromkeys(
        (
            "E000001",
            "E000002",
            "E000003",
            "E000004",
            "E000005",
            "E000006",
            "E000007",
            "E000008",
            "E000020",
            "E000021",
            "E000022",
            "E000023",
            "E000024",
            "E000025",
            "E000101",
            "E000102",
            "E000103",
            "E000104",
            "E000105",
            "E000106",
            "E000109",
            "E000110",
            "E000111",
            "E000112",
            "E000620",
        ),
        AUTH,
    ),
    "E000503": (Status.REJECTED, Q, X),
    "E000504": (Status.REJECTED, Q, X),
    "E000505": (Status.REJECTED, Q, X),
    "E000510": (Status.REJECTED, P, T),
    "E000623": (Status.REJECTED, P, T),
    "E200015": (Status.FAILED_TEMPORARY, P, T),
    "E200018": (Status.REJECTED, P, X),
    **dict.fromkeys(
        ("E200019", "E200020", "E200021", "E200022", "E200023", "E200025", "E200026", "E200035"),
        (Status.FAILED_PERMANENT, R, X),
    ),
    "E200027": (Status.FAILED_PERMANENT, P, X),
    "E200028": (Status.REJECTED, R, X),
    "E200029": (Status.REJECTED, P, X),
    "E200030": (Status.REJECTED, P, X),
    "E200031": (Status.REJECTED, P, X),
    "E200032": (Status.REJECTED, P, X),
    "E200033": (Status.REJECTED, P, X),
    "E200034": (Status.FAILED_TEMPORARY, R, T),
    "E200036": (Status.FAILED_PERMANENT, P, X),
    "E200038": (Status.FAILED_TEMPORARY, R, T),
    "E200041": (Status.REJECTED, R, X),
    "DELIVRD": (Status.DELIVERED, R, X),
    "EXPIRED": (Status.EXPIRED, R, T),
    "DELETED": (Status.FAILED_PERMANENT, R, X),
    "UNDELIV": (Status.FAILED_PERMANENT, R, X),
    "ACCEPTD": (Status.SENT, R, X),
    "UNKNOWN": (Status.UNKNOWN, R, X),
    "REJECTD": (Status.REJECTED, R, X),
    "MILIMIT": (Status.FAILED_TEMPORARY, R, T),
    "LIMIT": (Status.FAILED_TEMPORARY, R, T),
    "BEYONDN": (Status.FAILED_TEMPORARY, R, T),
    "CTLIMIT": (Status.FAILED_TEMPORARY, R, T),
    "KEYWORD": (Status.REJECTED, Q, X),
    "BLACK": (Status.REJECTED, R, X),
    "TDBLACK": (Status.REJECTED, R, X),
    "TSBLACK": (Status.REJECTED, R, X),
    "MBBLACK": (Status.REJECTED, R, X),
    "RTE_ERR": (Status.FAILED_PERMANENT, P, X),
    "UNDELIVE": (Status.FAILED_PERMANENT, R, X),
}


@pytest.mark.parametrize(("code", "expected"), sorted(EXPECTED.items()))
def test_code_maps_to_status_scope_kind(code: str, expected: tuple[Status, Scope, Kind]) -> None:
    outcome = CODES[code]
    assert (outcome.status, outcome.scope, outcome.kind) == expected
    assert outcome.description
    assert report_outcome(code) is outcome


def test_table_has_no_undocumented_entries() -> None:
    assert set(CODES.entries) == set(EXPECTED)


def test_request_codes_are_the_e000_family() -> None:
    assert {c for c in EXPECTED if c.startswith("E000")} == REQUEST_CODES


def test_only_delivered_and_accepted_are_successes() -> None:
    successes = {c for c, o in CODES.entries.items() if not o.is_error}
    assert successes == {"000000", "DELIVRD", "ACCEPTD"}


def test_no_huawei_code_claims_the_number_is_invalid() -> None:
    # The spec documents no code meaning "this number does not exist".
    assert not any(o.status.number_invalid for o in CODES.entries.values())


@pytest.mark.parametrize("code", ["MK:0208", "MB:0101", "IB:0011", "HD:29", "SGIP:56"])
def test_raw_carrier_codes_are_final_failures(code: str) -> None:
    assert report_outcome(code) is CARRIER_FAILURE
    assert report_outcome(code).status is Status.FAILED_PERMANENT


@pytest.mark.parametrize("code", ["", "E999999", "delivrd", "???"])
def test_unknown_codes_are_never_successes(code: str) -> None:
    outcome = report_outcome(code)
    assert outcome.status is Status.UNKNOWN
    assert outcome.scope is Scope.PROVIDER


def test_request_code_raises_typed_provider_error() -> None:
    error = CODES.error("E000620", "ip not allowed")
    assert error.code == "E000620"
    assert error.scope is Scope.PROVIDER
    assert error.provider == "huawei"
