"""Fixtures: an in-memory outbox, a receiver served on loopback, and outbox driving."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from smsbridge import Message, Provider, SendOptions, SendResult
from smsbridge.outbox import NewItem, SqliteStore
from smsbridge.reports import ReportReceiver, ReportServer
from smsbridge.testing import ManualClock

TOKEN = "tok-0123456789abcdef-report"
OWNER = "worker-1"
Serve = Callable[[ReportReceiver], ReportServer]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    with SqliteStore(":memory:") as opened:
        yield opened


@pytest.fixture
def serve_receiver() -> Iterator[Serve]:
    started: list[ReportServer] = []

    def serve(receiver: ReportReceiver) -> ReportServer:
        server = ReportServer(receiver).start()
        started.append(server)
        return server

    yield serve
    for server in started:
        server.stop()


def submit(
    store: SqliteStore,
    provider: Provider,
    messages: Sequence[tuple[str, str, str]],
    *,
    now: float,
    options: SendOptions | None = None,
) -> list[tuple[str, SendResult]]:
    """Add ``(reference, number, body)`` items, attempt and send each; do not finish."""
    store.add([NewItem(reference=r, recipient=n, body=b) for r, n, b in messages], now=now)
    claimed = store.claim(OWNER, limit=len(messages), now=now, lease_seconds=3600)
    assert len(claimed) == len(messages)
    sent: list[tuple[str, SendResult]] = []
    for reference, number, body in messages:
        store.begin_attempt(reference, owner=OWNER, provider=provider.name, now=now)
        message = Message(number, body, None, reference, options=options or SendOptions())
        (result,) = provider.send(message)
        sent.append((reference, result))
    return sent


def finish(store: SqliteStore, sent: Sequence[tuple[str, SendResult]], *, now: float) -> None:
    """Record the send results (after the reports may already have arrived)."""
    for reference, result in sent:
        store.finish(reference, owner=OWNER, result=result, now=now)
