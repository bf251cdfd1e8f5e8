"""Every outbox backend: idempotent writes, leases, attempts, outcomes and reports.

Each test runs once per backend (``store_factory`` in ``conftest.py``).
"""

from __future__ import annotations

import pytest

from smsbridge.dispatch.breakers import OutboxBreakerStorage
from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.model import SendOptions
from smsbridge.outbox import (
    AttemptStore,
    BreakerState,
    BreakerStore,
    ChunkStore,
    CounterStore,
    ItemExistsError,
    ItemNotFoundError,
    ItemState,
    ItemStore,
    LeaseError,
    NewItem,
    OutboxError,
    OutboxStateError,
    OutboxStore,
    ReportStore,
)
from smsbridge.results import Cost, DeliveryReport, SendResult
from smsbridge.router.breaker import BreakerState as RouterBreakerState
from smsbridge.status import Status
from tests.outbox.conftest import AnyStore, StoreFactory

LEASE = 30.0
TIMEOUT = ErrorInfo(None, "read timeout", scope=Scope.PROVIDER, kind=Kind.TRANSIENT)
REFUSED = ErrorInfo("105", "no credit", scope=Scope.PROVIDER, kind=Kind.PERMANENT)


def new(reference: str, recipient: str = "+447700900123", **kwargs: object) -> NewItem:
    return NewItem(reference=reference, recipient=recipient, body="hello", **kwargs)  # type: ignore[arg-type]


def result(status: Status, message_id: str | None = "m-1", provider: str = "A") -> SendResult:
    return SendResult("+447700900123", status, provider=provider, message_id=message_id, parts=1)


def report(status: Status, message_id: str | None = "m-1", **kwargs: object) -> DeliveryReport:
    return DeliveryReport(provider="A", message_id=message_id, status=status, **kwargs)  # type: ignore[arg-type]


def in_flight(store: AnyStore, reference: str = "r1", provider: str = "A") -> None:
    """Add, claim and start an attempt on one item, as worker w1 at t=10."""
    store.add([new(reference)], now=0)
    (item,) = store.claim("w1", limit=1, now=10, lease_seconds=LEASE)
    assert item.reference == reference
    store.begin_attempt(reference, owner="w1", provider=provider, now=10)


def test_it_implements_the_protocol(store: AnyStore) -> None:
    typed: OutboxStore = store
    assert isinstance(typed, OutboxStore)
    for part in (ItemStore, AttemptStore, ReportStore, CounterStore, ChunkStore, BreakerStore):
        assert isinstance(typed, part), part.__name__


class _DictBreakers:
    """A breaker store that is nothing else: what a narrow protocol allows."""

    def __init__(self) -> None:
        self.states: dict[str, BreakerState] = {}

    def get_breaker(self, provider: str) -> BreakerState:
        return self.states.get(provider, BreakerState())

    def put_breaker(self, provider: str, state: BreakerState) -> None:
        self.states[provider] = state

    def breakers(self) -> dict[str, BreakerState]:
        return dict(self.states)


def test_breakers_need_only_a_breaker_store() -> None:
    kept = _DictBreakers()
    assert isinstance(kept, BreakerStore) and not isinstance(kept, OutboxStore)
    shared = OutboxBreakerStorage(kept)
    shared.put_breaker("A", RouterBreakerState("open", 3, 12.5))
    assert shared.get_breaker("A") == RouterBreakerState("open", 3, 12.5)
    assert kept.states["A"].failures == 3


def test_add_is_idempotent_by_reference(store: AnyStore) -> None:
    assert (store.add([new("a"), new("b")], now=1).added, store.counts()[ItemState.PENDING]) == (
        2,
        2,
    )
    again = store.add([new("a"), new("c"), new("c")], now=2)
    assert (again.added, again.existing) == (1, 2)
    assert sum(store.counts().values()) == 3
    item = store.get("a")
    assert item is not None and item.created_at == 1


def test_add_streams_a_generator_in_chunks(store: AnyStore) -> None:
    items = (new(f"r{i}", f"+4477009{i:05d}", batch="b1") for i in range(2_500))
    assert store.add(items, now=0, chunk_size=1000).added == 2_500
    assert store.counts("b1")[ItemState.PENDING] == 2_500
    assert [item.reference for item in store.iter_items(batch="b1")][-1] == "r2499"


def test_item_fields_survive_storage(store: AnyStore) -> None:
    options = SendOptions(flash=True, max_parts=3, extra={"route": "premium"})
    store.add([new("r1", sender="ACME", options=options, batch="b", next_attempt_at=5)], now=1)
    item = store.get("r1")
    assert item is not None
    assert (item.sender, item.options, item.batch, item.next_attempt_at) == (
        "ACME",
        options,
        "b",
        5,
    )
    assert (item.state, item.status, item.attempts, item.lease_owner) == (
        ItemState.PENDING,
        None,
        0,
        None,
    )
    assert store.get("nope") is None


def test_claim_respects_next_attempt_at_and_order(store: AnyStore) -> None:
    store.add([new("late", next_attempt_at=100), new("first"), new("second")], now=0)
    claimed = store.claim("w1", limit=10, now=50, lease_seconds=100)
    assert [i.reference for i in claimed] == ["first", "second"]
    assert all(i.lease_owner == "w1" and i.lease_until == 150 for i in claimed)
    assert [i.reference for i in store.claim("w1", limit=10, now=100, lease_seconds=LEASE)] == [
        "late"
    ]


def test_claim_limit_and_live_leases(store: AnyStore) -> None:
    store.add([new(f"r{i}") for i in range(5)], now=0)
    assert len(store.claim("w1", limit=3, now=1, lease_seconds=LEASE)) == 3
    assert [i.reference for i in store.claim("w2", limit=10, now=2, lease_seconds=LEASE)] == [
        "r3",
        "r4",
    ]
    assert store.claim("w3", limit=10, now=3, lease_seconds=LEASE) == []


def test_expired_leases_are_reclaimed(store: AnyStore) -> None:
    store.add([new("r1")], now=0)
    store.claim("w1", limit=1, now=0, lease_seconds=10)
    assert store.claim("w2", limit=1, now=9.9, lease_seconds=10) == []
    (item,) = store.claim("w2", limit=1, now=10, lease_seconds=10)
    assert (item.lease_owner, item.state, item.needs_reconciliation) == (
        "w2",
        ItemState.PENDING,
        False,
    )
    with pytest.raises(LeaseError) as info:
        store.begin_attempt("r1", owner="w1", provider="A", now=11)
    assert info.value.references == ("r1",)


def test_a_crashed_attempt_comes_back_for_reconciliation(store: AnyStore) -> None:
    in_flight(store)
    assert store.claim("w2", limit=1, now=10 + LEASE - 1, lease_seconds=LEASE) == []
    (item,) = store.claim("w2", limit=1, now=10 + LEASE, lease_seconds=LEASE)
    assert (item.state, item.provider, item.needs_reconciliation) == (ItemState.INFLIGHT, "A", True)
    # Reconciled as "A never got it": the next attempt closes the interrupted one.
    store.begin_attempt("r1", owner="w2", provider="B", now=50)
    history = store.history("r1")
    assert history is not None
    assert [(a.provider, a.outcome_unknown, a.finished_at) for a in history.attempts] == [
        ("A", True, 50),
        ("B", False, None),
    ]


def test_begin_attempt_needs_the_lease(store: AnyStore) -> None:
    store.add([new("r1")], now=0)
    with pytest.raises(LeaseError):
        store.begin_attempt("r1", owner="w1", provider="A", now=1)
    store.claim("w1", limit=1, now=1, lease_seconds=LEASE)
    with pytest.raises(LeaseError):
        store.begin_attempt("r1", owner="w2", provider="A", now=2)
    with pytest.raises(ItemNotFoundError, match="nope"):
        store.begin_attempt("nope", owner="w1", provider="A", now=2)


def test_begin_attempt_is_durable_and_can_renew_the_lease(store_factory: StoreFactory) -> None:
    with store_factory() as store:
        in_flight(store)
        attempt = store.begin_attempts(["r1"], owner="w1", provider="A", now=11, lease_seconds=100)[
            0
        ]
    with store_factory() as reopened:
        item = reopened.get("r1")
        assert item is not None
        assert (item.state, item.provider, item.attempts, item.lease_until) == (
            ItemState.INFLIGHT,
            "A",
            2,
            111,
        )
        history = reopened.history("r1")
        assert history is not None and history.attempts[-1] == attempt


def test_begin_attempts_is_all_or_nothing(store: AnyStore) -> None:
    store.add([new("a"), new("b")], now=0)
    store.claim("w1", limit=1, now=0, lease_seconds=LEASE)
    with pytest.raises(LeaseError) as info:
        store.begin_attempts(["a", "b"], owner="w1", provider="A", now=1)
    assert info.value.references == ("b",)
    assert store.counts()[ItemState.INFLIGHT] == 0


def test_a_new_item_is_written_with_its_first_attempt_in_one_commit(store: AnyStore) -> None:
    (attempt,) = store.begin_attempts(
        ["r1"], owner="w1", provider="A", now=5, lease_seconds=LEASE, new=[new("r1")]
    )
    item = store.get("r1")
    assert item is not None
    assert (item.state, item.provider, item.attempts, item.lease_owner) == (
        ItemState.INFLIGHT,
        "A",
        1,
        "w1",
    )
    assert item.lease_until == 5 + LEASE and attempt.provider == "A"
    assert store.claim("w2", limit=10, now=6, lease_seconds=LEASE) == []


def test_writing_a_stored_item_with_its_attempt_writes_nothing(store: AnyStore) -> None:
    store.add([NewItem(reference="r1", recipient="+447700900123", body="first")], now=0)
    with pytest.raises(ItemExistsError):
        store.begin_attempts(
            ["r2", "r1"],
            owner="w1",
            provider="A",
            now=5,
            lease_seconds=LEASE,
            new=[new("r2"), new("r1")],
        )
    assert store.get("r2") is None
    item = store.get("r1")
    assert item is not None and (item.state, item.body, item.lease_owner, item.attempts) == (
        ItemState.PENDING,
        "first",
        None,
        0,
    )


def test_finish_records_the_result(store: AnyStore) -> None:
    in_flight(store)
    sent = SendResult(
        "+447700900123",
        Status.ACCEPTED,
        provider="A",
        message_id="X1",
        parts=2,
        cost=Cost("0.08", "EUR"),
    )
    item = store.finish("r1", owner="w1", result=sent, now=12)
    assert (item.state, item.status, item.message_id, item.parts, item.cost) == (
        ItemState.DONE,
        Status.ACCEPTED,
        "X1",
        2,
        Cost("0.08", "EUR"),
    )
    assert (item.lease_owner, item.lease_until, item.updated_at) == (None, None, 12)
    history = store.history("r1")
    assert history is not None
    assert (history.attempts[0].outcome, history.attempts[0].finished_at) == (Status.ACCEPTED, 12)
    # Done items are never claimed or attempted again.
    assert store.claim("w1", limit=1, now=1_000, lease_seconds=LEASE) == []


def test_finish_with_a_failure_keeps_the_error(store: AnyStore) -> None:
    in_flight(store)
    failed = SendResult("+447700900123", Status.REJECTED, provider="A", error=REFUSED)
    item = store.finish("r1", owner="w1", result=failed, now=12)
    assert (item.state, item.status, item.last_error) == (ItemState.DONE, Status.REJECTED, REFUSED)


def test_finish_after_the_lease_expired_but_before_a_takeover(store: AnyStore) -> None:
    in_flight(store)
    item = store.finish("r1", owner="w1", result=result(Status.SENT), now=10 + LEASE + 5)
    assert item.status is Status.SENT


def test_finish_after_a_takeover_is_refused(store: AnyStore) -> None:
    in_flight(store)
    store.claim("w2", limit=1, now=10 + LEASE, lease_seconds=LEASE)
    with pytest.raises(LeaseError):
        store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=10 + LEASE)


def test_retry_later_waits_and_excludes_the_provider(store: AnyStore) -> None:
    in_flight(store)
    item = store.retry_later(
        "r1",
        owner="w1",
        error=REFUSED,
        next_attempt_at=100,
        exclude_provider="A",
        outcome=Status.REJECTED,
        now=12,
    )
    assert (item.state, item.next_attempt_at, item.excluded_providers) == (
        ItemState.RETRY_WAIT,
        100,
        ("A",),
    )
    assert (item.last_error, item.lease_owner, item.status) == (REFUSED, None, Status.REJECTED)
    assert store.claim("w1", limit=1, now=99, lease_seconds=LEASE) == []
    (again,) = store.claim("w1", limit=1, now=100, lease_seconds=LEASE)
    assert again.needs_reconciliation is False
    store.begin_attempt("r1", owner="w1", provider="B", now=100)
    store.retry_later(
        "r1", owner="w1", error=TIMEOUT, next_attempt_at=200, exclude_provider="B", now=101
    )
    history = store.history("r1")
    assert history is not None
    assert history.item.excluded_providers == ("A", "B")
    assert [a.error for a in history.attempts] == [REFUSED, TIMEOUT]


def test_mark_unknown_keeps_the_provider_for_reconciliation(store: AnyStore) -> None:
    in_flight(store)
    item = store.mark_unknown("r1", owner="w1", error=TIMEOUT, now=12, next_attempt_at=20)
    assert (item.state, item.status, item.provider, item.lease_owner) == (
        ItemState.UNKNOWN,
        Status.UNKNOWN,
        "A",
        None,
    )
    assert store.claim("w2", limit=1, now=19, lease_seconds=LEASE) == []
    (again,) = store.claim("w2", limit=1, now=20, lease_seconds=LEASE)
    assert again.needs_reconciliation and again.provider == "A"
    history = store.history("r1")
    assert history is not None and history.attempts[0].outcome_unknown


def test_items_written_leased_are_held_until_the_lease_runs_out(store: AnyStore) -> None:
    written = store.add([new(f"r{i}") for i in range(3)], now=0, lease=("w1", 20.0))
    assert (written.added, written.leased) == (3, ("r0", "r1", "r2"))
    assert store.lease_owners(now=5) == ["w1"]
    assert store.claim("w2", limit=10, now=19.9, lease_seconds=LEASE) == []
    # The owner starts its attempts without a claim: the lease written is its lease.
    store.begin_attempts(["r0"], owner="w1", provider="A", now=6)
    assert [i.reference for i in store.claim("w2", limit=10, now=20, lease_seconds=LEASE)] == [
        "r0",
        "r1",
        "r2",
    ]
    assert store.lease_owners(now=21) == ["w2"]
    assert store.lease_owners(now=20 + LEASE) == []


def test_a_leased_add_names_only_the_items_it_wrote(store: AnyStore) -> None:
    # A batch run again: some of its items are stored already (under another lease or
    # none); only the new ones are leased to the caller, and a number repeated in the
    # batch is written once.
    store.add([new("b-1", batch="b"), new("b-2", "+447700900124", batch="b")], now=0)
    written = store.add(
        [
            new("b-1", batch="b"),
            new("b-2", "+447700900124", batch="b"),
            new("b-3", "+447700900125", batch="b"),
            new("b-4", "+447700900125", batch="b"),
            new("b-5", "+447700900126", batch="b"),
        ],
        now=1,
        lease=("w1", 50.0),
    )
    assert (written.added, written.existing, written.duplicates) == (2, 2, ("b-4",))
    assert written.leased == ("b-3", "b-5")
    held = {i.reference: i.lease_owner for i in store.iter_items(batch="b")}
    assert held == {"b-1": None, "b-2": None, "b-3": "w1", "b-5": "w1"}


def test_release_frees_a_workers_leases(store: AnyStore) -> None:
    store.add([new("a"), new("b")], now=0)
    store.claim("w1", limit=2, now=0, lease_seconds=LEASE)
    store.begin_attempt("a", owner="w1", provider="A", now=1)
    assert store.release("w1", now=2) == 2
    claimed = store.claim("w2", limit=2, now=2, lease_seconds=LEASE)
    assert [(i.reference, i.needs_reconciliation) for i in claimed] == [("a", True), ("b", False)]


def test_done_items_refuse_new_attempts_and_retries(store: AnyStore) -> None:
    in_flight(store)
    store.mark_unknown("r1", owner="w1", error=TIMEOUT, now=11)
    store.claim("w1", limit=1, now=11, lease_seconds=LEASE)
    # While w1 reconciles, the provider's report settles it.
    assert store.record_report(report(Status.SENT, message_id=None, reference="r1"), now=12)
    item = store.get("r1")
    assert item is not None and item.state is ItemState.DONE
    with pytest.raises(OutboxStateError):
        store.begin_attempt("r1", owner="w1", provider="B", now=13)
    with pytest.raises(OutboxStateError):
        store.retry_later("r1", owner="w1", error=TIMEOUT, next_attempt_at=14, now=13)
    with pytest.raises(OutboxStateError):
        store.mark_unknown("r1", owner="w1", error=TIMEOUT, now=13)


def test_a_report_during_a_crashed_attempt_blocks_a_resend(store: AnyStore) -> None:
    in_flight(store)
    assert store.record_report(report(Status.DELIVERED, message_id=None, reference="r1"), now=11)
    (item,) = store.claim("w2", limit=1, now=10 + LEASE, lease_seconds=LEASE)
    assert (item.state, item.status) == (ItemState.INFLIGHT, Status.DELIVERED)
    with pytest.raises(OutboxStateError, match="not sending again"):
        store.begin_attempt("r1", owner="w2", provider="B", now=10 + LEASE)
    assert store.finish("r1", owner="w2", result=result(Status.ACCEPTED), now=50).status is (
        Status.DELIVERED
    )


def test_a_number_repeated_in_a_batch_is_written_once(store: AnyStore) -> None:
    # Across add() calls and chunks: the store, not the caller, knows the batch's numbers.
    first = store.add([new("d0", batch="D"), new("d1", "+447700900124", batch="D")], now=0)
    again = store.add(
        [new("d0", batch="D"), new("d2", batch="D"), new("d3", "+447700900125", batch="D")],
        now=0,
        chunk_size=2,
    )
    other = store.add([new("e0", batch="E")], now=0)
    assert (first.added, first.duplicates) == (2, ())
    assert (again.added, again.existing, again.duplicates) == (1, 1, ("d2",))
    assert other.added == 1  # another batch may carry the same number
    assert [i.reference for i in store.iter_items(batch="D")] == ["d0", "d1", "d3"]


def test_history_of_an_unknown_reference_is_none(store: AnyStore) -> None:
    assert store.history("nope") is None


def test_iter_items_filters_and_pages(store: AnyStore) -> None:
    store.add((new(f"a{i}", f"+4477009{i:05d}", batch="A") for i in range(1_200)), now=0)
    store.add([new("b0", batch="B"), new("b1", "+447700900124", batch="B")], now=0)
    store.claim("w1", limit=1, now=0, lease_seconds=LEASE)
    store.begin_attempt("a0", owner="w1", provider="A", now=0)
    assert len(list(store.iter_items())) == 1_202
    assert [i.reference for i in store.iter_items(batch="B")] == ["b0", "b1"]
    assert [i.reference for i in store.iter_items(state=ItemState.INFLIGHT)] == ["a0"]
    assert len(list(store.iter_items(batch="A", state=ItemState.PENDING))) == 1_199
    assert store.counts("B") == dict.fromkeys(ItemState, 0) | {ItemState.PENDING: 2}


def test_a_closed_store_says_so(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.close()
    store.close()
    with pytest.raises(OutboxError, match="closed"):
        store.get("r1")
