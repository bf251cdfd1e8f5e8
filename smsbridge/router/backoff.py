"""Retry timing: exponential backoff with full jitter, capped, honouring Retry-After.

Full jitter (a uniform draw between zero and the exponential ceiling) spreads the retries
of many clients that failed together, so a recovering provider is not hit by a wave. The
computed time is stored by the outbox, not slept on, so it survives a restart.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

__all__ = ["RetryPolicy"]


@attrs.frozen(kw_only=True, slots=True)
class RetryPolicy:
    """How often and how far apart to retry transient failures.

    Args:
        max_attempts: Attempts per message across all providers, the first included.
        base: Ceiling of the first retry's delay, in seconds.
        cap: Largest delay ever drawn, in seconds.
        max_retry_after: Largest provider-requested delay honoured; a longer one makes
            the router try another provider instead of waiting.
    """

    max_attempts: int = attrs.field(default=5)
    base: float = 0.5
    cap: float = 60.0
    max_retry_after: float = 300.0

    @max_attempts.validator
    def _check(self, _a: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise ValueError("max_attempts must be at least 1")

    def ceiling(self, retry: int) -> float:
        """The upper bound of the delay before retry number ``retry`` (1-based)."""
        if retry < 1:
            return 0.0
        # Cap the exponent before computing to avoid float overflow on long outages.
        exponent = min(retry - 1, 62)
        return float(min(self.cap, self.base * (2**exponent)))

    def delay(
        self,
        retry: int,
        *,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before retry number ``retry``.

        A provider's ``Retry-After`` is a floor: we never come back earlier than asked.
        """
        drawn = rand() * self.ceiling(retry)
        if retry_after is not None and retry_after > 0:
            return max(drawn, min(retry_after, self.max_retry_after))
        return drawn

    def exhausted(self, attempts: int) -> bool:
        """True when ``attempts`` attempts have used up the budget."""
        return attempts >= self.max_attempts
