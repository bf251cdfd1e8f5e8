"""The code tables: every documented code maps as decided, and nothing else is in them."""

from __future__ import annotations

import pytest

from smsbridge import Kind, Scope, Status
from smsbridge_smsmode.codes import ERRORS, NOT_SMS_STATUSES, STATUSES

R, Q, P = Scope.RECIPIENT, Scope.REQUEST, Scope.PROVIDER
T, X = Kind.TRANSIENT, Kind.PERMANENT

# Answers of sendSMS / deleteSMS / compteRendu / smsStatus / credit (spec 2, 5, 7).
EXPECTED_ERRORS = {
    "0": (Status.ACCEPTED, None, None),
    "31": (Status.REJECTED, P, T),
    "32": (Status.REJECTED, P, X),
    "33": (Status.REJECTED, P, X),
    "35": (Status.REJECTED, Q, X),
    "50": (Status.REJECTED, P, T),
    "61": (Status.UNKNOWN, Q, X),
}

# The annex's catalogue (spec 8) and the knowledge base's delivery statuses (the seed).
EXPECTED_STATUSES = {
    "0": (Status.SENT, None, None),  # sent
    "1": (Status.QUEUED, None, None),  # in progress
    "2": (Status.FAILED_TEMPORARY, P, T),  # internal error
    "10": (Status.SCHEDULED, None, None),
    "11": (Status.DELIVERED, None, None),  # received
    "12": (Status.SENT, None, None),
    "13": (Status.SENT, None, None),  # delivered to operator
    "14": (Status.DELIVERED, None, None),
    "15": (Status.SENT, None, None),  # partially received
    "16": (Status.DELIVERED, None, None),
    "21": (Status.FAILED_PERMANENT, R, X),
    "22": (Status.REJECTED, R, X),
    "33": (Status.REJECTED, P, X),  # not sent - insufficient credit
    "34": (Status.FAILED_PERMANENT, P, X),  # routing error
    "35": (Status.FAILED_PERMANENT, R, X),  # reception error
    "36": (Status.FAILED_PERMANENT, R, X),
    "37": (Status.EXPIRED, R, T),
    "38": (Status.FAILED_PERMANENT, R, X),
    "39": (Status.FAILED_PERMANENT, R, X),
    "50": (Status.FAILED_PERMANENT, R, X),
    "999": (Status.UNKNOWN, P, T),  # undefined
    "3501": (Status.FAILED_TEMPORARY, R, T),
    "3502": (Status.FAILED_TEMPORARY, R, T),
    "3503": (Status.FAILED_TEMPORARY, R, T),
    "3504": (Status.FAILED_TEMPORARY, R, T),
    "3521": (Status.FAILED_PERMANENT, R, X),
    "3522": (Status.INVALID_NUMBER, R, X),
    "3523": (Status.INVALID_NUMBER, R, X),
    "3524": (Status.FAILED_PERMANENT, R, X),
    "3525": (Status.FAILED_PERMANENT, R, X),
    "3526": (Status.FAILED_PERMANENT, R, X),
    "3527": (Status.FAILED_PERMANENT, R, X),
    "3560": (Status.FAILED_PERMANENT, P, X),
    "3599": (Status.FAILED_TEMPORARY, P, T),  # other: operator malfunction
    "3998": (Status.INVALID_NUMBER, R, X),
    "3999": (Status.REJECTED, R, X),  # blacklisted
}

# What the knowledge base says about the number, status by status.
KEEP_NUMBER = [
    "2",
    "33",
    "34",
    "35",
    "3501",
    "3502",
    "3503",
    "3504",
    "3526",
    "3560",
    "3599",
    "3999",
]
REMOVE_NUMBER = ["3522", "3523", "3998"]


def test_error_table_has_exactly_the_documented_codes() -> None:
    assert set(ERRORS.entries) == set(EXPECTED_ERRORS)


def test_status_table_has_exactly_the_documented_codes() -> None:
    assert set(STATUSES.entries) == set(EXPECTED_STATUSES)
    assert not NOT_SMS_STATUSES & set(STATUSES.entries)


@pytest.mark.parametrize(("code", "expected"), sorted(EXPECTED_ERRORS.items()))
def test_error_code(code: str, expected: tuple[Status, Scope | None, Kind | None]) -> None:
    outcome = ERRORS[code]
    status, scope, kind = expected
    assert outcome.status is status
    assert outcome.description
    if scope is not None:
        error = ERRORS.error(code, "platform text")
        assert (error.code, error.scope, error.kind, error.provider) == (
            code,
            scope,
            kind,
            "smsmode",
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


@pytest.mark.parametrize("code", KEEP_NUMBER)
def test_statuses_that_keep_the_number(code: str) -> None:
    assert not STATUSES[code].status.number_invalid


@pytest.mark.parametrize("code", REMOVE_NUMBER)
def test_statuses_that_condemn_the_number(code: str) -> None:
    assert STATUSES[code].status.number_invalid


def test_temporary_errors_are_retryable_and_final() -> None:
    for code in ("3501", "3502", "3503", "3504"):
        status = STATUSES[code].status
        assert status.retryable and status.is_final


def test_progress_statuses_are_not_final() -> None:
    for code in ("0", "1", "10", "12", "13", "15"):
        assert not STATUSES[code].status.is_final


def test_unknown_and_other_channel_codes_are_never_successes() -> None:
    for code in ("3", "4242", *NOT_SMS_STATUSES):
        assert STATUSES.lookup(code).status is Status.UNKNOWN
    assert ERRORS.lookup("41").status is Status.UNKNOWN
