"""How soon two ``smsbridge worker`` processes send again after their database comes back.

Two workers share a PostgreSQL outbox on a throwaway cluster and send a long BulkSMS run
to its emulator (10 recipients a request, 20 ms a request). The server is restarted with
``pg_ctl restart -m fast``, then ``-m immediate``, then stopped for 5 s and started. For
each, prints the seconds from "the server accepts connections" (``pg_ctl -w`` returned)
to the emulator's first new acceptance. The workers' backoff is capped at 4 s, so
expect at most about 4 s plus one request (target: under 5 s).

Needs PostgreSQL server binaries (``$SMSBRIDGE_PG_BIN``), like the PostgreSQL tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from smsbridge.model import Batch
from smsbridge.outbox.factory import open_store
from smsbridge.testing import Delay
from smsbridge.testing.postgres import PostgresCluster
from smsbridge.worker import enqueue
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

MESSAGES = int(os.environ.get("BENCH_DB_RESTART_MESSAGES", "40000"))
WORKERS = 2
STOPPED_FOR = 5.0

SCRIPT = """\
import argparse, sys
from smsbridge.cli import worker
parser = argparse.ArgumentParser(prog="smsbridge")
worker.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args, sys.stdout))
"""


def _config(root: Path, emulator: BulkSmsEmulator, store: str) -> dict[str, str]:
    """Write ``smsbridge.toml`` for the emulator; returns the credentials' variables."""
    options = BulkSmsProvider.emulator_options(emulator)
    env = {f"BENCH_BULKSMS_{k.upper()}": str(v) for k, v in options.items() if k != "base_url"}
    lines = [f'store = "{store}"', "", "[providers.bulksms]", "batch_size = 10"]
    lines.append(f'base_url = "{options["base_url"]}"')
    lines += [f'{k}_env = "BENCH_BULKSMS_{k.upper()}"' for k in options if k != "base_url"]
    (root / "smsbridge.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "run_worker.py").write_text(SCRIPT, encoding="utf-8")
    return env


def _first_acceptance_after(emulator: BulkSmsEmulator, outage: Callable[[], None]) -> float:
    """Run ``outage`` (returns once the server accepts connections); seconds until the
    emulator accepts a new request."""
    outage()
    back = time.perf_counter()
    seen = len(emulator.submissions)
    while len(emulator.submissions) == seen:
        if time.perf_counter() - back > 120:
            raise RuntimeError("no acceptance within 120 s of the database coming back")
        time.sleep(0.005)
    return time.perf_counter() - back


def main() -> None:
    """Run the three outages and print the recovery times."""
    cluster = PostgresCluster.start(durable_commits=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store_url = f"{cluster.url}?schema=bench"
        with (
            tempfile.TemporaryDirectory() as folder,
            BulkSmsEmulator(credits=Decimal(10**9), record_bodies=True) as emulator,
        ):
            root = Path(folder)
            emulator.faults.add(Delay(0.02))
            env = {**os.environ, **_config(root, emulator, store_url)}
            store = open_store(store_url)
            try:
                numbers = [f"+4477{i:08d}" for i in range(MESSAGES)]
                enqueue(store, Batch(numbers, body="bench", reference="bench"))
            finally:
                store.close()
            config = str(root / "smsbridge.toml")
            command = [sys.executable, str(root / "run_worker.py"), "worker", "--config", config,
                       "--claim-size", "100", "--poll", "0.2"]  # fmt: skip
            for _ in range(WORKERS):
                # The command is this interpreter and a script written above.
                quiet = subprocess.DEVNULL
                proc = subprocess.Popen(command, stdout=quiet, stderr=quiet, env=env)  # noqa: S603
                procs.append(proc)
            while len(emulator.submissions) < 50:
                time.sleep(0.05)

            def stop_and_start() -> None:
                cluster.halt(mode="fast")
                time.sleep(STOPPED_FOR)
                cluster.resume()

            outages: list[tuple[str, Callable[[], None]]] = [
                ("restart -m fast", lambda: cluster.restart(mode="fast")),
                ("restart -m immediate", lambda: cluster.restart(mode="immediate")),
                (f"stop {STOPPED_FOR:g} s, start", stop_and_start),
            ]
            for name, outage in outages:
                seconds = _first_acceptance_after(emulator, outage)
                print(f"{name:>22}: first acceptance {seconds:.2f} s after the server accepts")
                time.sleep(1.0)
            alive = sum(proc.poll() is None for proc in procs)
            print(f"{alive} of {WORKERS} workers still running (target: all)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop()


if __name__ == "__main__":
    main()
