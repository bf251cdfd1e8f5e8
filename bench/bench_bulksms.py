"""Benchmark: BulkSMS ``send_batch`` through the provider against a bare urllib3 loop.

Run ``python bench/bench_bulksms.py [--recipients N]``. The emulator runs in a separate
process (lightweight recording) so that neither its work nor its memory is counted on the
client side. Printed:

* messages per second through the provider, a bare urllib3 loop posting the same CSV
  chunks (the floor), and one request per message (naive; measured on a sample and
  extrapolated);
* the provider's overhead ratio over the bare loop (target: within 1.25x);
* peak RSS of a child process streaming ``--rss-recipients`` (default 1,000,000)
  recipients through the provider (target: under 150 MB).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "providers")]

import urllib3  # noqa: E402

from smsbridge import Batch, Recipient  # noqa: E402
from smsbridge_bulksms.emulator import BulkSmsEmulator  # noqa: E402
from smsbridge_bulksms.provider import BulkSmsProvider  # noqa: E402

USER, PASSWORD = "bench-user", "bench-password-123"
BODY = "Your appointment is tomorrow at 10:00. Reply STOP to opt out."
CHUNK = 10_000


def numbers(count: int, offset: int = 0) -> Iterator[str]:
    for i in range(offset, offset + count):
        yield f"+447{i:09d}"


def batch(count: int) -> Batch:
    def source() -> Iterator[Recipient]:
        for i, number in enumerate(numbers(count)):
            yield Recipient(number, reference=f"bench-{i}")

    return Batch(source, body=BODY)


def provider_for(url: str) -> BulkSmsProvider:
    return BulkSmsProvider.from_options(
        base_url=f"{url}/eapi",
        username=USER,
        password=PASSWORD,
        batch_size=CHUNK,
        timeout=120.0,
    )


# -- modes -------------------------------------------------------------------------------


def serve() -> None:
    """Run the emulator until stdin closes; print its URL first."""
    emulator = BulkSmsEmulator(
        username=USER, password=PASSWORD, credits=Decimal(10**9), record_bodies=False
    )
    with emulator:
        print(emulator.url, flush=True)
        sys.stdin.read()


def rss_child(url: str, count: int) -> None:
    """Stream ``count`` recipients through the provider; print peak RSS in KiB."""
    sent = 0
    with provider_for(url) as provider:
        for result in provider.send_batch(batch(count)):
            sent += result.ok
    assert sent == count, (sent, count)
    print(_peak_kib(), flush=True)


def baseline_child() -> None:
    """Peak RSS after imports only, for comparison."""
    print(_peak_kib(), flush=True)


def _peak_kib() -> int:
    # Linux carries ru_maxrss across exec, so a child spawned by a big parent reports at
    # least the parent's size; VmHWM is this process image's own high-water mark, so it
    # is used where /proc exists, ru_maxrss elsewhere.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return peak
    hwm = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0
    )
    return hwm if hwm else peak


# -- measurements --------------------------------------------------------------------------


def run_provider(url: str, count: int) -> float:
    started = time.perf_counter()
    accepted = 0
    with provider_for(url) as provider:
        for result in provider.send_batch(batch(count)):
            accepted += result.ok
    elapsed = time.perf_counter() - started
    assert accepted == count, (accepted, count)
    return elapsed


def _bare_body(chunk: list[str], stop_dup_id: int) -> bytes:
    out = io.StringIO()
    out.write("msisdn,message\n")
    writer = csv.writer(
        out, quoting=csv.QUOTE_ALL, escapechar="\\", doublequote=False, lineterminator="\n"
    )
    writer.writerows([n[1:], BODY] for n in chunk)
    fields = [
        ("username", USER),
        ("password", PASSWORD),
        ("batch_data", out.getvalue()),
        ("stop_dup_id", str(stop_dup_id)),
    ]
    return urlencode(fields, encoding="iso-8859-1").encode("ascii")


# The bare loop's stop_dup_ids, fresh across calls: the emulator answers a repeated id with
# the earlier answer without reading the batch, which would make later rounds of the floor
# cheaper than the provider's (whose ids are fresh) and the comparison meaningless.
_bare_stop_dup = itertools.count(500_000_001)


def run_bare(url: str, count: int) -> float:
    """What one would write by hand: csv + urlencode + urllib3, one keep-alive connection."""
    pool = urllib3.PoolManager(maxsize=1, retries=False)
    target = f"{url}/eapi/submission/send_batch/1/1.0"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter()
    chunk: list[str] = []
    accepted = 0

    def post(items: list[str]) -> int:
        stop_dup = next(_bare_stop_dup)
        reply = pool.request("POST", target, body=_bare_body(items, stop_dup), headers=headers)
        assert reply.status == 200 and reply.data.startswith(b"0|"), reply.data
        return len(items)

    for number in numbers(count, offset=10**8):
        chunk.append(number)
        if len(chunk) == CHUNK:
            accepted += post(chunk)
            chunk = []
    if chunk:
        accepted += post(chunk)
    elapsed = time.perf_counter() - started
    pool.clear()
    assert accepted == count
    return elapsed


def run_naive(url: str, count: int) -> float:
    """One ``send_sms`` request per message."""
    pool = urllib3.PoolManager(maxsize=1, retries=False)
    target = f"{url}/eapi/submission/send_sms/2/2.0"
    started = time.perf_counter()
    for number in numbers(count, offset=2 * 10**8):
        reply = pool.request(
            "POST",
            target,
            fields={"username": USER, "password": PASSWORD, "msisdn": number[1:], "message": BODY},
            encode_multipart=False,
        )
        assert reply.status == 200 and reply.data.startswith(b"0|"), reply.data
    elapsed = time.perf_counter() - started
    pool.clear()
    return elapsed


def run_model_floor(count: int) -> float:
    """The core's own per-recipient objects, no I/O: iterate the Batch, make SendResults."""
    from smsbridge import SendResult, Status

    started = time.perf_counter()
    for recipient in batch(count):
        SendResult(
            recipient.number,
            Status.ACCEPTED,
            provider="bulksms",
            message_id="1:" + recipient.number[1:],
            reference=recipient.reference,
        )
    return time.perf_counter() - started


def child(*args: str) -> int:
    out = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=500)
    parser.add_argument("--rss-recipients", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss-child", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()
    if args.rss_child:
        return rss_child(args.rss_child[0], int(args.rss_child[1]))
    if args.baseline_child:
        return baseline_child()

    server = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        n = args.recipients
        run_provider(url, min(n, 20_000))  # warm-up: imports, connections
        run_bare(url, min(n, 20_000))
        # Rounds alternate provider and bare loop, and each side keeps its best: noise
        # from other load on a shared machine hits both sides alike.
        lib_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(args.rounds):
            lib_times.append(run_provider(url, n))
            bare_times.append(run_bare(url, n))
        lib, bare = min(lib_times), min(bare_times)
        naive = run_naive(url, args.naive_sample)
        model = min(run_model_floor(n) for _ in range(args.rounds))
        rounds = ", ".join(f"{p:.2f}/{b:.2f}" for p, b in zip(lib_times, bare_times, strict=True))
        print(f"recipients per batch run:       {n:,} (chunks of {CHUNK:,}); best of {args.rounds}")
        print(f"provider send_batch:            {n / lib:12,.0f} msg/s  ({lib:.2f} s)")
        print(f"bare urllib3 loop (floor):      {n / bare:12,.0f} msg/s  ({bare:.2f} s)")
        estimate = naive / args.naive_sample * n
        print(
            f"one request per message:        {args.naive_sample / naive:12,.0f} msg/s  "
            f"(sample {args.naive_sample:,}; {n:,} would take ~{estimate:.0f} s)"
        )
        print(f"overhead ratio provider/bare:   {lib / bare:12.2f}x  (target <= 1.25x)")
        print(f"rounds, provider/bare seconds:  {rounds}")
        print(
            f"core model alone (Batch iteration + SendResult per recipient, no I/O): {model:.2f} s"
        )
        base = child("--baseline-child")
        peak = child("--rss-child", url, str(args.rss_recipients))
        print(
            f"peak RSS, {args.rss_recipients:,} recipients: {peak / 1024:9.1f} MB  "
            f"(imports alone {base / 1024:.1f} MB; target < 150 MB)"
        )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
