"""What a progress callback costs a batch, against the same batch without one.

With ``progress=``, ``iter_send_batch`` claims one request's worth per dispatch round
and reads the window's unsettled items back after each round, so every request's
results are reported as it ends. This measures that price: the same Clickatell batch
(groups of 300 numbers, Clickatell's most per request) is sent through ``SmsBridge``
into a fresh SQLite outbox without a callback (the baseline, measured in the same run)
and with one, and the ratio of their times is printed. ``--quick`` sends fewer.
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from smsbridge import Batch, BatchProgress, SmsBridge
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


def _send(
    emulator: ClickatellEmulator, folder: Path, name: str, count: int, *, track: bool
) -> float:
    numbers = [f"+4477009{index:05d}" for index in range(count)]
    batch = Batch(numbers, body="Office closed today", reference=name)
    calls: list[int] = []

    def progress(update: BatchProgress) -> None:
        calls.append(update.done)

    provider = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
    with SmsBridge([provider], store=folder / f"{name}.sqlite3", max_wait=120.0) as bridge:
        started = time.perf_counter()
        sent = sum(
            1 for r in bridge.iter_send_batch(batch, progress=progress if track else None) if r.ok
        )
        seconds = time.perf_counter() - started
    assert sent == count, (sent, count)
    if track:
        assert calls and calls[-1] == count
        print(f"  progress calls: {len(calls)}")
    return seconds


def main(argv: list[str]) -> int:
    """Run the comparison and print both rates and their ratio."""
    count = 1_500 if "--quick" in argv else 6_000
    with (
        tempfile.TemporaryDirectory() as folder,
        ClickatellEmulator(balance=Decimal(10 * count)) as emulator,
    ):
        base = _send(emulator, Path(folder), "plain", count, track=False)
        tracked = _send(emulator, Path(folder), "tracked", count, track=True)
    print(f"without progress: {count / base:,.0f} msg/s ({base:.2f} s for {count:,})")
    print(f"with progress:    {count / tracked:,.0f} msg/s ({tracked:.2f} s for {count:,})")
    print(f"ratio (with / without, time): {tracked / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
