"""Fixtures: an SMSC emulator on loopback and SMPP providers bound to it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

from smsbridge.sdk.testing import ProviderMaker
from smsbridge.testing import EmulatorFactory
from smsbridge_smpp import SmppProvider
from smsbridge_smpp.emulator import SmscEmulator

#: Long enough for a loaded CI machine, short enough to keep the suite quick.
WAIT = 5.0


@pytest.fixture
def make_emulator(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Callable[..., SmscEmulator]:
    def make(**kwargs: Any) -> SmscEmulator:
        return smsbridge_emulator_factory(SmscEmulator, **kwargs)

    return make


@pytest.fixture
def emulator(make_emulator: Callable[..., SmscEmulator]) -> SmscEmulator:
    return make_emulator()


@pytest.fixture
def make_provider(smsbridge_make_provider: ProviderMaker) -> Callable[..., SmppProvider]:
    return functools.partial(smsbridge_make_provider, SmppProvider)


@pytest.fixture
def provider(emulator: SmscEmulator, make_provider: Callable[..., SmppProvider]) -> SmppProvider:
    return make_provider(emulator)


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes (for pushed receipts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
