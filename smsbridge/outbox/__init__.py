"""The durable outbox: every message recorded before it is sent, every attempt before it
leaves, every result and delivery report after.

``SqliteStore`` is the default store; any object implementing :class:`OutboxStore` can
take its place. See ``docs/outbox.md`` for the life cycle of an item.
"""

from __future__ import annotations

from smsbridge.outbox.base import (
    AddResult,
    Attempt,
    AttemptStore,
    BreakerState,
    BreakerStore,
    Chunk,
    ChunkStore,
    CounterStore,
    History,
    ItemExistsError,
    ItemNotFoundError,
    ItemOutcome,
    ItemState,
    ItemStore,
    LeaseError,
    NewerSchemaError,
    NewItem,
    OutboxError,
    OutboxItem,
    OutboxStateError,
    OutboxStore,
    ReportStore,
    StorageBusyError,
    StorageError,
    StorageFullError,
    StorageIOError,
    StorageReadOnlyError,
    message_key,
    next_status,
)
from smsbridge.outbox.codec import CodecError
from smsbridge.outbox.sqlite import SqliteStore, default_path

__all__ = [
    "AddResult",
    "Attempt",
    "AttemptStore",
    "BreakerState",
    "BreakerStore",
    "Chunk",
    "ChunkStore",
    "CodecError",
    "CounterStore",
    "History",
    "ItemExistsError",
    "ItemNotFoundError",
    "ItemOutcome",
    "ItemState",
    "ItemStore",
    "LeaseError",
    "NewItem",
    "NewerSchemaError",
    "OutboxError",
    "OutboxItem",
    "OutboxStateError",
    "OutboxStore",
    "ReportStore",
    "SqliteStore",
    "StorageBusyError",
    "StorageError",
    "StorageFullError",
    "StorageIOError",
    "StorageReadOnlyError",
    "default_path",
    "message_key",
    "next_status",
]
