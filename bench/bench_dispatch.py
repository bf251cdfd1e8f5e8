"""End-to-end throughput through SmsBridge and its SQLite outbox, against emulators.

Prints per-message sends (Clickatell) through the bridge against the provider called
directly in the same run (the ratio), BulkSMS batches of 100,000 through the bridge, and
per-message sends with 50 ms emulator latency at concurrency 32.
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from smsbridge import Batch, Message, SmsBridge
from smsbridge.testing import Delay
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


def numbers(count: int) -> list[str]:
    return [f"+4477{index:08d}" for index in range(count)]


def per_message(count: int, root: Path) -> None:
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        with ClickatellProvider.from_options(**options) as provider:
            start = time.perf_counter()
            for number in numbers(count):
                provider.send(Message(number, "direct", reference=number[1:]))
            direct = count / (time.perf_counter() - start)
            with SmsBridge([provider], store=root / "pm.sqlite3") as bridge:
                start = time.perf_counter()
                bridge.send_batch(Batch(numbers(count), body="bridged"))
                bridged = count / (time.perf_counter() - start)
    print(f"per-message: direct {direct:,.0f}/s, bridge {bridged:,.0f}/s, "
          f"ratio {bridged / direct:.2f}")  # fmt: skip


def bulk(count: int, root: Path) -> None:
    with BulkSmsEmulator(credits=Decimal(10**8), record_bodies=False) as emulator:
        options = BulkSmsProvider.emulator_options(emulator)
        with (
            BulkSmsProvider.from_options(**options) as provider,
            SmsBridge([provider], store=root / "bulk.sqlite3", max_wait=120) as bridge,
        ):
            bridge.dispatcher.claim_size = 10_000
            start = time.perf_counter()
            for _ in bridge.iter_send_batch(Batch(numbers(count), body="bulk")):
                pass
            elapsed = time.perf_counter() - start
    print(f"bulksms: {count:,} recipients in {elapsed:.1f} s ({count / elapsed:,.0f}/s)")


def latency(count: int, root: Path) -> None:
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        emulator.faults.add(Delay(0.05))
        options = ClickatellProvider.emulator_options(emulator)
        with (
            ClickatellProvider.from_options(**options) as provider,
            SmsBridge([provider], store=root / "lat.sqlite3", concurrency=32) as bridge,
        ):
            start = time.perf_counter()
            bridge.send_batch(Batch(numbers(count), body="slow"))
            rate = count / (time.perf_counter() - start)
    print(f"50 ms latency, concurrency 32: {rate:,.0f}/s")


def main() -> None:
    """Run the three scenarios; ``--quick`` uses smaller sizes."""
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        per_message(500 if quick else 3000, root)
        bulk(10_000 if quick else 100_000, root)
        latency(500 if quick else 3000, root)


if __name__ == "__main__":
    main()
