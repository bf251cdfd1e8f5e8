"""smsmode's HTTP API 1.6 (``api.smsmode.com/http/1.6``) for smsbridge.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider("smsmode", access_token="...")
    with smsbridge.SmsBridge([provider]) as bridge:
        bridge.send(smsbridge.Message("+33612345678", "Votre code : 482913"))

Credentials: an API key (``access_token``, sent as ``accessToken``) or the legacy
``pseudo`` and ``password``. They always travel in POST bodies, never in URLs.

Capabilities: up to 300 numbers per ``sendSMS`` (one ``smsID`` for all of them), Unicode
(``classe_msg=9``), up to 5 parts, custom senders, scheduling (``date_envoi``), the client
reference as ``refClient``, cancelling a scheduled message (``deleteSMS``), the balance
(``credit``), per-recipient reports by ``smsID`` (``compteRendu``) and delivery callbacks
(``notification_url``) whose statuses keep or condemn the number as smsmode says.

This package is a separate distribution, ``smsbridge-smsmode``, built only on smsbridge's
public API: it is the worked example of a third-party provider.
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

from .provider import SmsmodeOptions, SmsmodeProvider

__all__ = ["SmsmodeOptions", "SmsmodeProvider", "smsbridge_register_providers"]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register :class:`SmsmodeProvider` as ``smsmode``."""
    registry.add(SmsmodeProvider)
