"""``smsbridge demo``: a realistic campaign through emulated providers, on loopback.

:func:`~smsbridge.demo.campaign.build_campaign` generates appointment reminders in seven
languages for a seeded list of recipients; :func:`~smsbridge.demo.run.run_demo` starts
the Clickatell and BulkSMS emulators, a delivery-report server and a bridge with
failover, makes Clickatell fail partway, sends the campaign and collects the reports;
:func:`~smsbridge.demo.summary.summarise` reads the outcome back from the outbox. No
account, configuration or network is needed. See ``docs/demo.md``.
"""

from __future__ import annotations

from smsbridge.demo.campaign import LANGUAGES, Campaign, Language, build_campaign
from smsbridge.demo.run import PROVIDERS, REGION, DemoRun, outbox_path, run_demo
from smsbridge.demo.summary import DemoSummary, ProviderSummary, render_text, summarise

__all__ = [
    "LANGUAGES",
    "PROVIDERS",
    "REGION",
    "Campaign",
    "DemoRun",
    "DemoSummary",
    "Language",
    "ProviderSummary",
    "build_campaign",
    "outbox_path",
    "render_text",
    "run_demo",
    "summarise",
]
