"""The fixtures and the wiring that point a provider at its own emulator."""

from __future__ import annotations

import pytest

import smsbridge
from smsbridge.sdk import EmulatedBy, EmulatorFactory
from smsbridge.testing.pytest_plugin import EmulatedProviders, ProviderMaker
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


@pytest.mark.parametrize("name", ["clickatell", "huawei"])
def test_builds_installed_provider_against_its_emulator(
    smsbridge_emulated_provider: EmulatedProviders, name: str
) -> None:
    provider, emulator = smsbridge_emulated_provider(name)
    assert provider.name == name
    assert provider.options.base_url == emulator.url
    assert emulator.url.startswith("http://127.0.0.1:")


def test_unknown_name(smsbridge_emulated_provider: EmulatedProviders) -> None:
    with pytest.raises(smsbridge.ConfigurationError, match="no provider named"):
        smsbridge_emulated_provider("no_such_provider")


def test_make_provider_points_a_class_at_a_running_emulator(
    smsbridge_make_provider: ProviderMaker, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator)
    provider = smsbridge_make_provider(BulkSmsProvider, emulator, timeout=3.0)
    assert provider.options.base_url == f"{emulator.url}/eapi"
    assert provider.options.username.reveal() == emulator.username
    assert provider.options.timeout == 3.0
    result = provider.send(smsbridge.Message("+447700900123", "hi", reference="m-1"))
    assert result[0].status is smsbridge.Status.ACCEPTED


def test_make_provider_closes_what_it_built(smsbridge_emulator_factory: EmulatorFactory) -> None:
    closed: list[str] = []

    class Closing(BulkSmsProvider):
        def close(self) -> None:
            closed.append(self.name)
            super().close()

    maker = ProviderMaker()
    maker(Closing, smsbridge_emulator_factory(BulkSmsEmulator))
    maker(Closing, smsbridge_emulator_factory(BulkSmsEmulator))
    maker.close()
    assert closed == ["bulksms", "bulksms"]


def test_a_foreign_emulator_is_refused_by_name(
    smsbridge_make_provider: ProviderMaker, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    with pytest.raises(smsbridge.ConfigurationError, match="needs a BulkSmsEmulator"):
        smsbridge_make_provider(BulkSmsProvider, emulator)


def test_wiring_resolves_relative_to_the_provider_package() -> None:
    assert BulkSmsProvider.emulator_class() is BulkSmsEmulator
    assert ClickatellProvider.emulator_class() is ClickatellEmulator
    assert smsbridge.Provider.emulator_class() is None


@pytest.mark.parametrize("ref", ["no_colon", ":Name", "module:", "module:not-a-name"])
def test_wiring_refuses_a_malformed_reference(ref: str) -> None:
    with pytest.raises(ValueError, match="module:Class"):
        EmulatedBy(ref)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (".no_such_module:Emulator", "cannot be imported"),
        (".protocol:CHARSET", "not an Emulator subclass"),
    ],
)
def test_wiring_to_nothing_is_a_configuration_error(ref: str, message: str) -> None:
    class Miswired(BulkSmsProvider):
        emulated_by = EmulatedBy(ref)

    Miswired.__module__ = BulkSmsProvider.__module__
    with pytest.raises(smsbridge.ConfigurationError, match=message):
        Miswired.emulator_class()
