"""The shared conformance scenarios against the Clickatell emulator, in both auth modes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsbridge.testing import EmulatorFactory
from smsbridge.testing.conformance import ProviderConformance
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


class TestClickatellConformance(ProviderConformance):
    @pytest.fixture
    def emulator(self, smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
        return smsbridge_emulator_factory(ClickatellEmulator)

    @pytest.fixture(params=["session", "per_call"])
    def provider(
        self, emulator: ClickatellEmulator, request: pytest.FixtureRequest
    ) -> Iterator[ClickatellProvider]:
        options = ClickatellProvider.emulator_options(emulator)
        with ClickatellProvider.from_options(**options, auth_mode=request.param) as provider:
            if request.param == "session":
                # The scenarios fault "the next request", meaning the send: start from an
                # established session, as a long-lived process has. (A fault on the auth
                # request itself is a plain TransportError with nothing sent.)
                provider.balance()
            yield provider
