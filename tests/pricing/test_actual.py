"""Estimated against actual spend from outbox items; billed failures are flagged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smsbridge import Cost, Message, SendOptions, Status
from smsbridge.outbox import ItemState, OutboxItem
from smsbridge.pricing import CreditRates, PriceTable, charge_reports, compare_spend
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.provider import ClickatellProvider
from tests.pricing import SAMPLE_CSV

TABLE = PriceTable.from_text(SAMPLE_CSV)


def item(
    reference: str,
    recipient: str,
    provider: str | None,
    status: Status | None,
    cost: Cost | None,
    body: str = "x" * 200,
    message_id: str | None = None,
) -> OutboxItem:
    return OutboxItem(
        reference=reference,
        recipient=recipient,
        body=body,
        sender=None,
        options=SendOptions(),
        batch="b1",
        state=ItemState.DONE,
        provider=provider,
        status=status,
        message_id=message_id,
        parts=None,
        cost=cost,
        attempts=1,
        next_attempt_at=0.0,
        created_at=0.0,
        updated_at=0.0,
        lease_owner=None,
        lease_until=None,
        excluded_providers=(),
        last_error=None,
    )


def test_estimate_actual_and_billed_failures_per_provider() -> None:
    items = [
        # alpha: 2 parts each at 0.035 (447 prefix) and 0.060 (FR)
        item("r1", "+447700900123", "alpha", Status.DELIVERED, Cost("0.07", "EUR")),
        item("r2", "+33612345678", "alpha", Status.FAILED_PERMANENT, Cost("0.12", "EUR")),
        item("r3", "+33612345679", "alpha", Status.REJECTED, Cost("0", "EUR")),
        # beta: credits, valued at 0.03 EUR; 2 parts at 1.2 credits
        item("r4", "+447700900124", "beta", Status.DELIVERED, Cost("2.4", "credits")),
        item("r5", "+12125550123", "beta", Status.ACCEPTED, None),
        item("r6", "+447700900125", None, None, None),  # never sent: skipped
    ]
    report = compare_spend(items, table=TABLE, rates=CreditRates({"beta": ("0.03", "EUR")}))
    alpha = report["alpha"]
    assert alpha.items == 3 and alpha.reported == 3 and alpha.unpriced == 0
    assert alpha.estimated == {"EUR": Decimal("0.310")}
    assert alpha.actual == {"EUR": Decimal("0.19")}
    assert alpha.difference() == {"EUR": Decimal("-0.120")}
    beta = report["beta"]
    assert beta.items == 2 and beta.reported == 1 and beta.unpriced == 1
    assert beta.estimated == beta.actual == {"EUR": Decimal("0.072")}
    # Only the failed message that cost something is flagged.
    assert [(f.reference, f.status, f.cost) for f in report.billed_failures] == [
        ("r2", Status.FAILED_PERMANENT, Cost("0.12", "EUR"))
    ]
    assert alpha.billed_failures == 1 and beta.billed_failures == 0
    rows = {(r["provider"], r["unit"]): r for r in report.rows()}
    assert rows[("alpha", "EUR")]["difference"] == "-0.120"


@pytest.fixture
def clickatell(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellProvider:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, prices={"": "0.8"})
    return ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))


def test_getmsgcharge_fills_in_what_the_outbox_lacks(clickatell: ClickatellProvider) -> None:
    """Clickatell's charge query answers per message id; other items are not asked."""
    with clickatell:
        (sent,) = clickatell.send(Message("+447700900123", "x" * 200, reference="c1"))
        items = [
            item(
                "c1", "+447700900123", "clickatell", sent.status, None, message_id=sent.message_id
            ),
            item("c2", "+447700900124", "clickatell", Status.DELIVERED, Cost("1", "credits")),
            item("c3", "+447700900125", "bulksms", Status.DELIVERED, None, message_id="x"),
        ]
        reports = list(charge_reports(clickatell, items))
    assert [(r.message_id, r.cost, r.reference) for r in reports] == [
        (sent.message_id, Cost("1.6", "credits"), "c1")
    ]
