"""BulkSMS over its legacy HTTP API ("EAPI").

Speaks ``submission/send_batch`` (CSV ``batch_data``, streamed in chunks of
``batch_size``), ``submission/send_sms``, ``submission/quote_sms``, ``user/get_credits``
and ``status_reports/get_report``, plus the HTTP push of status reports.

Quick start::

    import smsbridge

    provider = smsbridge.get_provider(
        "bulksms", base_url="https://bulksms.vsms.net/eapi", username="me", password="..."
    )
    with smsbridge.SmsBridge([provider]) as bridge:
        batch = smsbridge.Batch(["+447700900123", "+447700900124"], body="Hello")
        for result in bridge.iter_send_batch(batch):
            print(result.recipient, result.status, result.message_id)

Credentials: the account ``username`` and ``password``, sent in POST bodies only.

Capabilities: batches of up to 30,000 messages per request, scheduling, status by
``<batch_id>:<msisdn>``, balance, quotes, Unicode (``dca=16bit``), duplicate protection
(``stop_dup_id`` from a counter, reused on resend), delivery push, one connection.
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

__all__ = ["smsbridge_register_providers"]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register :class:`~smsbridge_bulksms.provider.BulkSmsProvider`."""
    from smsbridge_bulksms.provider import BulkSmsProvider

    registry.add(BulkSmsProvider)
