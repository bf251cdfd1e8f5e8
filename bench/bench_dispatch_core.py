"""The dispatch core's figures: each printed with its ratio against a baseline run here.

1. durable BulkSMS, shared body, through SmsBridge vs the provider called directly;
2. durable BulkSMS, a distinct text per recipient, vs the shared-body durable run;
3. requests per batch at the emulators (BulkSMS distinct texts, Clickatell shared text,
   Huawei distinct template values);
4. per-message ``send()`` through SmsBridge (SQLite, durability normal) vs the provider
   called directly, both one request per message, with the emulator in this process and
   in a process of its own;

   (1 and 4 also print floors: what the outbox's own rows cost on SQLite with no Python
   work around them, added to the direct time: the best ratio any durable path on this
   schema could print; 4 also times those commits each followed by its request, as the
   bridge makes them, and says whether 2,000/s is within reach of this machine;)
5. peak RSS of a template batch through SmsBridge at 200,000 and 1,000,000 recipients
   (each in a fresh process; ``--quick``: 50,000 and 200,000);
6. the timeout race (slow accepts past the client timeout, lost answers, a backup
   provider): recipients accepted by both providers.

``--quick`` runs smaller sizes.
"""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from smsbridge import Batch, Message, Recipient, SendResult, SmsBridge, Status, Template
from smsbridge.outbox.schema import migrate
from smsbridge.testing import AcceptThenDrop, Delay, on_path
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

QUICK = "--quick" in sys.argv


def numbers(count: int, stem: str = "+4477") -> list[str]:
    width = 13 - len(stem)
    return [f"{stem}{index:0{width}d}" for index in range(count)]


def accepted(results: Iterable[SendResult]) -> int:
    statuses = Counter(r.status for r in results)
    if set(statuses) != {Status.ACCEPTED}:
        raise SystemExit(f"not every message was accepted: {dict(statuses)}")
    return statuses[Status.ACCEPTED]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def personalised(wanted: list[str]) -> Batch:
    people = [Recipient(n, variables={"code": f"{i:06d}"}) for i, n in enumerate(wanted)]
    return Batch(people, template=Template("Your code is {code}"))


def bulk(count: int, root: Path) -> None:
    with BulkSmsEmulator(credits=Decimal(10**9), record_bodies=False) as emulator:
        options = BulkSmsProvider.emulator_options(emulator)
        with BulkSmsProvider.from_options(**options) as provider:
            direct = timed(
                lambda: accepted(provider.send_batch(Batch(numbers(count, "+4478"), body="d")))
            )
        runs: dict[str, float] = {}
        for name, batch in (
            ("shared", Batch(numbers(count, "+4476"), body="Doors open at 7")),
            ("distinct", personalised(numbers(count, "+4475"))),
        ):
            with (
                BulkSmsProvider.from_options(**options) as provider,
                SmsBridge([provider], store=root / f"bulk-{name}.sqlite3", max_wait=300) as bridge,
            ):
                start = time.perf_counter()
                accepted(bridge.iter_send_batch(batch))
                runs[name] = time.perf_counter() - start
    shared, distinct = count / runs["shared"], count / runs["distinct"]
    print(
        f"durable BulkSMS {count:,}, shared body      bridge {shared:>9,.0f}/s  direct "
        f"{count / direct:>9,.0f}/s  ratio {shared / (count / direct):4.2f}  (target >= 0.5)"
    )
    print(
        f"durable BulkSMS {count:,}, distinct texts   bridge {distinct:>9,.0f}/s  shared "
        f"{shared:>9,.0f}/s  ratio {distinct / shared:4.2f}  (target >= 0.67, within 1.5x)"
    )
    floor = sqlite_floor(count, root / "floor.sqlite3")
    print(
        f"SQLite floor {count:,} (1 insert + 1 update per row, nothing else)  "
        f"{count / (direct + floor):>9,.0f}/s  direct {count / direct:>9,.0f}/s  "
        f"best possible ratio {direct / (direct + floor):4.2f}"
    )
    floor = schema_floor(count, root / "schema-floor.sqlite3")
    print(
        f"outbox schema floor {count:,} (item + attempt rows written and settled, "
        f"executemany, no Python work)  {count / (direct + floor):>9,.0f}/s  "
        f"best possible ratio {direct / (direct + floor):4.2f}"
    )


def floor_connection(path: Path, *, outbox_schema: bool) -> sqlite3.Connection:
    """A connection set up as the outbox sets up its own (WAL, ``synchronous=NORMAL``),
    with the outbox's tables when ``outbox_schema``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    if outbox_schema:
        migrate(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def sqlite_floor(count: int, path: Path) -> float:
    """Seconds for the least a durable path must write per recipient: the row added
    and the row settled, in one transaction each, as executemany with no bookkeeping.
    The provider's own time plus this is the fastest any durable send can be."""
    conn = floor_connection(path, outbox_schema=False)
    conn.execute(
        "CREATE TABLE items (seq INTEGER PRIMARY KEY, reference TEXT UNIQUE, "
        "recipient TEXT, body TEXT, state TEXT, message_id TEXT)"
    )
    rows = [(f"b-{i}", f"+4474{i:08d}", "Doors open at 7") for i in range(count)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO items (reference, recipient, body, state) VALUES (?, ?, ?, 'pending')",
        rows,
    )
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany(
        "UPDATE items SET state = 'done', message_id = ? WHERE seq = ?",
        [(f"m{i}", i + 1) for i in range(count)],
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def schema_floor(count: int, path: Path) -> float:
    """Seconds for the rows the outbox itself must write per recipient, on its own
    schema (every index it keeps for claims, reports and batches): the item added, its
    attempt opened, both settled, 10,000 rows per transaction as executemany, with no
    Python work around them. No durable path on this schema can beat it."""
    conn = floor_connection(path, outbox_schema=True)
    elapsed = 0.0
    for start in range(0, count, 10_000):
        refs = [f"floor-{i}" for i in range(start, min(start + 10_000, count))]
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO items (reference, recipient, body, sender, options, batch, "
            "next_attempt_at, state, created_at, updated_at, lease_owner, lease_until, "
            "provider, attempts) VALUES (?, ?, 'Doors open at 7', NULL, '{}', 'floor', 1, "
            "'inflight', 1, 1, 'owner', 99, 'bulksms', 1)",
            [(ref, f"+4474{ref[6:]:>08}") for ref in refs],
        )
        conn.executemany(
            "INSERT INTO attempts (reference, provider, started_at) VALUES (?, 'bulksms', 1)",
            [(ref,) for ref in refs],
        )
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "UPDATE items SET state = 'done', status = 'accepted', message_id = ?, "
            "message_key = ?, parts = 1, updated_at = 2, lease_owner = NULL, "
            "lease_until = NULL WHERE reference = ?",
            [(ref, ref, ref) for ref in refs],
        )
        conn.executemany(
            "UPDATE attempts SET finished_at = 2, outcome = 'accepted' "
            "WHERE reference = ? AND finished_at IS NULL",
            [(ref,) for ref in refs],
        )
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - began
    conn.close()
    return elapsed


def message_floor(
    count: int, path: Path, send: Callable[[Message], object] | None = None, stem: str = "+4473"
) -> float:
    """Seconds for the one commit per message a durable per-message send makes on the
    outbox's schema under durability normal (the item with its attempt before the
    request, carrying the previous message's result), with no Python work around them;
    with ``send``, each commit followed by that message's request to the provider, as
    the bridge does: the floor of the bridge itself. (The same statements cost about
    twice as much between requests as in a loop of their own: the request's work leaves
    SQLite's code and pages out of the processor's caches.)"""
    conn = floor_connection(path, outbox_schema=True)
    messages = [Message(number, "f", reference=number[1:]) for number in numbers(count, stem)]
    began = time.perf_counter()
    previous: str | None = None
    for index in range(count):
        ref = f"m{index:08d}{index * 7919 % 100_003:06d}"  # not in insertion order
        conn.execute("BEGIN IMMEDIATE")
        if previous is not None:
            conn.execute(
                "UPDATE attempts SET finished_at = 2, outcome = 'accepted' "
                "WHERE reference = ? AND finished_at IS NULL",
                (previous,),
            )
            conn.execute(
                "UPDATE items SET state = 'done', status = 'accepted', message_id = ?, "
                "message_key = ?, updated_at = 2, lease_owner = NULL, lease_until = NULL "
                "WHERE reference = ?",
                (previous, previous, previous),
            )
        conn.execute(
            "INSERT INTO items (reference, recipient, body, sender, options, batch, "
            "next_attempt_at, state, created_at, updated_at, lease_owner, lease_until, "
            "provider, attempts) VALUES (?, ?, 'b', NULL, '{}', NULL, 1, 'inflight', 1, 1, "
            "'owner', 99, 'clickatell', 1)",
            (ref, f"+4474{index:08d}"),
        )
        conn.execute(
            "INSERT INTO attempts (reference, provider, started_at) VALUES (?, 'clickatell', 1)",
            (ref,),
        )
        conn.execute("COMMIT")
        previous = ref
        if send is not None:
            send_each(send, messages[index : index + 1])
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def requests(root: Path) -> None:
    with BulkSmsEmulator(credits=Decimal(10**8), record_bodies=False) as emulator:
        options = BulkSmsProvider.emulator_options(emulator)
        with (
            BulkSmsProvider.from_options(**options) as provider,
            SmsBridge([provider], store=root / "rq-b.sqlite3", max_wait=120) as bridge,
        ):
            accepted(bridge.iter_send_batch(personalised(numbers(10_000))))
        sent = sum(1 for r in emulator.requests.snapshot() if "/send_batch/" in r.path)
    print(f"requests, 10,000 BulkSMS distinct texts     {sent:>5}  (was 10,000; target 1-2)")
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        with (
            ClickatellProvider.from_options(**options) as clickatell,
            SmsBridge([clickatell], store=root / "rq-c.sqlite3", max_wait=120) as bridge,
        ):
            accepted(bridge.iter_send_batch(Batch(numbers(3_000), body="Doors open at 7")))
        sent = sum(1 for r in emulator.requests.snapshot() if r.path.endswith("sendmsg"))
    print(f"requests, 3,000 Clickatell shared text      {sent:>5}  (was 3,000; target <= 10)")
    template_id = "tplintl0000000000000000000000001"
    with HuaweiEmulator(app_key="key-1", app_secret="s3cret-1") as emulator:
        emulator.register_template(template_id, "Your code is ${NUM_6}", region="INTL")
        template = Template("Your code is {num_6}", provider_ids={"huawei": template_id})
        people = [
            Recipient(n, variables={"num_6": f"{i:06d}"}) for i, n in enumerate(numbers(1000))
        ]
        options = HuaweiProvider.emulator_options(emulator)
        with (
            HuaweiProvider.from_options(**options) as huawei,
            SmsBridge([huawei], store=root / "rq-h.sqlite3", max_wait=120) as bridge,
        ):
            accepted(bridge.iter_send_batch(Batch(people, template=template)))
        sent = len(emulator.requests)
    print(f"requests, 1,000 Huawei distinct values      {sent:>5}  (was 1,000; target <= 10)")


CLICKATELL_SERVER = """
import json, sys
from decimal import Decimal
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
    print(json.dumps(ClickatellProvider.emulator_options(emulator), default=str), flush=True)
    sys.stdin.read()
"""


def per_message(count: int, root: Path) -> None:
    """One message per ``send()``, the emulator in this process and in a process of its
    own (as a provider is: in this process its server thread competes with the sender
    for the interpreter lock, a cost no deployment pays)."""
    with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
        options = ClickatellProvider.emulator_options(emulator)
        direct, bridged = message_rates(options, count, root / "pm.sqlite3")
    message_line("this process", count, direct, bridged)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CLICKATELL_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        options = json.loads(server.stdout.readline())
        direct, bridged = message_rates(options, count, root / "pm-own.sqlite3")
        # Against the own-process run: the floors of the figure its line prints.
        alone = message_floor(count, root / "pm-floor.sqlite3")
        with ClickatellProvider.from_options(**options) as provider:
            floor = min(
                message_floor(
                    count, root / f"pm-floor-{round_}.sqlite3", provider.send, f"+4473{round_}"
                )
                for round_ in range(3)
            )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)
    message_line("own process", count, direct, bridged)
    print(
        f"per-message floor, the commits timed alone (direct + 1 commit per message on the "
        f"outbox schema, no Python) {count / (direct + alone):>9,.0f}/s  "
        f"best possible ratio {direct / (direct + alone):4.2f}"
    )
    print(
        f"per-message floor, each commit followed by its request (as the bridge sends, no "
        f"other Python) {count / floor:>9,.0f}/s  best possible ratio {direct / floor:4.2f}"
    )
    # 2,000/s is a figure of the machine as much as of the bridge: say which it is here.
    reach = "within reach" if count / floor >= 2000 else "out of reach"
    print(
        f"per-message target 2,000/s on this machine: {reach} (the second floor; the "
        f"provider alone {count / direct:,.0f}/s, the bridge {count / bridged:,.0f}/s, "
        f"{floor / bridged:4.2f} of the floor)"
    )


def message_rates(
    options: dict[str, Any], count: int, store: Path, rounds: int = 3
) -> tuple[float, float]:
    """Seconds for ``count`` messages sent one by one, to the provider and through
    SmsBridge: the best of ``rounds`` runs each, taken in turns (one request per message
    is short enough for a busy neighbour on a shared machine to skew a single run)."""
    direct: list[float] = []
    bridged: list[float] = []
    with (
        ClickatellProvider.from_options(**options) as provider,
        ClickatellProvider.from_options(**options) as through,
        SmsBridge([through], store=store) as bridge,
    ):
        for number in numbers(50, "+4479"):
            bridge.send(Message(number, "warm"))
        for round_ in range(rounds):
            plain = [Message(n, "d", reference=n[1:]) for n in numbers(count, f"+4478{round_}")]
            direct.append(timed(partial(send_each, provider.send, plain)))
            durable = [Message(n, "b") for n in numbers(count, f"+4477{round_}")]
            bridged.append(timed(partial(send_each, bridge.send, durable)))
    return min(direct), min(bridged)


def send_each(send: Callable[[Message], object], messages: list[Message]) -> None:
    for message in messages:
        sent = send(message)
        accepted(sent if isinstance(sent, list) else [sent])  # type: ignore[list-item]


def message_line(where: str, count: int, direct: float, bridged: float) -> None:
    print(
        f"per-message send(), SQLite normal, emulator in {where:<12} bridge "
        f"{count / bridged:>9,.0f}/s  direct {count / direct:>9,.0f}/s  "
        f"ratio {direct / bridged:4.2f}  (target 2,000/s)"
    )


RSS_SCRIPT = """
import sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_bulksms import _peak_kib, provider_for
from smsbridge import Batch, Recipient, SmsBridge, Template

url, count = sys.argv[1], int(sys.argv[2])
people = (Recipient(f"+4477{i:08d}", variables={"code": f"{i:06d}"}) for i in range(count))
batch = Batch(people, template=Template("Your code is {code}"))
with tempfile.TemporaryDirectory() as tmp:
    with SmsBridge([provider_for(url)], store=Path(tmp) / "o.sqlite3", max_wait=600) as bridge:
        sent = sum(1 for _ in bridge.iter_send_batch(batch))
print(sent, _peak_kib() // 1024)
"""


def rss() -> None:
    """Peak RSS of the sending process alone: the emulator runs in a process of its own
    (bench_bulksms.py --serve), so its records do not count."""
    sizes = (50_000, 200_000) if QUICK else (200_000, 1_000_000)
    here = str(Path(__file__).parent)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, str(Path(here) / "bench_bulksms.py"), "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    peaks = []
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        for size in sizes:
            proc = subprocess.run(  # noqa: S603
                [sys.executable, "-c", RSS_SCRIPT, url, str(size), here],
                capture_output=True,
                text=True,
                check=True,
            )
            sent, peak = proc.stdout.split()
            assert int(sent) == size, proc.stdout
            peaks.append(int(peak))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)
    print(
        f"peak RSS, template batch {sizes[0]:,} / {sizes[1]:,}: {peaks[0]} MB / {peaks[1]} MB,"
        f" +{peaks[1] - peaks[0]} MB  (target < 110 MB, < +10 MB)"
    )


def race(count: int, root: Path) -> None:
    with (
        ClickatellEmulator(balance=Decimal(10**7), seed=3) as primary,
        BulkSmsEmulator(credits=Decimal(10**7)) as backup,
    ):
        send = on_path("/http/sendmsg")
        primary.faults.add(Delay(1.5), fraction=0.02, match=send)
        primary.faults.add(AcceptThenDrop(), fraction=0.02, match=send)
        clickatell = ClickatellProvider.from_options(
            **ClickatellProvider.emulator_options(primary), timeout=0.5, lookup_horizon=5.0
        )
        bulksms = BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(backup))
        wanted = numbers(count)
        # Per-recipient messages, as an application sending one OTP at a time does.
        with SmsBridge([clickatell, bulksms], store=root / "race.sqlite3", max_wait=1) as bridge:
            for number in wanted:
                bridge.send(Message(number, "Race day"))
            summary = bridge.resume(patience=30)
        both = set(primary.submissions.accepted_recipients()) & set(
            backup.submissions.accepted_recipients()
        )
        total = primary.submissions.accepted_recipients() + backup.submissions.accepted_recipients()
    lost = len(set(wanted) - set(total))
    twice = sum(1 for n in total.values() if n > 1)
    print(
        f"timeout race, {count:,} recipients: at two providers {len(both)}, twice {twice}, "
        f"lost {lost}, unsettled {summary.unsettled}  (was 161 at two of 50,000; target 0)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bulk(20_000 if QUICK else 100_000, root)
        requests(root)
        per_message(500 if QUICK else 3000, root)
        race(500 if QUICK else 5000, root)
        rss()
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
