"""The durable dispatcher against real Clickatell emulators and real SQLite files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from smsbridge.dispatch import Dispatcher, item_references
from smsbridge.dispatch.requests import BREAKER_REFRESH
from smsbridge.errors import MessageNotFoundError, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox import BreakerState, ItemState, NewItem, SqliteStore
from smsbridge.router import BreakerBoard, Delivery, Router
from smsbridge.router.breaker import OPEN
from smsbridge.testing import EmulatorFactory, ManualClock
from smsbridge.testing.faults import AcceptThenDrop, HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

SEND = on_path("/http/sendmsg")


class ClickatellB(ClickatellProvider):
    """A second Clickatell account, registered under its own name."""

    name = "clickatell_b"


class OneByOne(ClickatellProvider):
    """Clickatell sending one request per item (no request key): the scenarios below
    count requests, breaker failures and dropped answers per message."""

    def request_key(self, message: Message) -> None:
        return None


class OneByOneB(OneByOne):
    name = "clickatell_b"


def clickatell_not_found(exc: SmsBridgeError) -> bool:
    """Clickatell answers a query for an unknown client reference with error 104."""
    return isinstance(exc, MessageNotFoundError) or exc.code == "104"


def numbers(count: int) -> tuple[str, ...]:
    return tuple(f"+4477009{index:05d}" for index in range(count))


def prepared(count: int, reference: str = "batch-1") -> Message:
    return Message(to=numbers(count), body="Your code is 1234", reference=reference)


@pytest.fixture
def make_emulator(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Callable[..., ClickatellEmulator]:
    def make(**kwargs: Any) -> ClickatellEmulator:
        kwargs.setdefault("balance", Decimal(100_000))
        return smsbridge_emulator_factory(ClickatellEmulator, **kwargs)

    return make


@pytest.fixture
def make_provider() -> Iterator[Callable[..., ClickatellProvider]]:
    made: list[ClickatellProvider] = []

    def make(
        emulator: ClickatellEmulator,
        cls: type[ClickatellProvider] = ClickatellProvider,
        **options: Any,
    ) -> ClickatellProvider:
        provider = cls.from_options(**ClickatellProvider.emulator_options(emulator), **options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "outbox.sqlite3", synchronous="NORMAL") as opened:
        yield opened


def dispatcher(
    providers: list[ClickatellProvider], store: SqliteStore, **kwargs: Any
) -> Dispatcher:
    kwargs.setdefault("not_found", clickatell_not_found)
    return Dispatcher(Router(providers), store, **kwargs)


def test_submit_and_drain_sends_every_recipient_once(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    worker = dispatcher([make_provider(emulator)], store)
    message = prepared(20)
    references = worker.submit(message)
    assert references == [f"batch-1-{i}" for i in range(20)]
    assert store.counts()[ItemState.PENDING] == 20

    worker.drain(timeout=30)

    for reference, number in zip(references, message.to, strict=True):
        item = store.get(reference)
        assert item is not None
        assert item.state is ItemState.DONE
        assert item.recipient == number
        assert item.status is not None and item.status.is_success
        assert item.provider == "clickatell"
        assert item.message_id
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(message.to, 1)


def test_one_recipient_keeps_the_message_reference() -> None:
    assert item_references(prepared(1, "otp-42")) == ["otp-42"]
    long_reference = "r" * 64
    refs = item_references(prepared(12, long_reference))
    assert len(set(refs)) == 12
    assert all(len(ref) <= 64 for ref in refs)


def test_submit_is_idempotent(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    worker = dispatcher([make_provider(emulator)], store)
    message = prepared(5)
    first = worker.submit(message)
    assert worker.submit(message) == first
    assert sum(store.counts().values()) == 5
    worker.drain(timeout=30)
    worker.submit(message)
    worker.drain(timeout=30)
    assert store.counts().get(ItemState.DONE) == 5
    assert emulator.submissions.duplicates() == {}
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(message.to, 1)


def test_history_shows_the_attempt(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    worker = dispatcher([make_provider(emulator)], store)
    (reference,) = worker.submit(prepared(1, "otp-1"))
    worker.drain(timeout=30)
    history = worker.status(reference)
    assert history is not None
    (attempt,) = history.attempts
    assert attempt.provider == "clickatell"
    assert attempt.finished_at is not None
    assert attempt.outcome is not None and attempt.outcome.is_success
    assert not attempt.outcome_unknown
    assert worker.status("no-such-reference") is None


def test_server_errors_fail_over_and_open_the_breaker(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    primary, secondary = make_emulator(), make_emulator()
    primary.faults.add(HttpStatus(500), match=SEND)
    worker = dispatcher(
        [make_provider(primary, OneByOne), make_provider(secondary, OneByOneB)], store
    )
    message = prepared(30)
    references = worker.submit(message)
    worker.drain(timeout=30)

    assert len(primary.submissions) == 0
    assert secondary.submissions.accepted_recipients() == dict.fromkeys(message.to, 1)
    tried_primary = [r for r in primary.requests.snapshot() if r.path == "/http/sendmsg"]
    assert len(tried_primary) in range(1, 6)
    assert store.get_breaker("clickatell").state == OPEN
    assert worker.breakers.state("clickatell") == OPEN
    for reference in references:
        item = store.get(reference)
        assert item is not None and item.state is ItemState.DONE
        assert item.provider == "clickatell_b"
    # The first item failed on the primary, then went through the second provider.
    history = worker.status(references[0])
    assert history is not None
    assert [a.provider for a in history.attempts] == ["clickatell", "clickatell_b"]


def test_permanent_provider_refusal_excludes_the_provider(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    frozen, healthy = make_emulator(frozen=True), make_emulator()
    worker = dispatcher([make_provider(frozen), make_provider(healthy, ClickatellB)], store)
    (reference,) = worker.submit(prepared(1, "otp-7"))
    worker.drain(timeout=30)
    item = store.get(reference)
    assert item is not None
    assert item.state is ItemState.DONE and item.provider == "clickatell_b"
    assert item.excluded_providers == ("clickatell",)
    assert len(healthy.submissions) == 1


def test_lost_answers_are_reconciled_without_duplicates(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    primary, secondary = make_emulator(seed=11), make_emulator(seed=12)
    drops = primary.faults.add(AcceptThenDrop(), fraction=0.05, match=SEND)
    worker = dispatcher(
        [make_provider(primary, OneByOne), make_provider(secondary, OneByOneB)], store
    )
    message = prepared(300)
    references = worker.submit(message)
    worker.drain(timeout=60)

    assert drops.fired > 0
    union = primary.submissions.accepted_recipients() + secondary.submissions.accepted_recipients()
    assert {n for n, count in union.items() if count > 1} == set()
    for reference, number in zip(references, message.to, strict=True):
        item = store.get(reference)
        assert item is not None
        if item.state is ItemState.UNKNOWN:
            continue  # not lost: reported as unknown
        assert item.state is ItemState.DONE
        assert union[number] == 1
    unknown = store.counts().get(ItemState.UNKNOWN, 0)
    assert unknown == 0  # Clickatell finds every dropped answer by client reference
    assert len(secondary.submissions) == 0  # nothing failed over on a guess


def test_retry_after_is_stored_not_slept(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    emulator.faults.add(HttpStatus(503, retry_after=2), next_n=1, match=SEND)
    clock = ManualClock(start=time.time())
    slept: list[float] = []
    worker = dispatcher([make_provider(emulator)], store, clock=clock, sleep=slept.append)
    (reference,) = worker.submit(prepared(1, "otp-9"))
    start = clock()

    assert worker.run_once() == 1
    item = store.get(reference)
    assert item is not None
    assert item.state is ItemState.RETRY_WAIT
    assert item.next_attempt_at >= start + 2
    assert worker.run_once() == 0  # not due yet
    assert len(emulator.submissions) == 0

    clock.advance(2)
    assert worker.run_once() == 1
    item = store.get(reference)
    assert item is not None and item.state is ItemState.DONE
    assert len(emulator.submissions) == 1
    assert slept == []


def test_breaker_state_is_shared_through_the_store(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    provider = make_provider(make_emulator())
    first = dispatcher([provider], store, owner="w1")
    second = dispatcher([provider], store, owner="w2")
    for _ in range(first.breakers.threshold):
        first.breakers.failure("clickatell")
    assert second.breakers.state("clickatell") == OPEN
    assert not second.breakers.allows("clickatell")
    assert isinstance(second.breakers, BreakerBoard)


def test_interrupted_attempt_never_sent_is_resent_after_resume(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    worker = dispatcher([make_provider(emulator)], store, owner="w1")
    (reference,) = worker.submit(prepared(1, "otp-10"))
    # A crash right after the attempt was recorded, before the request left.
    (claimed,) = store.claim("w1", limit=1, now=time.time(), lease_seconds=60)
    store.begin_attempt(claimed.reference, owner="w1", provider="clickatell", now=time.time())

    late = make_provider(emulator, lookup_horizon=0.0)
    dispatcher([late], store, owner="w1").resume(timeout=30)

    item = store.get(reference)
    assert item is not None and item.state is ItemState.DONE
    assert emulator.submissions.accepted_recipients() == {"+447700900000": 1}
    history = store.history(reference)
    assert history is not None and len(history.attempts) == 2
    first = history.attempts[0]
    assert first.error is not None and first.error.code == "104"  # not found: safe


def test_interrupted_attempt_that_reached_the_provider_is_not_resent(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    provider = make_provider(emulator)
    worker = dispatcher([provider], store, owner="w1")
    message = prepared(1, "otp-11")
    (reference,) = worker.submit(message)
    (claimed,) = store.claim("w1", limit=1, now=time.time(), lease_seconds=60)
    store.begin_attempt(claimed.reference, owner="w1", provider="clickatell", now=time.time())
    provider.send(message)  # accepted, then the worker "crashed" before recording it

    dispatcher([provider], store, owner="w1").resume(timeout=30)

    item = store.get(reference)
    assert item is not None and item.state is ItemState.DONE
    assert item.status is not None and item.status.is_success
    assert len(emulator.submissions) == 1
    history = store.history(reference)
    assert history is not None and len(history.attempts) == 1


def test_unresolvable_unknown_is_reported_not_resent(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    emulator = make_emulator()
    emulator.faults.add(AcceptThenDrop(), next_n=1, match=SEND)
    # Without a not-found rule or a working query, the dispatcher must not guess.
    emulator.faults.add(HttpStatus(500), match=on_path("/http/querymsg"))
    worker = dispatcher([make_provider(emulator)], store, unknown_recheck=3600)
    (reference,) = worker.submit(prepared(1, "otp-12"))
    worker.drain(timeout=30)
    item = store.get(reference)
    assert item is not None and item.state is ItemState.UNKNOWN
    assert item.next_attempt_at > time.time() + 3000
    assert len(emulator.submissions) == 1


class KeyedClickatell(ClickatellProvider):
    """Declares an idempotency key and no query by reference (replay is the only way)."""

    name = "keyed"
    capabilities = attrs.evolve(
        ClickatellProvider.capabilities, idempotency_key=True, query_by_reference=False
    )


class BlindClickatell(ClickatellProvider):
    """Can neither be queried by reference nor de-duplicate."""

    name = "blind"
    capabilities = attrs.evolve(ClickatellProvider.capabilities, query_by_reference=False)


def test_idempotent_provider_is_replayed_only_to_itself(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    keyed, other = make_emulator(), make_emulator()
    keyed.faults.add(AcceptThenDrop(), next_n=1, match=SEND)
    worker = dispatcher(
        [make_provider(keyed, KeyedClickatell), make_provider(other, ClickatellB)],
        store,
        rand=lambda: 0.0,
    )
    (reference,) = worker.submit(prepared(1, "otp-13"))
    worker.drain(timeout=30)
    item = store.get(reference)
    assert item is not None and item.state is ItemState.DONE and item.provider == "keyed"
    # The emulator does not really de-duplicate; what matters is where the replay went.
    assert len(keyed.submissions) == 2
    assert len(other.submissions) == 0
    history = store.history(reference)
    assert history is not None
    assert [a.provider for a in history.attempts] == ["keyed", "keyed"]
    assert history.attempts[0].outcome_unknown


def test_at_least_once_resends_an_unsettled_outcome(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    blind, other = make_emulator(), make_emulator()
    blind.faults.add(AcceptThenDrop(), next_n=1, match=SEND)
    providers = [make_provider(blind, BlindClickatell), make_provider(other, ClickatellB)]
    worker = Dispatcher(Router(providers, delivery=Delivery.AT_LEAST_ONCE), store, rand=lambda: 0.0)
    (reference,) = worker.submit(prepared(1, "otp-14"))
    worker.drain(timeout=30)
    item = store.get(reference)
    assert item is not None and item.state is ItemState.DONE
    assert item.provider == "clickatell_b"
    # The documented price of at-least-once: the first provider had it too.
    assert len(blind.submissions) == 1 and len(other.submissions) == 1


def test_at_most_once_reports_unknown_instead(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
) -> None:
    blind, other = make_emulator(), make_emulator()
    blind.faults.add(AcceptThenDrop(), next_n=1, match=SEND)
    providers = [make_provider(blind, BlindClickatell), make_provider(other, ClickatellB)]
    worker = dispatcher(providers, store)
    (reference,) = worker.submit(prepared(1, "otp-15"))
    worker.drain(timeout=30)
    item = store.get(reference)
    assert item is not None and item.state is ItemState.UNKNOWN and item.provider == "blind"
    assert len(blind.submissions) == 1 and len(other.submissions) == 0


def test_a_breaker_opened_elsewhere_is_seen_within_the_refresh_time(
    make_emulator: Callable[..., ClickatellEmulator],
    make_provider: Callable[..., ClickatellProvider],
    store: SqliteStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    primary, backup = make_emulator(), make_emulator()
    worker = dispatcher([make_provider(primary), make_provider(backup, ClickatellB)], store)
    worker.add_and_send([NewItem(reference="m1", recipient="+447700900001", body="one")])
    # Another process opens the primary's breaker in the shared outbox.
    store.put_breaker("clickatell", BreakerState(OPEN, 5, worker.clock()))
    later = time.monotonic() + BREAKER_REFRESH
    monkeypatch.setattr(time, "monotonic", lambda: later)
    worker.add_and_send([NewItem(reference="m2", recipient="+447700900002", body="two")])

    assert primary.submissions.accepted_recipients() == {"+447700900001": 1}
    assert backup.submissions.accepted_recipients() == {"+447700900002": 1}


def test_a_final_result_carries_every_field_of_the_providers_answer() -> None:
    # _final builds the result field by field (faster than attrs.evolve): a field added to
    # SendResult later must not be dropped on the way to the store.
    from smsbridge.dispatch.decisions import _final
    from smsbridge.dispatch.dispatcher import _leased
    from smsbridge.errors import ErrorInfo, Kind, Scope
    from smsbridge.results import Cost, SendResult
    from smsbridge.router.decide import Action, Decision
    from smsbridge.status import Status

    answer = SendResult(
        "+447700900123",
        Status.REJECTED,
        provider=None,
        message_id="m-1",
        reference="provider-side",
        parts=2,
        cost=Cost(Decimal("0.04"), "EUR"),
        error=ErrorInfo("105", "refused", scope=Scope.RECIPIENT, kind=Kind.PERMANENT),
        attempts=1,
    )
    item = _leased(NewItem(reference="r1", recipient="+447700900123", body="b"), 0, "o", 60)
    with ClickatellProvider.from_options(
        base_url="http://127.0.0.1:9",
        api_id="1",
        user="u",
        password="p",
    ) as provider:
        final = _final(item, provider, Decision(Action.FINISH, result=answer), 3)
    expected = attrs.evolve(answer, provider="clickatell", reference="r1", attempts=3)
    assert final == expected
    assert {f.name for f in attrs.fields(SendResult)} == {
        "recipient", "status", "provider", "message_id", "reference", "parts", "cost",
        "error", "attempts",
    }  # fmt: skip
