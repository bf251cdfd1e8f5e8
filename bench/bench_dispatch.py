"""End-to-end throughput through SmsBridge and its SQLite outbox, against emulators.

Each scenario measures the provider called directly (no outbox) in the same run and
prints the bridge's rate with the ratio against it:

1. per-message sends (Clickatell, ``send()`` one message at a time, one recipient per
   request), concurrency 1;
2. BulkSMS batches through grouped requests (100,000 recipients; 10,000 with
   ``--quick``);
3. one request per message (a distinct text each) with 50 ms of emulator latency at
   concurrency 32, once with the
   stock Clickatell provider (its HTTP pool holds 4 connections, which caps direct and
   bridged sends alike at about 4 / 0.05 s) and once with a 32-connection pool, which
   shows what the dispatcher itself sustains at that concurrency.

Both durability modes of the bridge are measured for the per-message case, since that
is where a disk flush per commit shows. The issue's targets are printed next to each
number. ``--quick`` runs smaller sizes as a smoke test; the full run takes about a
minute.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from smsbridge import Batch, Message, Recipient, SendResult, SmsBridge, Status, Template
from smsbridge.provider import ProviderOptions
from smsbridge.testing import Delay
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.session import ClickatellSession


class WidePoolClickatell(ClickatellProvider):
    """Clickatell with a 32-connection HTTP pool (bench only).

    The stock provider keeps the HTTP client's default pool of 4, so 32 threads share
    4 connections whether or not the outbox is involved; this variant shows the
    dispatcher's own ceiling at concurrency 32.
    """

    def __init__(self, options: ProviderOptions, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self._http.close()
        self._http = self.http_client(pool_size=32)
        self._session = ClickatellSession(self._http, self.options, self._clock)


def numbers(count: int, stem: str = "+4477") -> list[str]:
    """``count`` distinct UK mobile numbers starting with ``stem`` (13 characters each)."""
    width = 13 - len(stem)
    return [f"{stem}{index:0{width}d}" for index in range(count)]


def accepted(results: Iterable[SendResult]) -> int:
    """How many results are ``ACCEPTED``; a run where any is not is no measurement."""
    statuses = Counter(r.status for r in results)
    if set(statuses) != {Status.ACCEPTED}:
        raise SystemExit(f"not every message was accepted: {dict(statuses)}")
    return statuses[Status.ACCEPTED]


def rate(count: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def line(name: str, direct: float, bridged: float, target: str) -> None:
    print(
        f"{name:<44} direct {direct:>8,.0f}/s  bridge {bridged:>8,.0f}/s  "
        f"ratio {bridged / direct:4.2f}  (target {target})"
    )


def per_message(count: int, root: Path) -> None:
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        with ClickatellProvider.from_options(**options) as provider:

            def direct_run() -> None:
                for number in numbers(count, "+4478"):
                    accepted(provider.send(Message(number, "direct", reference=number[1:])))

            direct = rate(count, direct_run)
        for index, durability in enumerate(("normal", "full")):
            # A bridge closes its providers: each run gets its own.
            with ClickatellProvider.from_options(**options) as provider:
                bridged = bridge_rate(count, provider, root, durability, f"+44770{index}")
            line(f"per-message, durability={durability}", direct, bridged, ">= 1,000/s")


def bridge_rate(
    count: int, provider: ClickatellProvider, root: Path, durability: str, stem: str
) -> float:
    mode: Literal["normal", "full"] = "full" if durability == "full" else "normal"
    with SmsBridge([provider], store=root / f"pm-{mode}.sqlite3", durability=mode) as bridge:
        # Warm up (number metadata, connections) outside the measurement.
        accepted(bridge.send_batch(Batch(numbers(50, stem + "9"), body="warm")))
        messages = [Message(n, "pm") for n in numbers(count, stem + "1")]

        def one_by_one() -> None:
            # send() per message, as an application sending one OTP at a time does.
            for message in messages:
                accepted([bridge.send(message)])  # type: ignore[list-item]

        return rate(count, one_by_one)


def bulk(count: int, root: Path) -> None:
    with BulkSmsEmulator(credits=Decimal(10**8), record_bodies=False) as emulator:
        options = BulkSmsProvider.emulator_options(emulator)
        with BulkSmsProvider.from_options(**options) as provider:

            def direct_run() -> None:
                accepted(provider.send_batch(Batch(numbers(count, "+4478"), body="direct")))

            direct = rate(count, direct_run)
            with SmsBridge([provider], store=root / "bulk.sqlite3", max_wait=120) as bridge:
                bridge.dispatcher.claim_size = 10_000

                def bridged_run() -> None:
                    accepted(bridge.iter_send_batch(Batch(numbers(count), body="bulk")))

                start = time.perf_counter()
                bridged_run()
                elapsed = time.perf_counter() - start
    line(f"bulksms {count:,} ({elapsed:.1f} s through the bridge)", direct, count / elapsed,
         "100,000 in < 60 s")  # fmt: skip


def warm_up(provider: ClickatellProvider) -> None:
    """Open the pool's connections a few milliseconds apart.

    32 connections opened at the same instant overflow the emulator's listen backlog
    (some are reset); once open they are kept alive, so the runs measure sending.
    """
    with ThreadPoolExecutor(32) as pool:
        futures = []
        for number in numbers(64, "+447799"):
            futures.append(pool.submit(provider.send, Message(number, "warm")))
            time.sleep(0.003)
        for future in futures:
            accepted(future.result())


def latency(count: int, root: Path, provider_class: type[ClickatellProvider]) -> None:
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        emulator.faults.add(Delay(0.05))
        options = ClickatellProvider.emulator_options(emulator)
        with provider_class.from_options(**options) as provider:

            def direct_run() -> None:
                with ThreadPoolExecutor(32) as pool:
                    messages = [Message(n, "d", reference=n[1:]) for n in numbers(count, "+4478")]
                    for results in pool.map(provider.send, messages):
                        accepted(results)

            warm_up(provider)
            direct = rate(count, direct_run)
            store = root / f"lat-{provider_class.__name__}.sqlite3"
            with SmsBridge([provider], store=store, concurrency=32) as bridge:
                # A distinct text per recipient: Clickatell takes one text per request,
                # so every message is a request of its own, as on the direct side.
                people = [
                    Recipient(n, variables={"i": str(i)}) for i, n in enumerate(numbers(count))
                ]
                batch = Batch(people, template=Template("slow {i}"))
                bridged = rate(count, lambda: accepted(bridge.send_batch(batch)))
    pool = "32-connection pool" if provider_class is WidePoolClickatell else "stock 4-conn pool"
    line(f"50 ms latency, c=32, {pool}", direct, bridged, ">= 400/s")


def main() -> None:
    """Run every scenario; ``--quick`` uses smaller sizes."""
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        per_message(500 if quick else 3000, root)
        bulk(10_000 if quick else 100_000, root)
        latency(300 if quick else 1000, root, ClickatellProvider)
        latency(500 if quick else 3000, root, WidePoolClickatell)


if __name__ == "__main__":
    main()
