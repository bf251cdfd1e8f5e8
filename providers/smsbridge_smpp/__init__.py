"""SMPP 3.4 for smsbridge: one bound session to an SMSC, as carriers and aggregators speak.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider(
        "smpp", base_url="smpps://smsc.example.net:3550", system_id="acme", password="..."
    )
    with smsbridge.SmsBridge([provider]) as bridge:
        bridge.send(smsbridge.Message("+447700900123", "Your code is 482913"))

Credentials: the account's ``system_id`` and ``password``, sent on ``bind_transceiver``
(or ``bind_transmitter``); plain ``smpp://`` is refused for hosts other than loopback
unless ``allow_insecure`` is set, because the password travels in clear.

Capabilities: windowed ``submit_sm`` (10 outstanding by default) that slows down on
``ESME_RTHROTTLED``/``ESME_RMSGQFUL``; long texts as UDH parts, ``sar_*`` parts or one
``message_payload``; GSM-7 (packed or not), UCS-2 and Latin-1; scheduling and validity;
delivery receipts pushed back as ``deliver_sm`` (see ``SmppProvider.report_sink``).
SMPP 3.4 has no lookup by client reference, so an unanswered submission is parked as
unknown rather than resent. The PDUs are encoded and decoded by ``smpplib``.
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

from .provider import SmppOptions, SmppProvider

__all__ = ["SmppOptions", "SmppProvider", "smsbridge_register_providers"]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register :class:`SmppProvider` as ``smpp``."""
    registry.add(SmppProvider)
