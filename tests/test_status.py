"""The status taxonomy: every member's flags, and which reports may replace which."""

from __future__ import annotations

import pytest

from smsbridge import Status

# One row per member: final, success, retryable, number_invalid. Written out in full so
# that a change to any flag is a deliberate change to this table.
EXPECTED = {
    Status.ACCEPTED: (False, True, False, False),
    Status.SCHEDULED: (False, True, False, False),
    Status.QUEUED: (False, True, False, False),
    Status.SENT: (False, True, False, False),
    Status.DELIVERED: (True, True, False, False),
    Status.FAILED_TEMPORARY: (True, False, True, False),
    Status.FAILED_PERMANENT: (True, False, False, False),
    Status.INVALID_NUMBER: (True, False, False, True),
    Status.EXPIRED: (True, False, True, False),
    Status.CANCELLED: (True, False, False, False),
    Status.REJECTED: (True, False, False, False),
    Status.UNKNOWN: (False, False, False, False),
}


def test_table_covers_every_member() -> None:
    assert set(EXPECTED) == set(Status)


@pytest.mark.parametrize("status", list(Status))
def test_flags(status: Status) -> None:
    final, success, retryable, invalid = EXPECTED[status]
    assert status.is_final is final
    assert status.is_success is success
    assert status.retryable is retryable
    assert status.number_invalid is invalid
    assert status.is_failure is (final and status is not Status.DELIVERED)


@pytest.mark.parametrize("final", [s for s in Status if s.is_final])
@pytest.mark.parametrize("later", list(Status))
def test_final_never_moves(final: Status, later: Status) -> None:
    assert not final.can_become(later)


def test_intermediate_does_not_go_backwards() -> None:
    assert Status.ACCEPTED.can_become(Status.SENT)
    assert not Status.SENT.can_become(Status.ACCEPTED)
    assert Status.SENT.can_become(Status.DELIVERED)
    assert Status.QUEUED.can_become(Status.FAILED_PERMANENT)


@pytest.mark.parametrize("later", list(Status))
def test_unknown_yields_to_any_news(later: Status) -> None:
    assert Status.UNKNOWN.can_become(later)
