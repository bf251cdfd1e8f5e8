"""Fixtures: a Clickatell emulator on a manual clock and a provider pointed at it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

from smsbridge.sdk.testing import ProviderMaker
from smsbridge.testing import EmulatorFactory, ManualClock
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

SENTINEL_PASSWORD = "sentinel-PW-7c1e9a"


@pytest.fixture
def clock() -> ManualClock:
    # Real "now" as the start: scheduled times are computed from the wall clock.
    return ManualClock(start=time.time())


@pytest.fixture
def make_emulator(
    smsbridge_emulator_factory: EmulatorFactory, clock: ManualClock
) -> Callable[..., ClickatellEmulator]:
    def make(**kwargs: Any) -> ClickatellEmulator:
        kwargs.setdefault("clock", clock)
        return smsbridge_emulator_factory(ClickatellEmulator, **kwargs)

    return make


@pytest.fixture
def emulator(make_emulator: Callable[..., ClickatellEmulator]) -> ClickatellEmulator:
    return make_emulator()


@pytest.fixture
def make_provider(smsbridge_make_provider: ProviderMaker) -> Callable[..., ClickatellProvider]:
    return functools.partial(smsbridge_make_provider, ClickatellProvider)


@pytest.fixture
def provider(
    emulator: ClickatellEmulator, make_provider: Callable[..., ClickatellProvider]
) -> ClickatellProvider:
    return make_provider(emulator)
