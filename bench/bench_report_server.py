"""Benchmark: how long ``smsbridge serve-reports`` takes to stop while clients drip.

Run ``python bench/bench_report_server.py [--clients N] [--grace S]``. It starts the
report server in a subprocess (the real command, a real ``smsbridge.toml``), opens N
connections that each start a request and then send one header byte a second forever,
sends SIGTERM and measures until the process has exited. The baseline is the same stop
with no client at all, run alongside; printed: both times and their ratio.

A server whose timeout is per ``recv`` never stops here (each byte resets it); this one
stops within its ``grace`` plus the time to cut the connections still held.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

CONFIG = """store = "outbox.sqlite3"

[providers.bulksms]
base_url = "http://127.0.0.1:9/eapi"
username_env = "BENCH_USER"
password_env = "BENCH_PASSWORD"

[receiver]
port = 0
request_timeout = 3600
max_clients = {max_clients}
grace = {grace}

[receiver.auth.bulksms]
token_env = "BENCH_TOKEN"
"""


def stop_time(clients: int, grace: float, max_clients: int) -> float:
    """Seconds from SIGTERM to exit with ``clients`` dripping connections."""
    with tempfile.TemporaryDirectory() as where:
        path = Path(where)
        (path / "smsbridge.toml").write_text(
            CONFIG.format(grace=grace, max_clients=max_clients), encoding="utf-8"
        )
        env = {
            **os.environ,
            "BENCH_USER": "u",
            "BENCH_PASSWORD": "bench-password",
            "BENCH_TOKEN": "bench-token-0123456789",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "smsbridge", "serve-reports"],
            cwd=path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        parts = urlsplit(line.split(" on ", 1)[1].split()[0])
        socks = []
        for _ in range(clients):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
            sock.sendall(b"POST /bulksms HTTP/1.1\r\nX-Drip: ")
            socks.append(sock)

        def drip() -> None:
            while process.poll() is None:
                for sock in socks:
                    with contextlib.suppress(OSError):
                        sock.send(b"x")
                time.sleep(1.0)

        threading.Thread(target=drip, daemon=True).start()
        time.sleep(1.5)  # every connection accepted and holding its slot or refused
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return float("inf")
        elapsed = time.monotonic() - started
        for sock in socks:
            sock.close()
        process.stdout.close()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--grace", type=float, default=2.0)
    parser.add_argument("--max-clients", type=int, default=64)
    args = parser.parse_args()
    idle = stop_time(0, args.grace, args.max_clients)
    busy = stop_time(args.clients, args.grace, args.max_clients)
    print(f"stop with no client:          {idle:6.2f} s")
    print(f"stop with {args.clients:4d} dripping:      {busy:6.2f} s")
    print(f"ratio busy/idle:              {busy / idle:6.2f}")
    print(f"(grace {args.grace:g} s; the issue's bound is 5 s)")


if __name__ == "__main__":
    main()
