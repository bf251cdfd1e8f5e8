"""The code tables: every documented code maps as decided, and nothing else is in them."""

from __future__ import annotations

import pytest

from smsbridge import Kind, Scope, Status
from smsbridge_clickatell.codes import DESTINATION_CODES, ERRORS, STATUSES

R, Q, P = Scope.RECIPIENT, Scope.REQUEST, Scope.PROVIDER
T, X = Kind.TRANSIENT, Kind.PERMANENT

# Appendix A of the v2.6 spec, plus 004/110/111/112/302 from the Data Manager's list.
EXPECTED_ERRORS = {
    "001": (Status.REJECTED, P, X),
    "002": (Status.REJECTED, P, X),
    "003": (Status.REJECTED, P, T),
    "004": (Status.REJECTED, P, X),
    "005": (Status.REJECTED, P, X),
    "007": (Status.REJECTED, P, X),
    "101": (Status.REJECTED, Q, X),
    "102": (Status.REJECTED, Q, X),
    "103": (Status.UNKNOWN, Q, X),
    "104": (Status.UNKNOWN, Q, X),
    "105": (Status.INVALID_NUMBER, R, X),
    "106": (Status.REJECTED, Q, X),
    "107": (Status.REJECTED, Q, X),
    "108": (Status.REJECTED, P, X),
    "109": (Status.REJECTED, Q, X),
    "110": (Status.REJECTED, Q, X),
    "111": (Status.REJECTED, Q, X),
    "112": (Status.REJECTED, Q, X),
    "113": (Status.REJECTED, Q, X),
    "114": (Status.REJECTED, P, X),
    "115": (Status.EXPIRED, P, T),
    "116": (Status.REJECTED, Q, X),
    "120": (Status.REJECTED, Q, X),
    "121": (Status.REJECTED, R, X),
    "122": (Status.REJECTED, R, X),
    "123": (Status.REJECTED, P, X),
    "128": (Status.REJECTED, R, X),
    "130": (Status.REJECTED, P, T),
    "201": (Status.REJECTED, Q, X),
    "202": (Status.REJECTED, Q, X),
    "250": (Status.REJECTED, R, X),
    "301": (Status.REJECTED, P, X),
    "302": (Status.REJECTED, P, X),
    "901": (Status.REJECTED, P, T),
}

# Appendix B: there is no 013.
EXPECTED_STATUSES = {
    "001": (Status.UNKNOWN, P, T),
    "002": (Status.QUEUED, None, None),
    "003": (Status.SENT, None, None),
    "004": (Status.DELIVERED, None, None),
    "005": (Status.FAILED_PERMANENT, Q, X),
    "006": (Status.CANCELLED, R, X),
    "007": (Status.FAILED_TEMPORARY, R, T),
    "008": (Status.ACCEPTED, None, None),
    "009": (Status.FAILED_PERMANENT, P, X),
    "010": (Status.EXPIRED, P, T),
    "011": (Status.SCHEDULED, None, None),
    "012": (Status.REJECTED, P, X),
    "014": (Status.REJECTED, P, T),
}


def test_error_table_has_exactly_the_documented_codes() -> None:
    assert set(ERRORS.entries) == set(EXPECTED_ERRORS)


def test_status_table_has_exactly_the_documented_codes() -> None:
    assert set(STATUSES.entries) == set(EXPECTED_STATUSES)


@pytest.mark.parametrize(("code", "expected"), sorted(EXPECTED_ERRORS.items()))
def test_error_code(code: str, expected: tuple[Status, Scope, Kind]) -> None:
    outcome = ERRORS[code]
    assert (outcome.status, outcome.scope, outcome.kind) == expected
    assert outcome.description
    assert not outcome.status.is_success or outcome.status is Status.UNKNOWN
    error = ERRORS.error(code, "gateway text")
    assert (error.code, error.scope, error.kind, error.provider) == (
        code,
        expected[1],
        expected[2],
        "clickatell",
    )


@pytest.mark.parametrize(("code", "expected"), sorted(EXPECTED_STATUSES.items()))
def test_status_code(code: str, expected: tuple[Status, Scope | None, Kind | None]) -> None:
    outcome = STATUSES[code]
    status, scope, kind = expected
    assert outcome.status is status
    assert outcome.description
    if scope is not None:
        assert (outcome.scope, outcome.kind) == (scope, kind)
        assert outcome.is_error


def test_destination_codes_are_documented_errors() -> None:
    assert set(ERRORS.entries) >= DESTINATION_CODES
    assert {ERRORS[c].scope for c in DESTINATION_CODES} <= {Scope.RECIPIENT, Scope.PROVIDER}


def test_unknown_codes_are_never_successes() -> None:
    for table in (ERRORS, STATUSES):
        assert table.lookup("013").status is Status.UNKNOWN
        assert table.lookup("999").status is not Status.DELIVERED
