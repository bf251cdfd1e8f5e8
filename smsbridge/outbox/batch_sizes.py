"""The expected size of a batch being written, kept so a partly written batch is noticed.

A command that writes a batch of known size (``smsbridge batch FILE.csv``, ``smsbridge
enqueue --file``) records the size before the first item and forgets it once every item
is written. A record still there means the writing stopped part-way (a full disk, a
crash): :func:`recorded_batches` compares it with the items the outbox holds, which is
how ``smsbridge resume`` can say "10,000 of 20,000 recipients were written" instead of
reporting a half batch as finished.

The records are named values of the store (:meth:`~smsbridge.outbox.CounterStore.
set_meta`) called ``batch-size:<batch reference>``; no table of their own.
"""

from __future__ import annotations

import attrs

from smsbridge.outbox.base import CounterStore, OutboxStore

__all__ = ["PREFIX", "BatchSize", "forget_size", "record_size", "recorded_batches"]

PREFIX = "batch-size:"
"""The start of every record's name; the batch reference follows."""


@attrs.frozen(slots=True, kw_only=True)
class BatchSize:
    """A batch whose size was recorded, and how much of it the outbox holds.

    Args:
        batch: The batch reference.
        expected: The recorded size: recipients in the input (including lines that
            turn out invalid or repeated, which are never written).
        written: Items of the batch in the outbox now.
    """

    batch: str
    expected: int
    written: int

    @property
    def complete(self) -> bool:
        """True when nothing is missing (a writer stopped after its last item)."""
        return self.written >= self.expected


def record_size(store: CounterStore, batch: str, size: int) -> None:
    """Record, before writing, that ``batch`` should end up with ``size`` recipients.

    Args:
        store: The outbox.
        batch: The batch reference.
        size: Recipients in the input.

    Raises:
        OutboxError: For database errors (a full or read-only store fails here, before
            any item is written).
    """
    store.set_meta(PREFIX + batch, size)


def forget_size(store: CounterStore, batch: str) -> None:
    """Drop the record once the whole input was written (bad lines and all).

    Raises:
        OutboxError: For database errors.
    """
    store.set_meta(PREFIX + batch, None)


def recorded_batches(store: OutboxStore) -> list[BatchSize]:
    """Every batch with a size record, with the items it has: one count per batch.

    Args:
        store: The outbox.

    Returns:
        The batches, by reference.

    Raises:
        OutboxError: For database errors.
    """
    found = store.find_meta(PREFIX)
    batches = []
    for name in sorted(found):
        batch = name[len(PREFIX) :]
        written = sum(store.counts(batch).values())
        batches.append(BatchSize(batch=batch, expected=found[name], written=written))
    return batches
