"""Reports, query, balance, quote, callbacks, and use through SmsBridge and plugins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsbridge import (
    Batch,
    Cost,
    InvalidMessageError,
    MalformedResponseError,
    Message,
    SmsBridge,
    Status,
    UnsupportedOperationError,
    make_plugin_manager,
)
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

from .conftest import MakeProvider


def test_report_per_recipient(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    emulator.report_overrides["447700902001"] = "53"
    results = list(provider.send_batch(Batch(["+447700902000", "+447700902001"], body="x")))
    batch_id = results[0].message_id.split(":")[0]  # type: ignore[union-attr]
    reports = provider.report(batch_id)
    assert [(r.recipient, r.status) for r in reports] == [
        ("+447700902000", Status.DELIVERED),
        ("+447700902001", Status.EXPIRED),
    ]
    assert reports[1].error is not None
    assert provider.query(message_id=results[1].message_id).status is Status.EXPIRED
    # A whole batch is as far along as its least advanced member.
    assert provider.query(message_id=batch_id).status is Status.EXPIRED
    assert provider.report(batch_id, msisdn="+447700902000")[0].status is Status.DELIVERED


def test_query_edge_cases(provider: BulkSmsProvider) -> None:
    assert provider.query(message_id="999999").status is Status.UNKNOWN
    with pytest.raises(UnsupportedOperationError):
        provider.query(reference="abc")
    with pytest.raises(InvalidMessageError):
        provider.query(message_id="abc:1")


def test_balance_and_quote(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    assert provider.balance() == Cost(Decimal("100000.00"), "credits")
    quote = provider.quote(Message(["+447700902100", "+447700902101"], "y" * 200))
    assert quote == Cost(Decimal("4.00"), "credits")
    assert len(emulator.submissions) == 0
    provider.send(Message("+447700902100", "y" * 200))
    assert provider.balance() == Cost(Decimal("99998.00"), "credits")


def test_parse_callback(make_provider: MakeProvider) -> None:
    provider = make_provider(account_timezone="Europe/London")
    [report] = provider.parse_callback(
        method="GET",
        query={
            "msisdn": "447700902200",
            "batch_id": "31000",
            "status": "51",
            "completed_time": "24-07-01 12:00:00",
        },
        headers={},
        body=b"",
    )
    assert report.status is Status.FAILED_PERMANENT
    assert report.message_id == "31000:447700902200"
    assert report.occurred_at is not None and report.occurred_at.utcoffset() is not None
    with pytest.raises(MalformedResponseError):
        provider.parse_callback(method="GET", query={"status": "11"}, headers={}, body=b"")


def test_through_smsbridge_and_plugins(emulator: BulkSmsEmulator) -> None:
    import smsbridge_bulksms

    manager = make_plugin_manager(load_entry_points=False)
    manager.register(smsbridge_bulksms, name="bulksms")
    cls = manager.registry.get("bulksms")
    assert cls is BulkSmsProvider
    assert cls.capabilities.max_connections == 1
    provider = cls.from_options(**cls.emulator_options(emulator))
    with SmsBridge([provider], plugin_manager=manager, store=":memory:") as bridge:
        single = bridge.send(Message("+447700902300", "one"))
        assert single.status is Status.ACCEPTED  # type: ignore[union-attr]
        batch = Batch(
            ["+447700902301", "+447700902301", "not a number", "+447700902302"], body="many"
        )
        result = bridge.send_batch(batch)
    statuses = sorted(r.status.value for r in result)
    assert statuses == ["accepted", "accepted", "invalid_number"]
    assert result.duplicates == 1
    assert emulator.submissions.duplicates() == {}


def test_options_validation() -> None:
    from smsbridge import ConfigurationError

    base = {"base_url": "http://127.0.0.1:1/eapi", "username": "u", "password": "p"}
    for bad in (
        {"batch_size": 0},
        {"batch_size": 30_001},
        {"routing_group": 4},
        {"account_timezone": "Nowhere/Land"},
        {"dry_run": "maybe"},
        {"stop_dup_start": 0},
    ):
        with pytest.raises(ConfigurationError):
            BulkSmsProvider.from_options(**base, **bad)
    with BulkSmsProvider.from_options(**base) as provider:
        assert "'p'" not in repr(provider)
