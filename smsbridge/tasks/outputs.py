"""What comes out of a task besides its messages: its cost before it starts, and its
failed numbers afterwards (a CSV that can be imported again once the numbers are fixed).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from smsbridge.errors import ConfigurationError
from smsbridge.model import Batch, Recipient
from smsbridge.provider import Provider
from smsbridge.tasks.model import Task, TaskDetail, TaskStateError
from smsbridge.tasks.store import TaskStore

if TYPE_CHECKING:
    from smsbridge.pricing import CreditRates, PriceTable, Quote

__all__ = ["FAILED_COLUMNS", "quote_task", "write_failed"]

FAILED_COLUMNS = ("to", "line", "status", "provider", "message_id", "error_code", "error")
"""The header of the failed-numbers CSV; ``to`` first, so it imports as recipients."""


@attrs.frozen
class _Staged:
    """A task's staged recipients, readable more than once (a quote may read twice)."""

    store: TaskStore
    task_id: str

    def __iter__(self) -> Iterator[Recipient]:
        for row in self.store.staged(self.task_id):
            yield Recipient(row.number, row.variables)


def quote_task(
    task: Task,
    store: TaskStore,
    providers: Sequence[Provider],
    *,
    table: PriceTable | None,
    rates: CreditRates | None = None,
    currency: str | None = None,
) -> Quote:
    """Price a task that has not started, from its staged recipients.

    Args:
        task: The task.
        store: Its task store.
        providers: The candidates; a task bound to a provider is quoted through it only.
        table: Prices by destination.
        rates: Credits-to-money rates.
        currency: Compare in this currency.

    Returns:
        The quote.

    Raises:
        TaskStateError: When the task has started (its recipients are in the outbox).
        ConfigurationError: When the bound provider is not among ``providers``.
    """
    from smsbridge.pricing import quote  # pricing is not needed to run tasks

    if task.started_at is not None:
        raise TaskStateError(
            f"task {task.id} is {task.state.value}: its messages are in the outbox; "
            "compare what they cost with `smsbridge quote --actual`"
        )
    chosen = [p for p in providers if task.provider is None or p.name == task.provider]
    if not chosen:
        raise ConfigurationError(
            f"task {task.id} is bound to {task.provider!r}, which is not among the "
            "providers to quote"
        )
    staged = _Staged(store, task.id)
    batch = Batch(staged, body=task.body, template=task.template, options=task.options)
    return quote(batch, chosen, table=table, rates=rates, currency=currency)


def write_failed(details: Iterable[TaskDetail], path: str | os.PathLike[str]) -> int:
    """Write failed numbers to a CSV file (replaced if it exists).

    Args:
        details: The failed numbers' details.
        path: The file.

    Returns:
        How many numbers were written.

    Raises:
        OSError: When the file cannot be written.
    """
    count = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FAILED_COLUMNS)
        for detail in details:
            error = detail.error
            writer.writerow(
                [
                    detail.number,
                    detail.line,
                    detail.status.value if detail.status else "",
                    detail.provider or "",
                    detail.message_id or "",
                    (error.code or "") if error else "",
                    error.text if error else "",
                ]
            )
            count += 1
    return count
