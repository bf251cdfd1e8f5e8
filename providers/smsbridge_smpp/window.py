"""The submit window: how many ``submit_sm`` may await their response, and when to pause.

Pure and small, with the clock passed in, so the throttling rule can be tested without a
socket. The rule is additive increase, multiplicative decrease (as TCP's): a throttling
answer (``ESME_RTHROTTLED``, ``ESME_RMSGQFUL``) halves the window and pauses new
submissions, the pause doubling while throttling continues; a window's worth of
successes grows it by one again, up to the configured size.
"""

from __future__ import annotations

import attrs

__all__ = ["Window"]


@attrs.define(kw_only=True)
class Window:
    """Window size and pause state of one bound session.

    Args:
        size: The configured (largest) window.
        pause: The first pause after a throttling answer, in seconds.
        max_pause: The longest pause.
    """

    size: int = attrs.field(validator=attrs.validators.ge(1))
    pause: float = 0.2
    max_pause: float = 5.0
    limit: int = attrs.field(init=False)
    in_flight: int = attrs.field(default=0, init=False)
    paused_until: float = attrs.field(default=0.0, init=False)
    throttled: int = attrs.field(default=0, init=False)
    _streak: int = attrs.field(default=0, init=False)
    _next_pause: float = attrs.field(default=0.0, init=False)

    def __attrs_post_init__(self) -> None:
        self.limit = self.size
        self._next_pause = self.pause

    def wait_time(self, now: float) -> float | None:
        """Seconds to wait before another submission may leave; None: it may now."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.in_flight >= self.limit:
            return float("inf")  # until a response frees a slot
        return None

    def sent(self) -> None:
        """A submission left."""
        self.in_flight += 1

    def answered(self, *, throttled: bool, now: float) -> None:
        """A response arrived (or the submission was given up); frees its slot.

        Args:
            throttled: The SMSC asked to slow down.
            now: The current time.
        """
        self.in_flight = max(0, self.in_flight - 1)
        if throttled:
            self.throttled += 1
            self.limit = max(1, self.limit // 2)
            self._streak = 0
            self.paused_until = max(self.paused_until, now + self._next_pause)
            self._next_pause = min(self._next_pause * 2, self.max_pause)
            return
        self._next_pause = self.pause
        if self.limit < self.size:
            self._streak += 1
            if self._streak >= self.limit:
                self.limit += 1
                self._streak = 0

    def reset(self) -> None:
        """A new connection: nothing in flight (the old ones were settled elsewhere)."""
        self.in_flight = 0
