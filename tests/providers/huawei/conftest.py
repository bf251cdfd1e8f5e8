"""Fixtures: a Huawei emulator with registered templates, a provider pointed at it, and a
loopback receiver collecting status reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smsbridge.testing import EmulatorFactory, LoopbackEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

CN_TEMPLATE = "tplcn000000000000000000000000001"
INTL_TEMPLATE = "tplintl00000000000000000000000001"[:32]
SIGNATURE = "华为云"
SENTINEL_SECRET = "SENTINEL-app-secret-9f8e7d"
SENTINEL_KEY = "SENTINEL-app-key-1a2b3c"


def make_emulator(factory: EmulatorFactory, **kwargs: Any) -> HuaweiEmulator:
    emulator = factory(HuaweiEmulator, app_key=SENTINEL_KEY, app_secret=SENTINEL_SECRET, **kwargs)
    emulator.register_template(
        CN_TEMPLATE, "您的验证码为${1}，请于${TEXT}前使用", signature=SIGNATURE
    )
    emulator.register_template(INTL_TEMPLATE, "Your code is ${NUM_6} for ${1}", region="INTL")
    return emulator


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> HuaweiEmulator:
    return make_emulator(smsbridge_emulator_factory)


@pytest.fixture
def receiver(smsbridge_emulator_factory: EmulatorFactory) -> LoopbackEmulator:
    return smsbridge_emulator_factory(LoopbackEmulator)


def make_provider(emulator: HuaweiEmulator, **options: Any) -> HuaweiProvider:
    merged = {**HuaweiProvider.emulator_options(emulator), "signature": SIGNATURE, **options}
    return HuaweiProvider.from_options(**merged)


@pytest.fixture
def provider(emulator: HuaweiEmulator, receiver: LoopbackEmulator) -> Iterator[HuaweiProvider]:
    with make_provider(emulator, status_callback=f"{receiver.url}/report") as built:
        yield built
