"""Sending from asyncio applications: :class:`AsyncSmsBridge`.

The synchronous bridge's outbox, failover and results, awaited without blocking the
event loop. See ``docs/async.md``::

    from smsbridge.aio import AsyncSmsBridge

    async with AsyncSmsBridge([clickatell, bulksms], region="GB") as bridge:
        result = await bridge.send("07700 900123", "Your code is 482913")
"""

from __future__ import annotations

from smsbridge.aio.bridge import AsyncSmsBridge

__all__ = ["AsyncSmsBridge"]
