"""Throughput of 1 and 2 ``smsbridge worker`` processes sharing one SQLite outbox.

Clickatell per-message sends against its emulator with 50 ms latency per request (the
toolkit's ``Delay`` fault), so the rate is bounded by waiting on the provider, which is
what more workers help with. Workers are started first and the messages enqueued once
all of them are up, so process start-up is not timed. Prints both rates and the ratio
(target: 2 workers >= 1.6x 1 worker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from smsbridge.model import Batch
from smsbridge.outbox import ItemState
from smsbridge.outbox.factory import open_store
from smsbridge.testing import Delay
from smsbridge.worker import enqueue
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

MESSAGES = int(os.environ.get("BENCH_WORKERS_MESSAGES", "800"))
CONCURRENCY = 4
LATENCY = 0.05

SCRIPT = """\
import argparse, sys
from smsbridge.cli import worker
parser = argparse.ArgumentParser(prog="smsbridge")
worker.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args, sys.stdout))
"""


def config(root: Path, emulator: ClickatellEmulator, store: Path) -> dict[str, str]:
    """Write ``smsbridge.toml`` for the emulator; returns the credentials' variables."""
    options = ClickatellProvider.emulator_options(emulator)
    env = {f"BENCH_CLICKATELL_{k.upper()}": str(v) for k, v in options.items() if k != "base_url"}
    lines = [f'store = "{store}"', "", "[providers.clickatell]"]
    lines.append(f'base_url = "{options["base_url"]}"')
    lines += [f'{k}_env = "BENCH_CLICKATELL_{k.upper()}"' for k in options if k != "base_url"]
    (root / "smsbridge.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "run_worker.py").write_text(SCRIPT, encoding="utf-8")
    return env


def run(workers: int, root: Path) -> float:
    """Messages per second with ``workers`` worker processes."""
    folder = root / f"w{workers}"
    folder.mkdir()
    store_path = folder / "outbox.sqlite3"
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        emulator.faults.add(Delay(LATENCY))
        env = {**os.environ, **config(folder, emulator, store_path)}
        store = open_store(store_path)
        command = [sys.executable, str(folder / "run_worker.py"), "worker", "--config",
                   str(folder / "smsbridge.toml"), "--concurrency", str(CONCURRENCY),
                   "--poll", "0.02", "--claim-size", "50"]  # fmt: skip
        procs: list[subprocess.Popen[str]] = []
        try:
            for _ in range(workers):
                # The command is this interpreter and a script written above.
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)  # noqa: S603
                procs.append(proc)
            for proc in procs:
                assert proc.stdout is not None
                proc.stdout.readline()  # "worker ... started"
            numbers = [f"+4477{i:08d}" for i in range(MESSAGES)]
            start = time.perf_counter()
            enqueue(store, Batch(numbers, body="bench", reference=f"bench{workers}"))
            while store.counts().get(ItemState.DONE, 0) < MESSAGES:
                time.sleep(0.01)
            elapsed = time.perf_counter() - start
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.communicate(timeout=30)
            store.close()
        sent = len(emulator.submissions.accepted_recipients())
        if sent != MESSAGES:
            raise SystemExit(f"{sent} of {MESSAGES} messages reached the emulator")
    return MESSAGES / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        one = run(1, root)
        two = run(2, root)
    print(f"workers, {MESSAGES} per-message sends, {LATENCY * 1000:.0f} ms latency, "
          f"concurrency {CONCURRENCY} per worker:")  # fmt: skip
    print(f"  1 worker  {one:8,.0f}/s")
    print(f"  2 workers {two:8,.0f}/s")
    print(f"  ratio {two / one:.2f} (target >= 1.6)")


if __name__ == "__main__":
    main()
