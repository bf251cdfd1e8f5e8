"""The window rule, without a socket: halve and pause on throttling, grow back by one."""

from __future__ import annotations

from smsbridge_smpp.window import Window


def test_full_window_waits_for_a_response() -> None:
    window = Window(size=2)
    assert window.wait_time(0.0) is None
    window.sent()
    window.sent()
    assert window.wait_time(0.0) == float("inf")
    window.answered(throttled=False, now=0.0)
    assert window.wait_time(0.0) is None


def test_throttling_halves_the_window_and_pauses_longer_each_time() -> None:
    window = Window(size=10, pause=0.5, max_pause=1.5)
    window.sent()
    window.answered(throttled=True, now=100.0)
    assert window.limit == 5
    assert window.wait_time(100.0) == 0.5
    assert window.wait_time(100.5) is None
    for _ in range(3):
        window.sent()
        window.answered(throttled=True, now=200.0)
    assert window.limit == 1
    assert window.wait_time(200.0) == 1.5  # 0.5, 1.0, then capped at 1.5
    assert window.throttled == 4


def test_successes_grow_the_window_back_to_its_size() -> None:
    window = Window(size=4, pause=0.1)
    window.sent()
    window.answered(throttled=True, now=0.0)
    assert window.limit == 2
    answers = 0
    while window.limit < 4:
        window.sent()
        window.answered(throttled=False, now=1.0)
        answers += 1
    assert answers == 2 + 3  # a window's worth of successes per step
    for _ in range(10):
        window.sent()
        window.answered(throttled=False, now=1.0)
    assert window.limit == 4
