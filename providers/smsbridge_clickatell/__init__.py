"""Clickatell's legacy HTTP API (``api.clickatell.com/http``, spec v2.6) for smsbridge.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider(
        "clickatell", api_id="3141592", user="me", password="..."
    )
    with smsbridge.SmsBridge([provider]) as bridge:
        bridge.send(smsbridge.Message("+447700900123", "Your code is 482913"))

Credentials: the HTTP API product's ``api_id`` plus the account's ``user`` and
``password``. By default the provider authenticates once (``auth``) and sends the session
id, renewing it when the gateway reports it expired (error 003); ``auth_mode="per_call"``
sends the credentials in every request body instead. Credentials always travel in POST
bodies, never in URLs.

Capabilities: up to 300 destinations per ``sendmsg``, Unicode (hex UCS-2), concatenation
up to 35 parts, scheduling up to 7 days ahead, client message ids (``cliMsgId``) for
queries by reference, cancel, balance, route coverage and quotes, server-side batches
(``startbatch``/``senditem``/``quicksend``), HTTP/XML/SOAP status callbacks, binary
(8-bit) messages, ``deliv_time``, named ``req_feat`` bits (:class:`RequiredFeature`),
``max_credits`` and voucher payments (``token_pay``). Every ``SendOptions.extra`` option
is checked against the spec before sending; an unknown one is refused by name.
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

from .features import RequiredFeature
from .provider import ClickatellOptions, ClickatellProvider

__all__ = [
    "ClickatellOptions",
    "ClickatellProvider",
    "RequiredFeature",
    "smsbridge_register_providers",
]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register :class:`ClickatellProvider` as ``clickatell``."""
    registry.add(ClickatellProvider)
