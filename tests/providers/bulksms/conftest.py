"""Fixtures: a BulkSMS emulator on loopback and a provider pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smsbridge.testing import EmulatorFactory, ManualClock
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider

PASSWORD = "s3ntinel-PASSWORD-do-not-leak"
MakeProvider = Callable[..., BulkSmsProvider]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory, clock: ManualClock) -> BulkSmsEmulator:
    return smsbridge_emulator_factory(BulkSmsEmulator, clock=clock, password=PASSWORD)


@pytest.fixture
def make_provider(emulator: BulkSmsEmulator) -> Iterator[MakeProvider]:
    made: list[BulkSmsProvider] = []

    def make(**overrides: Any) -> BulkSmsProvider:
        options = {**BulkSmsProvider.emulator_options(emulator), "stop_dup_start": 1000}
        provider = BulkSmsProvider.from_options(**{**options, **overrides})
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def provider(make_provider: MakeProvider) -> BulkSmsProvider:
    return make_provider()
