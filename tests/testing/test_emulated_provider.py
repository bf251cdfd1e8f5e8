"""The by-name fixture builds every installed provider against its own emulator."""

from __future__ import annotations

import pytest

import smsbridge
from smsbridge.testing.pytest_plugin import EmulatedProviders


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
