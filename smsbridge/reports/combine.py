"""One status per multipart message, from reports that arrive per part.

Huawei reports each part of a long message separately. The application sent one message
and wants one answer, so the parts are combined: *delivered* only when every part was
delivered; otherwise, once every part is final, the most telling failure. Until every
part is final the message stays in flight, because a final status can never be taken
back and a later part may still fail. The per-part reports are stored too, so that the
history shows what each part did.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import attrs

from smsbridge.outbox import message_key
from smsbridge.results import Cost, DeliveryReport
from smsbridge.status import Status

__all__ = ["PartCombiner", "combine_parts", "most_telling"]

# Most telling first: what tells the application the most about what to do next. A
# wrong number should be dropped; a refusal was never sent; a permanent failure will not
# work on this route; cancelled was the sender's own doing; expiry and temporary failures
# may work later.
_FAILURE_ORDER = (
    Status.INVALID_NUMBER,
    Status.REJECTED,
    Status.FAILED_PERMANENT,
    Status.CANCELLED,
    Status.EXPIRED,
    Status.FAILED_TEMPORARY,
)
# How far a non-final status has come, for "the least advanced part".
_PROGRESS = (Status.UNKNOWN, Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENT)


def most_telling(statuses: Iterable[Status]) -> Status | None:
    """The most telling failure among ``statuses``.

    Args:
        statuses: Part statuses.

    Returns:
        The failure ranked first, or ``None`` when none failed.
    """
    failed = set(statuses)
    return next((s for s in _FAILURE_ORDER if s in failed), None)


def combine_parts(parts: Sequence[Status | None]) -> Status:
    """The message's status from its parts' statuses.

    Args:
        parts: One entry per part, ``None`` for a part not reported yet.

    Returns:
        ``DELIVERED`` when every part was delivered; the most telling failure when every
        part is final and one is not delivered; otherwise the least advanced in-flight
        status (``SENT`` when every reported part is final but some are missing).
    """
    known = [s for s in parts if s is not None]
    if len(known) == len(parts) and all(s.is_final for s in known):
        failure = most_telling(known)
        return Status.DELIVERED if failure is None else failure
    pending = [s for s in known if not s.is_final]
    if not pending:
        return Status.SENT
    return min(pending, key=_PROGRESS.index)


def _total_cost(reports: Iterable[DeliveryReport]) -> Cost | None:
    costs = [r.cost for r in reports if r.cost is not None]
    if not costs or len({c.unit for c in costs}) > 1:
        return None
    total = costs[0]
    for cost in costs[1:]:
        total = total + cost
    return total


@attrs.define
class _Parts:
    total: int
    reports: dict[int, DeliveryReport] = attrs.field(factory=dict)


class PartCombiner:
    """Collects per-part reports and turns them into what the outbox should record.

    Thread-safe. State is kept in memory per ``(provider, message id, recipient)`` until
    every part is final, bounded by ``max_messages`` (the oldest unfinished message is
    forgotten first; polling or a later report closes it out).

    Args:
        max_messages: Most multipart messages tracked at once.
    """

    def __init__(self, *, max_messages: int = 100_000) -> None:
        self._max = max_messages
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[str, str, str], _Parts] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def add(self, report: DeliveryReport) -> list[DeliveryReport]:
        """Take one report; return the reports to record, in order.

        A report without part numbers, or of a one-part message, passes through
        unchanged. A part report is returned with the status the *message* has so far
        (its own outcome stays in ``provider_code`` and ``raw``); once every part is
        final a message-level report follows with the combined status, the summed
        charge, and the deciding part's code.

        Args:
            report: A report as a provider parsed it.

        Returns:
            The reports to record.
        """
        if report.part is None or report.parts is None or report.parts <= 1:
            return [report]
        key = (report.provider, message_key(report.message_id) or "", report.recipient or "")
        with self._lock:
            entry = self._open.get(key)
            if entry is None or entry.total != report.parts:
                entry = self._open[key] = _Parts(report.parts)
                while len(self._open) > self._max:
                    self._open.popitem(last=False)
            old = entry.reports.get(report.part)
            # A duplicate or an out-of-order older report must not undo a part's news.
            if old is None or old.status.can_become(report.status):
                entry.reports[report.part] = report
            statuses = [
                entry.reports[n].status if n in entry.reports else None
                for n in range(1, entry.total + 1)
            ]
            combined = combine_parts(statuses)
            if not combined.is_final:
                return [attrs.evolve(report, status=combined)]
            del self._open[key]
            parts = [entry.reports[n] for n in range(1, entry.total + 1)]
        return [attrs.evolve(report, status=combined), _message_report(parts, combined)]


def _message_report(parts: Sequence[DeliveryReport], combined: Status) -> DeliveryReport:
    deciding = next((r for r in parts if r.status is combined), parts[-1])
    latest = max(
        (r.occurred_at for r in parts if r.occurred_at is not None),
        default=deciding.occurred_at,
    )
    return attrs.evolve(
        deciding,
        status=combined,
        part=None,
        parts=len(parts),
        occurred_at=latest,
        cost=_total_cost(parts),
        raw={"part_codes": [r.provider_code for r in parts]},
    )
