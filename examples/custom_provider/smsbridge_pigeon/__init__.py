"""Pigeon SMS (a small JSON API) for smsbridge: the provider-author guide's example.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider("pigeon", base_url="https://api.pigeon.example",
                                      token="...")
    with smsbridge.SmsBridge([provider]) as bridge:
        bridge.send(smsbridge.Message("+447700900123", "Your code is 482913"))

Credentials: one API token, sent as a bearer token. Capabilities: up to 100 recipients
per request, Unicode, a client reference per message (used as an idempotency key).
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

from .provider import PigeonOptions, PigeonProvider

__all__ = ["PigeonOptions", "PigeonProvider", "smsbridge_register_providers"]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register :class:`PigeonProvider` as ``pigeon``."""
    registry.add(PigeonProvider)
