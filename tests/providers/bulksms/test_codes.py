"""The code tables, exhaustively: every documented code, and nothing else."""

from __future__ import annotations

import pytest

from smsbridge import Kind, Scope, Status
from smsbridge_bulksms.codes import (
    REPORT_CODES,
    SUBMISSION_CODES,
    TRANSIENT_RETRY_CODES,
    UPSTREAM_RETRY_CODES,
)

P, R, Q = Scope.PROVIDER, Scope.RECIPIENT, Scope.REQUEST
T, X = Kind.TRANSIENT, Kind.PERMANENT

# send_sms / send_batch / quote_sms status codes, as the seed and the spec list them.
SUBMISSION = {
    "0": (Status.ACCEPTED, None, None),
    "1": (Status.SCHEDULED, None, None),
    "22": (Status.REJECTED, P, X),
    "23": (Status.REJECTED, P, X),
    "24": (Status.REJECTED, Q, X),
    "25": (Status.REJECTED, P, X),
    "26": (Status.REJECTED, P, T),
    "27": (Status.REJECTED, P, X),
    "28": (Status.REJECTED, P, T),
    "40": (Status.FAILED_TEMPORARY, P, T),
    "201": (Status.REJECTED, Q, X),
}

# Message status codes of get_report and the HTTP push (spec section 8).
REPORT = {
    "0": Status.ACCEPTED,
    "10": Status.SENT,
    "11": Status.DELIVERED,
    "12": Status.SENT,
    "22": Status.REJECTED,
    "23": Status.REJECTED,
    "24": Status.REJECTED,
    "25": Status.REJECTED,
    "26": Status.REJECTED,
    "27": Status.REJECTED,
    "28": Status.REJECTED,
    "29": Status.CANCELLED,
    "30": Status.CANCELLED,
    "31": Status.FAILED_PERMANENT,
    "32": Status.REJECTED,
    "33": Status.REJECTED,
    "40": Status.FAILED_TEMPORARY,
    "50": Status.FAILED_PERMANENT,
    "51": Status.FAILED_PERMANENT,
    "52": Status.FAILED_PERMANENT,
    "53": Status.EXPIRED,
    "54": Status.FAILED_PERMANENT,
    "55": Status.FAILED_PERMANENT,
    "56": Status.FAILED_PERMANENT,
    "57": Status.FAILED_TEMPORARY,
    "60": Status.QUEUED,
    "61": Status.QUEUED,
    "62": Status.QUEUED,
    "63": Status.QUEUED,
    "64": Status.QUEUED,
    "70": Status.UNKNOWN,
    "201": Status.REJECTED,
}


def test_submission_table_has_exactly_the_documented_codes() -> None:
    assert set(SUBMISSION_CODES.entries) == set(SUBMISSION)


@pytest.mark.parametrize(("code", "expected"), sorted(SUBMISSION.items()))
def test_submission_code(code: str, expected: tuple[Status, Scope | None, Kind | None]) -> None:
    status, scope, kind = expected
    outcome = SUBMISSION_CODES[code]
    assert outcome.status is status
    assert outcome.description
    if scope is None:
        assert not outcome.is_error
    else:
        assert outcome.is_error
        assert (outcome.scope, outcome.kind) == (scope, kind)
        error = SUBMISSION_CODES.error(code)
        assert (error.scope, error.kind, error.code) == (scope, kind, code)


def test_retry_sets_follow_the_seed() -> None:
    assert {"40"} == TRANSIENT_RETRY_CODES
    assert {"26", "28"} == UPSTREAM_RETRY_CODES
    # "All other errors should be considered fatal."
    for code, outcome in SUBMISSION_CODES.entries.items():
        if outcome.is_error and code not in TRANSIENT_RETRY_CODES | UPSTREAM_RETRY_CODES:
            assert outcome.kind is Kind.PERMANENT, code


def test_credit_and_auth_fail_over() -> None:
    assert SUBMISSION_CODES["23"].scope is Scope.PROVIDER
    assert SUBMISSION_CODES["25"].scope is Scope.PROVIDER


def test_report_table_has_exactly_the_documented_codes() -> None:
    assert set(REPORT_CODES.entries) == set(REPORT)


@pytest.mark.parametrize(("code", "status"), sorted(REPORT.items()))
def test_report_code(code: str, status: Status) -> None:
    outcome = REPORT_CODES[code]
    assert outcome.status is status
    assert outcome.description
    # No EAPI status says the number itself is wrong.
    assert not outcome.status.number_invalid


def test_pending_report_codes_are_not_final() -> None:
    for code in ("0", "10", "12", "60", "61", "62", "63", "64", "70"):
        assert not REPORT_CODES[code].status.is_final, code
    assert REPORT_CODES["11"].status.is_delivered


def test_unknown_codes_are_never_success() -> None:
    assert not SUBMISSION_CODES.lookup("99").status.is_success
    assert not REPORT_CODES.lookup("99").status.is_success
