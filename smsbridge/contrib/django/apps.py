"""The app's registration: a system check of ``settings.SMSBRIDGE`` and cache resets."""

from __future__ import annotations

import atexit

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed


class SmsBridgeConfig(AppConfig):
    """``smsbridge.contrib.django``; its label is ``smsbridge``."""

    name = "smsbridge.contrib.django"
    label = "smsbridge"
    verbose_name = "smsbridge"

    def ready(self) -> None:
        """Check the settings with ``manage.py check``, forget what was built from them
        when a test overrides them, and close it at exit (the leases go back at once)."""
        from smsbridge.contrib.django.conf import check_settings, reset, reset_on_change

        checks.register(check_settings, "smsbridge")
        setting_changed.connect(reset_on_change, dispatch_uid="smsbridge-settings")
        atexit.register(reset)
