"""pytest fixtures for testing against emulators.

Registered through the ``pytest11`` entry point ``smsbridge``. It imposes nothing: no
autouse fixtures, no hooks that change collection; every name starts with ``smsbridge_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smsbridge.errors import ConfigurationError
from smsbridge.provider import Provider
from smsbridge.testing.emulator import Emulator, EmulatorFactory, LoopbackEmulator

__all__ = [
    "EmulatedProviders",
    "smsbridge_emulated_provider",
    "smsbridge_emulator_factory",
    "smsbridge_loopback_server",
]


@pytest.fixture
def smsbridge_emulator_factory() -> Iterator[EmulatorFactory]:
    """Start emulators with ``factory(EmulatorClass, **kwargs)``; all stop at teardown."""
    with EmulatorFactory() as factory:
        yield factory


@pytest.fixture
def smsbridge_loopback_server(smsbridge_emulator_factory: EmulatorFactory) -> LoopbackEmulator:
    """A started :class:`LoopbackEmulator`: answers ``200 OK`` to anything and logs it."""
    return smsbridge_emulator_factory(LoopbackEmulator)


class EmulatedProviders:
    """Builds installed providers pointed at their own freshly started emulators."""

    def __init__(self, emulators: EmulatorFactory) -> None:
        self._emulators = emulators
        self._providers: list[Provider] = []

    def __call__(self, name: str, /, **emulator_kwargs: Any) -> tuple[Provider, Emulator]:
        """Start ``name``'s emulator and return ``(provider, emulator)``.

        Raises:
            ConfigurationError: When no provider ``name`` is installed or it ships no
                emulator.
        """
        from smsbridge.plugins import default_plugin_manager

        cls = default_plugin_manager().registry.get(name)
        emulator_class = cls.emulator_class()
        if emulator_class is None:
            raise ConfigurationError(f"provider {name!r} ships no emulator", provider=name)
        emulator = self._emulators(emulator_class, **emulator_kwargs)
        provider = cls.from_options(**cls.emulator_options(emulator))
        self._providers.append(provider)
        return provider, emulator

    def close(self) -> None:
        """Close every provider built."""
        while self._providers:
            self._providers.pop().close()


@pytest.fixture
def smsbridge_emulated_provider(
    smsbridge_emulator_factory: EmulatorFactory,
) -> Iterator[EmulatedProviders]:
    """``factory("clickatell")`` → ``(provider, emulator)`` for any installed provider.

    Uses the installed plugins (entry points); everything is closed at teardown.
    """
    factory = EmulatedProviders(smsbridge_emulator_factory)
    try:
        yield factory
    finally:
        factory.close()
