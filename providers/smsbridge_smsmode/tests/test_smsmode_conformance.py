"""The shared conformance scenarios against the smsmode emulator, with both kinds of
credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsbridge.sdk import EmulatorFactory
from smsbridge.sdk.testing import ProviderConformance
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.emulator import SmsmodeEmulator


class TestSmsmodeConformance(ProviderConformance):
    recipients = ("+33612345601", "+33612345602", "+447700900003")

    @pytest.fixture
    def emulator(self, smsbridge_emulator_factory: EmulatorFactory) -> SmsmodeEmulator:
        return smsbridge_emulator_factory(SmsmodeEmulator)

    @pytest.fixture(params=["access_token", "pseudo"])
    def provider(
        self, emulator: SmsmodeEmulator, request: pytest.FixtureRequest
    ) -> Iterator[SmsmodeProvider]:
        if request.param == "access_token":
            options = SmsmodeProvider.emulator_options(emulator)
        else:
            options = {
                "base_url": emulator.url,
                "pseudo": emulator.pseudo,
                "password": emulator.password,
            }
        with SmsmodeProvider.from_options(**options) as provider:
            yield provider
