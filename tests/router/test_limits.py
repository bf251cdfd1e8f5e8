"""Token buckets and concurrency caps with a fake clock: no real waiting."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import Capabilities, ConfigurationError, Provider
from smsbridge.limits import ConcurrencyCap, Limit, LimitBoard, TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@given(
    rate=st.floats(0.5, 1000),
    burst=st.integers(1, 20),
    count=st.integers(1, 200),
)
def test_bucket_never_exceeds_rate_plus_burst(rate: float, burst: int, count: int) -> None:
    fake = FakeTime()
    bucket = TokenBucket(rate, burst, clock=fake.clock, sleep=fake.sleep)
    for _ in range(count):
        bucket.acquire()
    # n requests need at least (n - burst) / rate seconds, and no more than that.
    expected = max(count - burst, 0) / rate
    assert fake.now == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_bucket_refills_after_a_quiet_spell() -> None:
    fake = FakeTime()
    bucket = TokenBucket(10, 2, clock=fake.clock, sleep=fake.sleep)
    assert bucket.reserve() == 0 and bucket.reserve() == 0
    assert bucket.reserve() == pytest.approx(0.1)
    fake.now += 10
    assert bucket.reserve() == 0


def test_bucket_refuses_bad_settings() -> None:
    with pytest.raises(ConfigurationError):
        TokenBucket(0)
    with pytest.raises(ConfigurationError):
        TokenBucket(1, 0.5)
    with pytest.raises(ValueError, match="exceeds the burst"):
        TokenBucket(1, 1).reserve(2)


def test_cap_bounds_simultaneous_requests() -> None:
    cap = ConcurrencyCap(2)
    inside = threading.Barrier(2, timeout=5)

    def work() -> None:
        with cap.slot():
            inside.wait()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert cap.peak == 2


class Single(Provider):
    name = "single"
    capabilities = Capabilities(max_connections=1)


class Many(Provider):
    name = "many"
    capabilities = Capabilities()


def test_board_honours_the_provider_connection_limit() -> None:
    single = Single.from_options(base_url="http://127.0.0.1:9")
    many = Many.from_options(base_url="http://127.0.0.1:9")
    board = LimitBoard([single, many], {"single": Limit(concurrency=8), "many": Limit(rate=5)})
    assert board["single"].cap is not None and board["single"].cap.limit == 1
    assert board["many"].cap is None
    assert board["many"].bucket is not None and board["many"].bucket.rate == 5
    with pytest.raises(ConfigurationError, match="not configured"):
        LimitBoard([single], {"other": Limit(rate=1)})
