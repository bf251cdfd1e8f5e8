"""Durable dispatch: the outbox worked through by the router's rules.

See :class:`Dispatcher`; ``docs/failover.md`` and ``docs/outbox.md`` describe the rules
and the life cycle of an item.
"""

from __future__ import annotations

from smsbridge.dispatch.breakers import OutboxBreakerStorage
from smsbridge.dispatch.chunking import StoreAllocator
from smsbridge.dispatch.dispatcher import Dispatcher
from smsbridge.dispatch.items import item_message, item_references

__all__ = [
    "Dispatcher",
    "OutboxBreakerStorage",
    "StoreAllocator",
    "item_message",
    "item_references",
]
