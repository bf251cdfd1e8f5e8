"""Benchmark: SMPP throughput against the SMSC emulator with 20 ms per PDU.

Run ``python bench/bench_smpp.py [--messages N] [--latency S]``. The emulator runs in a
child process (so its work is not counted on the client side) and answers every
``submit_sm`` after ``--latency`` seconds (responses overlap, as on a real SMSC).
Printed:

* messages per second through the provider with window 1 and window 10, and their ratio
  (target: window 10 at least 8x window 1);
* messages per second of a batch through ``SmsBridge`` with its SQLite outbox (window
  10, receipts recorded in the same outbox as they arrive), against the provider alone
  with the same window, and their ratio (target: at least 0.5x).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "providers")]

from smsbridge import Batch, Message, Recipient, SmsBridge, make_plugin_manager  # noqa: E402
from smsbridge.reports import ReportReceiver  # noqa: E402
from smsbridge_smpp import SmppProvider  # noqa: E402
from smsbridge_smpp.emulator import SmscEmulator  # noqa: E402

BODY = "Your appointment is tomorrow at 10:00. Reply STOP to opt out."


def numbers(count: int, offset: int = 0) -> Iterator[str]:
    for i in range(offset, offset + count):
        yield f"+447{i:09d}"


class Remote:
    """The address and login of an emulator running in a child process."""

    def __init__(self, url: str) -> None:
        self.url = url
        probe = SmscEmulator()
        self.system_id, self.password = probe.system_id, probe.password


def provider_for(emulator: Remote, window: int) -> SmppProvider:
    return SmppProvider.from_options(
        base_url=emulator.url,
        system_id=emulator.system_id,
        password=emulator.password,
        window=window,
        timeout=30.0,
    )


def serve(latency: float) -> None:
    """Run the emulator until stdin closes; print its URL first."""
    emulator = SmscEmulator(latency=latency).start()
    print(emulator.url, flush=True)
    sys.stdin.read()
    emulator.stop()


def provider_alone(emulator: Remote, window: int, count: int, offset: int) -> float:
    """Messages per second of ``send_rows`` in rows of 100, as the dispatcher groups them."""
    with provider_for(emulator, window) as provider:
        provider.connect()
        rows = [
            Message(number, BODY, reference=f"alone-{window}-{offset + i}")
            for i, number in enumerate(numbers(count, offset))
        ]
        start = time.perf_counter()
        for first in range(0, count, 100):
            results = provider.send_rows(rows[first : first + 100])
            assert all(r.ok for r in results), results
        return count / (time.perf_counter() - start)


def through_bridge(emulator: Remote, window: int, count: int, offset: int) -> float:
    """Messages per second of one batch through SmsBridge and its SQLite outbox."""

    def source() -> Iterator[Recipient]:
        for i, number in enumerate(numbers(count, offset)):
            yield Recipient(number, reference=f"bridge-{offset + i}")

    with tempfile.TemporaryDirectory() as tmp, provider_for(emulator, window) as provider:
        provider.connect()
        manager = make_plugin_manager(load_entry_points=False)
        bridge = SmsBridge(
            [provider], store=str(Path(tmp) / "outbox.db"), plugin_manager=manager, max_wait=120.0
        )
        # Receipts are recorded in the same outbox while the batch goes out, as in use.
        receiver = ReportReceiver([], store=bridge.store, auth={}, plugin_manager=manager)
        provider.report_sink = receiver.record
        with bridge:
            start = time.perf_counter()
            result = bridge.send_batch(Batch(source, body=BODY))
            elapsed = time.perf_counter() - start
        sent = sum(1 for r in result if r.ok)
        assert sent == count, f"only {sent} of {count} went out"
        return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500, help="messages per window-10 run")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per PDU")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return
    child = subprocess.Popen(  # noqa: S603 (this script, our interpreter)
        [sys.executable, __file__, "--serve", "--latency", str(args.latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    emulator = Remote(child.stdout.readline().strip())
    try:
        # Window 1 is slow by design: a fifth of the messages gives a stable rate.
        one = provider_alone(emulator, 1, max(args.messages // 5, 20), 0)
        ten = provider_alone(emulator, 10, args.messages, 100_000)
        bridged = through_bridge(emulator, 10, args.messages, 200_000)
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    print(f"SMPP emulator latency {args.latency * 1000:.0f} ms per PDU")
    print(f"provider, window 1:        {one:8.1f} msg/s")
    print(f"provider, window 10:       {ten:8.1f} msg/s")
    print(f"window 10 / window 1:      {ten / one:8.2f}x (target >= 8x)")
    print(f"SmsBridge + outbox, w 10:  {bridged:8.1f} msg/s")
    print(f"bridge / provider alone:   {bridged / ten:8.2f}x (target >= 0.5x)")


if __name__ == "__main__":
    main()
