"""What one ``send_sms()`` costs a Django view, by backend, against the core it wraps.

Run: ``python bench/bench_django.py [--messages 300] [--latency 0.05]``.

The Clickatell emulator answers each request after ``--latency`` seconds, as a provider
across the internet would. Three ways of sending the same one-recipient messages are
timed per call on fresh SQLite outboxes:

* the baseline, ``smsbridge.worker.enqueue`` into a store directly (no Django);
* ``send_sms()`` with the ``OutboxBackend`` (what a view pays to queue a message);
* ``send_sms()`` with the ``BridgeBackend`` (what a view pays to send it at once).

Each line prints the mean time per call and its ratio to the baseline, so numbers from
different machines compare by ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.test import override_settings

from smsbridge import Message
from smsbridge.outbox import SqliteStore
from smsbridge.testing import Delay
from smsbridge.worker import enqueue
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

BODY = "Your code is 123456. It expires in 10 minutes."


def per_call(count: int, send: Callable[[int], object]) -> float:
    """Mean seconds per call of ``send(i)`` over ``count`` calls."""
    started = time.perf_counter()
    for i in range(count):
        send(i)
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    settings.configure(INSTALLED_APPS=["smsbridge.contrib.django"], DATABASES={})
    django.setup()
    from smsbridge.contrib.django import send_sms

    with ClickatellEmulator() as emulator, tempfile.TemporaryDirectory() as folder:
        emulator.faults.add(Delay(args.latency))
        options = ClickatellProvider.emulator_options(emulator)

        def site(name: str, backend: str) -> dict[str, Any]:
            return {
                "region": "GB",
                "store": Path(folder) / f"{name}.sqlite3",
                "backend": f"smsbridge.contrib.django.backends.{backend}",
                "providers": {"clickatell": options},
            }

        store = SqliteStore(Path(folder) / "baseline.sqlite3")
        try:
            base = per_call(
                args.messages,
                lambda i: enqueue(store, Message(f"+4477009{i:05d}", BODY), region="GB"),
            )
        finally:
            store.close()
        with override_settings(SMSBRIDGE=site("queued", "OutboxBackend")):
            queued = per_call(args.messages, lambda i: send_sms(f"07700 9{i:05d}", BODY))
        sent_count = max(1, args.messages // 10)  # each waits for the emulator's latency
        with override_settings(SMSBRIDGE=site("sent", "BridgeBackend")):
            sent = per_call(sent_count, lambda i: send_sms(f"07700 9{i:05d}", BODY))
    print(f"provider latency {args.latency * 1000:.0f} ms; {args.messages} messages")
    print(f"baseline enqueue()            {base * 1000:8.2f} ms/call   1.00x")
    print(f"send_sms, OutboxBackend       {queued * 1000:8.2f} ms/call {queued / base:6.2f}x")
    print(f"send_sms, BridgeBackend       {sent * 1000:8.2f} ms/call {sent / base:6.2f}x")


if __name__ == "__main__":
    main()
