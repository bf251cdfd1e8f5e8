"""Moved: the names once here stay importable from here.

Item references and messages are in :mod:`~smsbridge.dispatch.items`, chunks and their
ids in :mod:`~smsbridge.dispatch.chunking`, shared breaker states in
:mod:`~smsbridge.dispatch.breakers`, the outcomes the dispatcher records itself in
:mod:`~smsbridge.dispatch.outcomes`.
"""

from __future__ import annotations

from smsbridge.dispatch.breakers import OutboxBreakerStorage
from smsbridge.dispatch.chunking import ChunkingProvider, StoreAllocator, as_chunking
from smsbridge.dispatch.items import (
    TEMPLATE_KEY,
    VARIABLES_KEY,
    item_message,
    item_references,
    stored_options,
)

__all__ = [
    "TEMPLATE_KEY",
    "VARIABLES_KEY",
    "ChunkingProvider",
    "OutboxBreakerStorage",
    "StoreAllocator",
    "as_chunking",
    "item_message",
    "item_references",
    "stored_options",
]
