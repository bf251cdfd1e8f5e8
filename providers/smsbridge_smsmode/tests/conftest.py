"""Fixtures: an smsmode emulator on a manual clock and a provider pointed at it.

The hypothesis profiles mirror smsbridge's own (``dev``, ``ci``, ``fast``), chosen by
``HYPOTHESIS_PROFILE``, so that this package's tests run the same way on their own.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from smsbridge.sdk import EmulatorFactory, ManualClock
from smsbridge.sdk.testing import ProviderMaker
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.emulator import SmsmodeEmulator

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("fast", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def clock() -> ManualClock:
    # Real "now" as the start: scheduled times are computed from the wall clock.
    return ManualClock(start=time.time())


@pytest.fixture
def make_emulator(
    smsbridge_emulator_factory: EmulatorFactory, clock: ManualClock
) -> Callable[..., SmsmodeEmulator]:
    def make(**kwargs: Any) -> SmsmodeEmulator:
        kwargs.setdefault("clock", clock)
        return smsbridge_emulator_factory(SmsmodeEmulator, **kwargs)

    return make


@pytest.fixture
def emulator(make_emulator: Callable[..., SmsmodeEmulator]) -> SmsmodeEmulator:
    return make_emulator()


@pytest.fixture
def make_provider(smsbridge_make_provider: ProviderMaker) -> Callable[..., SmsmodeProvider]:
    return functools.partial(smsbridge_make_provider, SmsmodeProvider)


@pytest.fixture
def provider(
    emulator: SmsmodeEmulator, make_provider: Callable[..., SmsmodeProvider]
) -> SmsmodeProvider:
    return make_provider(emulator)
