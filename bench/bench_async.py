"""AsyncSmsBridge under 1,000 concurrent sends, against the sync bridge and a native client.

The Clickatell emulator answers every ``sendmsg`` after 50 ms. Each scenario sends 1,000
one-time codes (distinct texts, so no two share a request) while a ticker task wakes
every millisecond and records the event loop's longest stall:

1. **sync baseline**: ``SmsBridge.send`` from 32 threads (a threaded web server);
2. **AsyncSmsBridge**: 1,000 ``send`` tasks at once, 32 worker threads (the design
   shipped: outbox and HTTP on worker threads, waiting on the loop), then 8;
3. **HTTP only, threads**: the provider's own ``send`` on 32 worker threads, no outbox;
4. **HTTP only, native async**: the same ``sendmsg`` through ``httpx.AsyncClient`` (32
   connections, 32 requests in flight), parsed by the provider's parser, no outbox, no
   threads.

Every client gets 32 connections (the stock Clickatell pool holds 4, which would cap
every scenario at 80/s alike). Printed per scenario: throughput, the ratio against the
sync baseline of the same run, the loop's longest stall (target < 20 ms) and the 99th
percentile of the ticker's delays, peak threads and CPU time per message: medians of
three runs each (the worst stall of the three too), since a shared machine is noisy. The
sync baseline's loop does nothing but tick: its stall is what the machine and the GIL
do to a loop, the floor to read the others against. ``--quick`` sends 300, once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from smsbridge import Message, SendResult, SmsBridge, Status
from smsbridge.aio import AsyncSmsBridge
from smsbridge.http.client import HttpClient
from smsbridge.provider import ProviderOptions
from smsbridge.testing import Delay
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell import parsers as clickatell_parsers
from smsbridge_clickatell import protocol as clickatell_protocol
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.session import ClickatellSession

WIDTH = 32
NARROW = 8
ROUNDS = 3
LATENCY = 0.05
TICK = 0.001
STALL_TARGET = 0.020


class WidePoolClickatell(ClickatellProvider):
    """Clickatell with a 32-connection HTTP pool (bench only), as in bench_dispatch."""

    def __init__(self, options: ProviderOptions, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self._http.close()
        self._http = HttpClient(
            base_url=self.options.base_url,
            provider=self.name,
            secrets=self.options.secrets(),
            timeout=self.options.timeout,
            connect_timeout=self.options.connect_timeout,
            allow_insecure=self.options.allow_insecure,
            pool_size=WIDTH,
        )
        self._session = ClickatellSession(self._http, self.options, self._clock)


class Run:
    """What one scenario measured."""

    def __init__(self, count: int, elapsed: float, gaps: list[float], threads: int, cpu: float):
        self.rate = count / elapsed
        gaps = sorted(gaps) or [0.0]
        self.stall = gaps[-1]
        self.worst = self.stall
        self.p99 = gaps[int(0.99 * (len(gaps) - 1))]
        self.threads = threads
        self.cpu_per_message = cpu / count

    @classmethod
    def median(cls, runs: list[Run]) -> Run:
        """The median of each figure over repeated runs (a shared machine is noisy);
        :attr:`worst` keeps the longest stall of all."""
        middle = len(runs) // 2
        stalls = sorted(r.stall for r in runs)
        p99s = sorted(r.p99 for r in runs)
        run = sorted(runs, key=lambda r: r.rate)[middle]
        run.stall, run.p99, run.worst = stalls[middle], p99s[middle], stalls[-1]
        return run


def repeated(measure: Callable[[], Run], rounds: int) -> Run:
    return Run.median([measure() for _ in range(rounds)])


def numbers(count: int, stem: str) -> list[str]:
    width = 13 - len(stem)
    return [f"{stem}{index:0{width}d}" for index in range(count)]


def accepted(results: Iterable[SendResult]) -> None:
    statuses = {r.status for r in results}
    if statuses != {Status.ACCEPTED}:
        raise SystemExit(f"not every message was accepted: {statuses}")


async def measured(count: int, work: Callable[[], Awaitable[None]]) -> Run:
    """Run ``work`` on this loop with a ticker beside it; peak threads sampled too."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    gaps: list[float] = []
    peak = [threading.active_count()]

    async def ticker() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(TICK)
            now = loop.time()
            gaps.append(max(now - last - TICK, 0.0))
            last = now
            peak[0] = max(peak[0], threading.active_count())

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    cpu, start = time.process_time(), time.perf_counter()
    await work()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    done.set()
    await tick
    return Run(count, elapsed, gaps, peak[0], cpu)


def warm(send: Callable[[Message], object]) -> None:
    """Open the connections a few milliseconds apart (a burst overflows the backlog)."""
    with ThreadPoolExecutor(WIDTH) as pool:
        futures = []
        for number in numbers(2 * WIDTH, "+447799"):
            futures.append(pool.submit(send, Message(number, "warm")))
            time.sleep(0.003)
        for future in futures:
            future.result()


def sync_baseline(emulator: dict[str, Any], count: int, root: Path) -> Run:
    provider = WidePoolClickatell.from_options(**emulator)
    with SmsBridge([provider], store=root / "sync.sqlite3") as bridge:
        warm(bridge.send)
        messages = [Message(n, f"code {i}") for i, n in enumerate(numbers(count, "+447701"))]

        async def work() -> None:
            with ThreadPoolExecutor(WIDTH) as pool:
                results = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: list(pool.map(bridge.send, messages))
                )
            accepted(r for r in results if isinstance(r, SendResult))

        return asyncio.run(measured(count, work))


async def async_bridge(emulator: dict[str, Any], count: int, root: Path, threads: int) -> Run:
    provider = WidePoolClickatell.from_options(**emulator)
    store = root / f"async-{threads}.sqlite3"
    async with AsyncSmsBridge([provider], store=store, threads=threads) as bridge:
        warming = []
        for number in numbers(2 * WIDTH, f"+4477{threads:02d}9"):  # its own path, warmed
            warming.append(asyncio.create_task(bridge.send(number, "warm")))
            await asyncio.sleep(0.003)
        accepted(await asyncio.gather(*warming))
        texts = [(n, f"code {i}") for i, n in enumerate(numbers(count, f"+4477{threads:02d}2"))]

        async def work() -> None:
            accepted(await asyncio.gather(*(bridge.send(n, text) for n, text in texts)))

        return await measured(count, work)


async def threads_only(emulator: dict[str, Any], count: int) -> Run:
    provider = WidePoolClickatell.from_options(**emulator)
    with provider, ThreadPoolExecutor(WIDTH) as pool:
        await asyncio.to_thread(warm, provider.send)
        loop = asyncio.get_running_loop()
        messages = [
            Message(n, f"code {i}", reference=f"t{i}")
            for i, n in enumerate(numbers(count, "+447703"))
        ]

        async def work() -> None:
            sends = [loop.run_in_executor(pool, provider.send, m) for m in messages]
            accepted(r for results in await asyncio.gather(*sends) for r in results)

        return await measured(count, work)


async def native_async(emulator: dict[str, Any], count: int) -> Run:
    """The same request through httpx: the provider's field builder and parser."""
    provider = ClickatellProvider.from_options(**emulator)
    credentials = {key: emulator[key] for key in ("api_id", "user", "password")}
    limits = httpx.Limits(max_connections=WIDTH, max_keepalive_connections=WIDTH)

    slots = asyncio.Semaphore(WIDTH)  # as many in flight as connections, the rest queued

    async def send(client: httpx.AsyncClient, message: Message) -> list[SendResult]:
        async with slots:
            return await request(client, message)

    async def request(client: httpx.AsyncClient, message: Message) -> list[SendResult]:
        seg = provider.segmentation(message.body, message.options)
        fields = provider.message_fields(
            seg, message.options, sender=message.sender, reference=message.reference
        )
        wire = [clickatell_protocol.wire_number(n) for n in message.to]
        form = {**credentials, "to": ",".join(wire), **{k: str(v) for k, v in fields}}
        response = await client.post("/http/sendmsg", data=form)
        lines = clickatell_parsers.parse_send(response.text, wire)
        return [
            provider.line_result(
                n, line, reference=message.reference, parts=seg.part_count, scheduled=False
            )
            for n, line in zip(message.to, lines, strict=True)
        ]

    async with httpx.AsyncClient(base_url=emulator["base_url"], limits=limits) as client:
        warming = []
        for number in numbers(2 * WIDTH, "+447799"):  # connections opened a few ms apart
            warming.append(asyncio.create_task(send(client, Message(number, "warm"))))
            await asyncio.sleep(0.003)
        await asyncio.gather(*warming)
        messages = [
            Message(n, f"code {i}", reference=f"n{i}")
            for i, n in enumerate(numbers(count, "+447704"))
        ]

        async def work() -> None:
            results = await asyncio.gather(*(send(client, m) for m in messages))
            accepted(r for batch in results for r in batch)

        run = await measured(count, work)
    provider.close()
    return run


def line(name: str, run: Run, baseline: Run) -> None:
    verdict = "ok" if run.stall < STALL_TARGET else "OVER"
    print(
        f"{name:<34} {run.rate:>7,.0f}/s  ratio {run.rate / baseline.rate:4.2f}  "
        f"stall {run.stall * 1000:5.1f} ms ({verdict}, worst {run.worst * 1000:5.1f}, "
        f"p99 {run.p99 * 1000:4.1f})  "
        f"threads {run.threads:>3}  "
        f"cpu {run.cpu_per_message * 1e6:5.0f} us/msg"
    )


def serve_emulator(pipe: Any) -> None:
    """In a process of its own, so that its threads take nothing from the measured one."""
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        emulator.faults.add(Delay(LATENCY))
        pipe.send(ClickatellProvider.emulator_options(emulator))
        pipe.recv()  # until told to stop


def main() -> None:
    """Run the four scenarios; ``--quick`` sends 300 messages instead of 1,000."""
    count, rounds = (300, 1) if "--quick" in sys.argv else (1000, ROUNDS)
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_emulator, args=(theirs,), daemon=True)
    server.start()
    try:
        emulator: dict[str, Any] = ours.recv()
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            baseline = repeated(lambda: sync_baseline(emulator, count, root), rounds)
            bridged = repeated(
                lambda: asyncio.run(async_bridge(emulator, count, root, WIDTH)), rounds
            )
            narrow = repeated(
                lambda: asyncio.run(async_bridge(emulator, count, root, NARROW)), rounds
            )
            threaded = repeated(lambda: asyncio.run(threads_only(emulator, count)), rounds)
            native = repeated(lambda: asyncio.run(native_async(emulator, count)), rounds)
    finally:
        ours.send("stop")
        server.join(10)
    print(f"{count:,} concurrent sends, emulator latency {LATENCY * 1000:.0f} ms, "
          f"{WIDTH} connections; stall target < {STALL_TARGET * 1000:.0f} ms")  # fmt: skip
    line("sync SmsBridge, 32 threads", baseline, baseline)
    line(f"AsyncSmsBridge, {WIDTH} workers", bridged, baseline)
    line(f"AsyncSmsBridge, {NARROW} workers", narrow, baseline)
    line("HTTP only: 32 worker threads", threaded, baseline)
    line("HTTP only: httpx.AsyncClient", native, baseline)


if __name__ == "__main__":
    main()
