"""Delivery reports, counters, stored chunks and breaker state, on every backend."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.outbox import BreakerState, Chunk, ItemOutcome, ItemState, message_key
from smsbridge.outbox.batch_sizes import BatchSize, forget_size, record_size, recorded_batches
from smsbridge.results import Cost, DeliveryReport, SendResult
from smsbridge.status import Status
from tests.outbox.conftest import AnyStore, StoreFactory
from tests.outbox.test_store_items import TIMEOUT, in_flight, new, report, result


def finished(store: AnyStore, status: Status, message_id: str = "m-1") -> None:
    in_flight(store)
    store.finish("r1", owner="w1", result=result(status, message_id), now=12)


def status_of(store: AnyStore, reference: str = "r1") -> Status | None:
    item = store.get(reference)
    assert item is not None
    return item.status


@pytest.mark.parametrize(
    ("message_id", "expected"),
    [("0AbC12", "abc12"), ("000123", "123"), ("000", "0"), (" x ", "x"), ("", None), (None, None)],
)
def test_message_key(message_id: str | None, expected: str | None) -> None:
    assert message_key(message_id) == expected


def test_a_later_status_moves_forward(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED)
    assert store.record_report(report(Status.SENT), now=13)
    assert store.record_report(report(Status.DELIVERED), now=14)
    assert status_of(store) is Status.DELIVERED


def test_a_reported_charge_is_recorded_against_the_message(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED)
    assert store.record_report(report(Status.DELIVERED, cost=Cost("0.8", "credits")), now=13)
    # A later charge-only report (the status does not move) still corrects the cost.
    assert not store.record_report(report(Status.DELIVERED, cost=Cost("1.6", "credits")), now=14)
    item = store.get("r1")
    assert item is not None
    assert item.cost == Cost("1.6", "credits")


def test_a_final_status_is_never_overwritten(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED)
    assert store.record_report(report(Status.DELIVERED), now=13)
    assert not store.record_report(report(Status.FAILED_PERMANENT), now=14)
    assert not store.record_report(report(Status.SENT), now=15)
    assert status_of(store) is Status.DELIVERED
    history = store.history("r1")
    assert history is not None
    assert [r.status for r in history.reports] == [
        Status.DELIVERED,
        Status.FAILED_PERMANENT,
        Status.SENT,
    ]


def test_a_late_non_final_status_does_not_go_back(store: AnyStore) -> None:
    finished(store, Status.SENT)
    assert not store.record_report(report(Status.ACCEPTED), now=13)
    assert not store.record_report(report(Status.SENT), now=13)
    assert status_of(store) is Status.SENT


def test_ids_match_without_case_or_leading_zeros(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED, message_id="00AbC12")
    assert store.record_report(report(Status.DELIVERED, message_id="abc12"), now=13)
    assert status_of(store) is Status.DELIVERED


def test_a_report_before_the_result_is_parked_then_applied(store: AnyStore) -> None:
    in_flight(store)
    assert not store.record_report(report(Status.DELIVERED, message_id="0XY"), now=11)
    assert not store.record_report(report(Status.SENT, message_id="xy"), now=11)
    item = store.finish("r1", owner="w1", result=result(Status.ACCEPTED, "XY"), now=12)
    assert (item.state, item.status) == (ItemState.DONE, Status.DELIVERED)
    history = store.history("r1")
    assert history is not None
    assert [r.status for r in history.reports] == [Status.DELIVERED, Status.SENT]


def test_parked_reports_of_another_provider_stay_parked(store: AnyStore) -> None:
    in_flight(store)
    store.record_report(
        DeliveryReport(provider="B", message_id="m-1", status=Status.DELIVERED), now=11
    )
    assert store.finish("r1", owner="w1", result=result(Status.ACCEPTED), now=12).status is (
        Status.ACCEPTED
    )


def test_a_report_found_by_reference(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED, message_id="m-1")
    assert store.record_report(report(Status.DELIVERED, message_id=None, reference="r1"), now=13)
    assert status_of(store) is Status.DELIVERED


def test_a_report_from_another_provider_is_kept_but_not_applied(store: AnyStore) -> None:
    finished(store, Status.ACCEPTED)
    other = DeliveryReport(
        provider="B", message_id=None, status=Status.FAILED_PERMANENT, reference="r1"
    )
    assert not store.record_report(other, now=13)
    assert status_of(store) is Status.ACCEPTED
    history = store.history("r1")
    assert history is not None and history.reports == (other,)


def test_a_shared_message_id_is_split_by_recipient(store: AnyStore) -> None:
    store.add([new("a"), new("b", "+447700900999")], now=0)
    store.claim("w1", limit=2, now=0, lease_seconds=30)
    store.begin_attempts(["a", "b"], owner="w1", provider="A", now=1)
    store.finish_many(
        [("a", result(Status.ACCEPTED, "batch-7")), ("b", result(Status.ACCEPTED, "batch-7"))],
        owner="w1",
        now=2,
    )
    assert store.record_report(
        report(Status.DELIVERED, "batch-7", recipient="+447700900999"), now=3
    )
    assert (status_of(store, "a"), status_of(store, "b")) == (Status.ACCEPTED, Status.DELIVERED)


def test_a_success_report_settles_an_unknown_outcome(store: AnyStore) -> None:
    in_flight(store)
    store.finish("r1", owner="w1", result=result(Status.UNKNOWN, "m-1"), now=11)
    item = store.get("r1")
    assert item is not None and (item.state, item.status) == (ItemState.UNKNOWN, Status.UNKNOWN)
    assert store.record_report(report(Status.ACCEPTED), now=12)
    item = store.get("r1")
    assert item is not None and item.state is ItemState.DONE


def test_a_failure_report_leaves_an_unknown_outcome_to_the_router(store: AnyStore) -> None:
    in_flight(store)
    store.mark_unknown("r1", owner="w1", error=TIMEOUT, now=11)
    assert store.record_report(report(Status.REJECTED, message_id=None, reference="r1"), now=12)
    item = store.get("r1")
    assert item is not None and (item.state, item.status) == (ItemState.UNKNOWN, Status.REJECTED)


def test_an_unmatched_report_is_stored_and_reported_unchanged(store: AnyStore) -> None:
    assert not store.record_report(report(Status.DELIVERED, message_id="ghost"), now=1)
    assert not store.record_report(report(Status.DELIVERED, message_id=None), now=1)


def test_counter_is_monotonic_and_wraps(store: AnyStore) -> None:
    assert [store.allocate("dup", low=5, high=7) for _ in range(5)] == [5, 6, 7, 5, 6]
    assert [store.allocate("other") for _ in range(3)] == [1, 2, 3]
    with pytest.raises(ValueError, match="low"):
        store.allocate("bad", low=3, high=2)


def test_counter_survives_reopening(store_factory: StoreFactory) -> None:
    with store_factory() as store:
        assert store.allocate("dup") == 1
    with store_factory() as store:
        assert store.allocate("dup") == 2
        # A narrower range than the stored value restarts at its low end.
        assert store.allocate("dup", low=10, high=20) == 10


def test_named_values_are_shared_and_found_by_prefix(store_factory: StoreFactory) -> None:
    with store_factory() as one, store_factory() as two:
        assert one.get_meta("batch-size:a") is None
        one.set_meta("batch-size:a", 20_000)
        one.set_meta("batch-size:a_b", 3)
        one.set_meta("batch-size:%", 4)
        one.set_meta("BATCH-SIZE:upper", 5)
        one.set_meta("batch-sizes", 6)
        assert two.get_meta("batch-size:a") == 20_000
        # LIKE wildcards and case are literal: only names that really start so.
        assert two.find_meta("batch-size:") == {
            "batch-size:a": 20_000,
            "batch-size:a_b": 3,
            "batch-size:%": 4,
        }
        assert two.find_meta("batch-size:a_") == {"batch-size:a_b": 3}
        two.set_meta("batch-size:a", 7)
        assert one.get_meta("batch-size:a") == 7
        one.set_meta("batch-size:a", None)
        one.set_meta("never-set", None)
        assert two.get_meta("batch-size:a") is None
        # The same table as allocate's counters: one namespace.
        assert two.allocate("batch-size:a_b") == 4


def test_recorded_batch_sizes_compare_with_the_items(store: AnyStore) -> None:
    store.add([new(f"b-{i}", f"+44770090{i:04d}", batch="b") for i in range(3)], now=0)
    store.add([new("c-1", batch="c")], now=0)
    record_size(store, "b", 5)
    record_size(store, "c", 1)
    assert recorded_batches(store) == [
        BatchSize(batch="b", expected=5, written=3),
        BatchSize(batch="c", expected=1, written=1),
    ]
    assert [b.complete for b in recorded_batches(store)] == [False, True]
    forget_size(store, "b")
    assert [b.batch for b in recorded_batches(store)] == ["c"]


def test_chunk_round_trip_is_byte_identical(store: AnyStore) -> None:
    payload = bytes(range(256)) * 40 + b"\x00\r\n"
    store.save_chunk("k1", "bulksms", payload, ["r1", "r2"], now=1)
    loaded = store.load_chunk("k1")
    assert loaded == Chunk("bulksms", payload, ("r1", "r2"))
    provider, data, references = loaded
    assert (provider, data, references) == ("bulksms", payload, ("r1", "r2"))
    assert store.chunk_of("r2") == "k1"
    store.save_chunk("k2", "bulksms", b"again", ["r2"], now=2)
    assert (store.chunk_of("r1"), store.chunk_of("r2"), store.chunk_of("r3")) == ("k1", "k2", None)
    assert store.load_chunk("missing") is None


def test_breaker_state_is_shared(store_factory: StoreFactory) -> None:
    with store_factory() as one, store_factory() as two:
        assert two.get_breaker("A") == BreakerState("closed", 0, None)
        one.put_breaker("A", BreakerState("open", 5, 123.5))
        assert two.get_breaker("A") == BreakerState("open", 5, 123.5)
        assert two.get_breaker("B") == BreakerState()


def test_finishing_hands_back_each_item_as_stored(store: AnyStore) -> None:
    """A sender that passes ``outcomes`` reads nothing back: what it gets must be what a
    read would say, including a report that had waited for the message id."""
    store.add([new("a"), new("b", "+447700900999")], now=0)
    store.claim("w1", limit=2, now=0, lease_seconds=30)
    store.begin_attempts(["a", "b"], owner="w1", provider="A", now=1)
    assert not store.record_report(report(Status.DELIVERED, "m-a"), now=1.5)  # parked
    failed = SendResult(
        "+447700900999",
        Status.FAILED_PERMANENT,
        provider="A",
        error=ErrorInfo("114", "no route", scope=Scope.RECIPIENT, kind=Kind.PERMANENT),
        attempts=1,
    )
    accepted = SendResult(
        "+447700900123",
        Status.ACCEPTED,
        provider="A",
        message_id="m-a",
        parts=2,
        cost=Cost(Decimal("0.05"), "EUR"),
        attempts=1,
    )
    handed: dict[str, ItemOutcome] = {}
    store.finish_many([("a", accepted), ("b", failed)], owner="w1", now=2, outcomes=handed)
    read = store.outcomes(["a", "b"])
    assert set(handed) == {"a", "b"}
    for reference, outcome in handed.items():
        stored = read[reference]
        assert outcome == attrs.evolve(stored, next_attempt_at=outcome.next_attempt_at)
    assert handed["a"].status is Status.DELIVERED
    assert handed["b"].last_error is not None and handed["b"].last_error.code == "114"
