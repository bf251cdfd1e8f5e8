"""smsbridge as a Django app: settings, ``send_sms()``, a worker command, a report view.

Add ``"smsbridge.contrib.django"`` to ``INSTALLED_APPS`` and describe the providers in
``settings.SMSBRIDGE`` with the keys of ``smsbridge.toml``::

    SMSBRIDGE = {
        "region": "GB",
        "store": BASE_DIR / "outbox.sqlite3",
        "providers": {
            "clickatell": {"api_id": os.environ["CLICKATELL_API_ID"], ...},
        },
    }

then ``send_sms("07700 900123", "Your code is 482913")``. ``SMSBRIDGE["backend"]`` picks
what sending means: :class:`~smsbridge.contrib.django.backends.BridgeBackend` (send now,
the default), :class:`~smsbridge.contrib.django.backends.OutboxBackend` (write to the
outbox for ``manage.py smsbridge_worker``) or
:class:`~smsbridge.contrib.django.backends.LocmemBackend` (record in :data:`outbox`, for
tests). See ``docs/django.md``.
"""

from __future__ import annotations

from smsbridge.contrib.django.api import get_backend, send_messages, send_sms
from smsbridge.contrib.django.backends import outbox
from smsbridge.contrib.django.conf import SettingsError, get_config

__all__ = ["SettingsError", "get_backend", "get_config", "outbox", "send_messages", "send_sms"]
