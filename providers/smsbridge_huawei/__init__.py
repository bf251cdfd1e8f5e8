"""Huawei Cloud Message & SMS (MSGSMS) for smsbridge: approved templates, X-WSSE auth.

Speaks the template send APIs ``/sms/batchSendSms/v1`` (form, one parameter set, up to
500 numbers) and ``/sms/batchSendDiffSms/v1`` (JSON, groups with their own parameters),
and parses the form-encoded status reports posted to ``statusCallback``.

Credentials: the application's ``app_key`` and ``app_secret`` (X-WSSE UsernameToken; the
secret is only hashed), its ``channel`` number (``from``) and, for Chinese mainland
generic templates, a ``signature``. ``base_url`` is the application's access address.

Quick start::

    import smsbridge

    huawei = smsbridge.get_provider(
        "huawei", app_key=..., app_secret=..., channel="csms12345678",
        status_callback="https://example.com/huawei/report",
    )
    template = smsbridge.Template(
        "Your code is {code}", provider_ids={"huawei": "8ff55eac1d0b478ab3c06c3c6a492300"}
    )
    batch = smsbridge.Batch([{"to": "+8613112345678", "code": "482913"}], template=template)
    with smsbridge.SmsBridge([huawei]) as bridge:
        print(bridge.send_batch(batch).counts())

Free text is never converted silently: a Message (or body Batch) needs
``options.extra["huawei_template_id"]`` (values in ``options.extra["huawei_template_params"]``)
or an entry in the provider's ``templates`` option mapping the exact text to a template id.

Capabilities: templates only, up to 500 numbers per request, delivery callbacks (one
report per part), no idempotency key (unknown outcomes are reported, never resent), no
scheduling, status query or balance.
"""

from __future__ import annotations

from smsbridge.sdk import ProviderRegistry, hookimpl

from .numbers import ImportReport, import_numbers
from .protocol import ClockSkewError
from .provider import HuaweiOptions, HuaweiProvider
from .templates import parts_for

__all__ = [
    "ClockSkewError",
    "HuaweiOptions",
    "HuaweiProvider",
    "ImportReport",
    "import_numbers",
    "parts_for",
    "smsbridge_register_providers",
]


@hookimpl
def smsbridge_register_providers(registry: ProviderRegistry) -> None:
    """Register the Huawei provider."""
    registry.add(HuaweiProvider)
