"""Circuit breaker transitions with a fake clock."""

from __future__ import annotations

from smsbridge.router import BreakerBoard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_probes_after_timeout() -> None:
    clock = Clock()
    board = BreakerBoard(threshold=3, reset_timeout=30, clock=clock)
    for _ in range(2):
        board.failure("a")
        assert board.allows("a")
    board.failure("a")
    assert board.state("a") == "open"
    assert not board.allows("a")
    clock.now += 29.9
    assert not board.allows("a")
    clock.now += 0.2
    assert board.allows("a")  # the one half-open probe
    assert board.state("a") == "half_open"
    assert not board.allows("a")  # everyone else waits for its verdict
    board.failure("a")
    assert board.state("a") == "open"
    clock.now += 30
    assert board.allows("a")
    board.success("a")
    assert board.state("a") == "closed"
    assert board.allows("a")


def test_success_resets_consecutive_count() -> None:
    board = BreakerBoard(threshold=2, clock=Clock())
    board.failure("a")
    board.success("a")
    board.failure("a")
    assert board.state("a") == "closed"
    assert board.allows("b")
