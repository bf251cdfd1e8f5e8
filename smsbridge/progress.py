"""Progress of a batch while it is sent, and a deadline per message.

:meth:`smsbridge.SmsBridge.iter_send_batch` yields a window's results when the whole
window (10,000 recipients by default) is done. An application sending a few hundred
messages behind a progress bar wants to hear about each one as it settles; that is what
the ``progress`` callback gets: counts of sent, failed and queued recipients, and the
results that became known since the last call. A ``message_deadline`` stops waiting
for a message that has had that long since its first attempt started (a slow answer,
retries in backoff): it is reported as ``QUEUED`` with the reason, and stays in the
outbox, where :meth:`~smsbridge.SmsBridge.resume` or a worker finishes it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

import attrs

from smsbridge.errors import ErrorInfo, InvalidMessageError, Kind, Scope
from smsbridge.outbox import ItemOutcome, ItemStore
from smsbridge.results import SendResult
from smsbridge.status import Status

__all__ = ["DEADLINE_CODE", "BatchProgress", "ProgressCallback", "WindowTracker"]

DEADLINE_CODE = "message-deadline"
"""``ErrorInfo.code`` of a result given up on at its ``message_deadline``."""


@attrs.frozen(slots=True, kw_only=True)
class BatchProgress:
    """Where a batch stands, each time results become known.

    Args:
        sent: Recipients a provider took so far (accepted, sent or delivered).
        failed: Recipients refused or failed for good so far, invalid numbers included.
        queued: Recipients in the outbox without a final answer yet: being sent,
            waiting to retry, or past their deadline (left for a later resume).
        new: The results that became known since the previous call, in the order
            they settled (each with its ``message_id``, its status and its error).
    """

    sent: int
    failed: int
    queued: int
    new: tuple[SendResult, ...]

    @property
    def done(self) -> int:
        """Recipients with a final answer for now (sent or failed)."""
        return self.sent + self.failed


ProgressCallback = Callable[[BatchProgress], None]
"""The type of ``iter_send_batch``'s ``progress`` argument."""


@attrs.define
class _Counts:
    sent: int = 0
    failed: int = 0
    queued: int = 0


class WindowTracker:
    """Watches one batch's items settle and reports them (used by the bridge).

    Args:
        store: The outbox.
        result: The bridge's item → :class:`~smsbridge.SendResult` conversion.
        waiting: Whether an item still waits for the dispatcher.
        callback: Receives a :class:`BatchProgress` when something became known.
        deadline: Seconds a message may take from its first attempt; ``None``: no limit.
        claim: Items the bridge claims per dispatch round while tracking: one request's
            worth per worker, so that each request's results are reported as it ends.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        store: ItemStore,
        *,
        result: Callable[[str, ItemOutcome | None], SendResult],
        waiting: Callable[[ItemOutcome], bool],
        callback: ProgressCallback | None,
        deadline: float | None,
        claim: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if deadline is not None and (
            isinstance(deadline, bool)
            or not isinstance(deadline, int | float)
            or not math.isfinite(deadline)
            or deadline <= 0
        ):
            raise InvalidMessageError(
                f"message_deadline must be a number of seconds > 0, not {deadline!r}",
                field="message_deadline",
                value=deadline,
            )
        self._store = store
        self._result = result
        self._waiting = waiting
        self._callback = callback
        self._deadline = deadline
        self._clock = clock
        self.claim = claim
        self._counts = _Counts()
        self._pending: dict[str, None] = {}
        self._started: dict[str, float] = {}
        self.results: dict[str, SendResult] = {}

    def begin(self, references: Sequence[str], refused: Iterable[SendResult]) -> None:
        """Start a window: its written references, and the results known already
        (invalid numbers, template errors), reported at once."""
        self._pending = dict.fromkeys(references)
        self._started.clear()
        self.results = {}
        self._counts.queued += len(self._pending)
        self._report([*refused], queued=0)

    def refresh(self) -> bool:
        """Look at the window's unsettled items; True when none is left to wait for.

        Items are claimed in the order they were written, so only the first unsettled
        ones (two rounds' worth) are read each time: a window's reads stay linear in its
        size. One settled further on, behind items waiting to retry, is reported when
        those move on, or when the window ends.
        """
        if not self._pending:
            return True
        look = list(islice(self._pending, 2 * self.claim if self.claim else None))
        stored = self._store.outcomes(look)
        now = self._clock()
        settled: list[SendResult] = []
        for reference in look:
            item = stored.get(reference)
            if item is None or not self._waiting(item):
                settled.append(self._settle(reference, self._result(reference, item)))
            elif self._deadline is not None and self._late(reference, item, now):
                settled.append(self._settle(reference, self._given_up(reference, item)))
        self._report(settled, queued=-len(settled))
        return not self._pending

    def finish(self, stored: dict[str, ItemOutcome]) -> None:
        """End the window: what still waits is reported as it stands (``QUEUED``)."""
        left = [self._settle(ref, self._result(ref, stored.get(ref))) for ref in self._pending]
        self._report(left, queued=-len(left))

    def _settle(self, reference: str, result: SendResult) -> SendResult:
        del self._pending[reference]
        self.results[reference] = result
        return result

    def _late(self, reference: str, item: ItemOutcome, now: float) -> bool:
        if item.attempts == 0:
            return False  # not started: waiting behind other messages is not its delay
        started = self._started.setdefault(reference, now)
        assert self._deadline is not None
        return now - started >= self._deadline

    def _given_up(self, reference: str, item: ItemOutcome) -> SendResult:
        result = self._result(reference, item)
        info = ErrorInfo(
            DEADLINE_CODE,
            f"no final answer within {self._deadline:g} s of its first attempt; it stays "
            "in the outbox and resume() or a worker finishes it",
            scope=Scope.RECIPIENT,
            kind=Kind.TRANSIENT,
        )
        return attrs.evolve(result, status=Status.QUEUED, error=info)

    def _report(self, results: list[SendResult], *, queued: int) -> None:
        counts = self._counts
        counts.queued += queued
        for result in results:
            if result.status is Status.QUEUED:
                counts.queued += 1
            elif result.status.is_success:
                counts.sent += 1
            else:
                counts.failed += 1
        if results and self._callback is not None:
            self._callback(
                BatchProgress(
                    sent=counts.sent,
                    failed=counts.failed,
                    queued=counts.queued,
                    new=tuple(results),
                )
            )
