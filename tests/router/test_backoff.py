"""Backoff bounds: full jitter below an exponential, capped ceiling; Retry-After a floor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.router import RetryPolicy

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 20),
    base=st.floats(0.001, 10),
    cap=st.floats(0.01, 600),
    max_retry_after=st.floats(0, 1000),
)


@given(policies, st.integers(1, 200), st.floats(0, 1, exclude_max=True))
def test_delay_within_bounds(policy: RetryPolicy, retry: int, draw: float) -> None:
    delay = policy.delay(retry, rand=lambda: draw)
    assert 0 <= delay <= policy.cap
    assert delay <= policy.base * 2 ** min(retry - 1, 62)
    assert delay == pytest.approx(draw * policy.ceiling(retry))


@given(policies, st.integers(1, 30))
def test_ceiling_grows_monotonically_to_cap(policy: RetryPolicy, retry: int) -> None:
    assert policy.ceiling(retry) <= policy.ceiling(retry + 1) <= policy.cap


@given(policies, st.integers(1, 30), st.floats(0, 2000), st.floats(0, 1, exclude_max=True))
def test_retry_after_is_a_floor(
    policy: RetryPolicy, retry: int, retry_after: float, draw: float
) -> None:
    delay = policy.delay(retry, retry_after=retry_after, rand=lambda: draw)
    assert delay >= min(retry_after, policy.max_retry_after)
    assert delay <= max(policy.cap, policy.max_retry_after)


def test_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
