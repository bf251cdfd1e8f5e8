"""Least-cost routing over emulated providers: cheapest per country, failover to the next.

Three providers on three emulators: Clickatell, a second Clickatell account under
another name, and BulkSMS. The table makes each of three countries cheapest on a
different one; the emulators' records show where each recipient landed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from smsbridge import Message
from smsbridge.pricing import PriceTable, TablePrices
from smsbridge.router import LeastCost, RetryPolicy, Router
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.faults import HttpStatus
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.provider import ClickatellProvider
from tests.pricing import BulkSmsBilling

UK, FRANCE, GERMANY, SPAIN = "+447700900123", "+33612345678", "+4915123456789", "+34612345678"
TABLE = """\
provider,country,prefix,network,price,unit
clickatell,GB,,,0.030,EUR
clickatell,FR,,,0.090,EUR
clickatell,DE,,,0.080,EUR
clickatell,ES,,,0.050,EUR
backup,GB,,,0.060,EUR
backup,FR,,,0.040,EUR
backup,DE,,,0.090,EUR
backup,ES,,,0.050,EUR
bulksms,GB,,,0.070,EUR
bulksms,FR,,,0.050,EUR
bulksms,DE,,,0.030,EUR
bulksms,ES,,,0.060,EUR
"""


class Backup(ClickatellProvider):
    """A second Clickatell account, registered under its own name."""

    name: ClassVar[str] = "backup"


@pytest.fixture
def emulators(
    smsbridge_emulator_factory: EmulatorFactory,
) -> dict[str, ClickatellEmulator | BulkSmsEmulator]:
    return {
        "clickatell": smsbridge_emulator_factory(ClickatellEmulator),
        "backup": smsbridge_emulator_factory(ClickatellEmulator),
        "bulksms": smsbridge_emulator_factory(BulkSmsEmulator),
    }


@pytest.fixture
def router(emulators: dict[str, ClickatellEmulator | BulkSmsEmulator]) -> Iterator[Router]:
    providers = [
        ClickatellProvider.from_options(
            **ClickatellProvider.emulator_options(emulators["clickatell"])
        ),
        Backup.from_options(**Backup.emulator_options(emulators["backup"])),
        BulkSmsBilling.from_options(**BulkSmsBilling.emulator_options(emulators["bulksms"])),
    ]
    policy = LeastCost(TablePrices(PriceTable.from_text(TABLE), currency="EUR"))
    try:
        yield Router(providers, policy=policy, retry=RetryPolicy(), sleep=lambda _s: None)
    finally:
        for provider in providers:
            provider.close()


def landed(emulators: dict[str, ClickatellEmulator | BulkSmsEmulator]) -> dict[str, str]:
    """Recipient -> the emulator (by provider name) that accepted it."""
    return {
        recipient: name
        for name, emulator in emulators.items()
        for submission in emulator.submissions
        for recipient in submission.recipients
    }


def send_each(router: Router, numbers: list[str]) -> None:
    """One message per recipient, so that each goes to its own cheapest provider."""
    for index, number in enumerate(numbers):
        results = router.send(Message(number, "Your table is ready.", reference=f"lc{index}"))
        assert [r.ok for r in results] == [True], results


def test_each_country_goes_to_its_cheapest_provider(
    router: Router, emulators: dict[str, ClickatellEmulator | BulkSmsEmulator]
) -> None:
    send_each(router, [UK, FRANCE, GERMANY])
    assert landed(emulators) == {UK: "clickatell", FRANCE: "backup", GERMANY: "bulksms"}


def test_a_tie_goes_to_the_configured_priority(
    router: Router, emulators: dict[str, ClickatellEmulator | BulkSmsEmulator]
) -> None:
    """Spain costs the same on clickatell and backup: the first configured wins."""
    send_each(router, [SPAIN])
    assert landed(emulators) == {SPAIN: "clickatell"}


def test_failover_moves_recipients_to_the_next_cheapest(
    router: Router, emulators: dict[str, ClickatellEmulator | BulkSmsEmulator]
) -> None:
    """backup answers 500: France goes to bulksms (0.050), not clickatell (0.090)."""
    emulators["backup"].faults.add(HttpStatus(500))
    send_each(router, [UK, FRANCE, GERMANY])
    assert landed(emulators) == {UK: "clickatell", FRANCE: "bulksms", GERMANY: "bulksms"}
    assert len(emulators["backup"].submissions) == 0
