"""The same situation maps the same way on every provider.

Each test names one situation, lists the codes that report it on each provider, and
checks they agree on what an application or the router acts on: the unified status's
behaviour (final, retryable, number invalid), the scope and the kind. Every mapping
revised for this reason carries a written ``reason`` in its code table.
"""

from __future__ import annotations

import pytest

from smsbridge import CodeTable, Kind, Outcome, Scope, Status
from smsbridge_bulksms.codes import REPORT_CODES
from smsbridge_clickatell.codes import ERRORS as CLICKATELL_ERRORS
from smsbridge_clickatell.codes import STATUSES as CLICKATELL_STATUSES
from smsbridge_smsmode.codes import STATUSES as SMSMODE_STATUSES


def _behaviour(outcome: Outcome) -> tuple[bool, bool, bool, Scope, Kind]:
    status = outcome.status
    return status.is_final, status.retryable, status.number_invalid, outcome.scope, outcome.kind


def _agree(codes: list[tuple[CodeTable, str]]) -> set[tuple[bool, bool, bool, Scope, Kind]]:
    return {_behaviour(table[code]) for table, code in codes}


def test_handset_absent_past_the_retry_cycle_is_retryable_everywhere() -> None:
    # Clickatell 5.2.4: an absent handset past the retry cycle shows "Error delivering
    # message"; smsmode says "temporary absence"; BulkSMS says the message expired.
    codes = [(CLICKATELL_STATUSES, "007"), (SMSMODE_STATUSES, "3502"), (REPORT_CODES, "53")]
    assert _agree(codes) == {(True, True, False, Scope.RECIPIENT, Kind.TRANSIENT)}
    assert CLICKATELL_STATUSES["007"].status is Status.FAILED_TEMPORARY


def test_ported_to_an_unknown_operator_keeps_the_number() -> None:
    outcome = SMSMODE_STATUSES["3526"]
    assert outcome.status is Status.FAILED_PERMANENT
    assert not outcome.status.number_invalid
    assert not outcome.status.retryable
    assert outcome.scope is Scope.RECIPIENT


def test_operator_malfunction_is_the_route_and_passes() -> None:
    # smsmode 3599 "Error other" blames the operator, like its platform error 2.
    assert _agree([(SMSMODE_STATUSES, "3599"), (SMSMODE_STATUSES, "2")]) == {
        (True, True, False, Scope.PROVIDER, Kind.TRANSIENT)
    }


def test_a_delisted_number_is_refused_but_kept() -> None:
    outcome = CLICKATELL_ERRORS["128"]
    assert outcome.status is Status.REJECTED
    assert not outcome.status.number_invalid
    # Like the block list and DNC codes: never worked around through another provider.
    assert _agree([(CLICKATELL_ERRORS, "128"), (CLICKATELL_ERRORS, "121")]) == {
        (True, False, False, Scope.RECIPIENT, Kind.PERMANENT)
    }


def test_a_failure_caused_by_the_content_is_request_scope_everywhere() -> None:
    codes = [(CLICKATELL_STATUSES, "005"), (REPORT_CODES, "33"), (REPORT_CODES, "56")]
    assert {(o.scope, o.kind) for o in (t[c] for t, c in codes)} == {
        (Scope.REQUEST, Kind.PERMANENT)
    }
    assert CLICKATELL_STATUSES["005"].status is Status.FAILED_PERMANENT


def test_routing_failures_are_provider_scope_everywhere() -> None:
    codes = [
        (CLICKATELL_STATUSES, "009"),
        (SMSMODE_STATUSES, "34"),
        (SMSMODE_STATUSES, "3560"),
        (REPORT_CODES, "31"),
    ]
    assert _agree(codes) == {(True, False, False, Scope.PROVIDER, Kind.PERMANENT)}


@pytest.mark.parametrize(
    ("table", "code"),
    [
        (CLICKATELL_STATUSES, "007"),
        (CLICKATELL_STATUSES, "005"),
        (CLICKATELL_ERRORS, "128"),
        (SMSMODE_STATUSES, "3526"),
        (SMSMODE_STATUSES, "3599"),
        (REPORT_CODES, "31"),
    ],
)
def test_every_revised_mapping_says_why(table: CodeTable, code: str) -> None:
    assert len(table[code].reason) > 40
