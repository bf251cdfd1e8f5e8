"""pytest fixtures for testing against emulators.

Registered through the ``pytest11`` entry point ``smsbridge``. It imposes nothing: no
autouse fixtures, no hooks that change collection; every name starts with ``smsbridge_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from smsbridge.errors import ConfigurationError
from smsbridge.provider import Provider
from smsbridge.testing.emulator import Emulator, EmulatorFactory, LoopbackEmulator

__all__ = [
    "EmulatedProviders",
    "ProviderMaker",
    "smsbridge_emulated_provider",
    "smsbridge_emulator_factory",
    "smsbridge_loopback_server",
    "smsbridge_make_provider",
]

P = TypeVar("P", bound=Provider)


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


class ProviderMaker:
    """Builds providers pointed at a running emulator; :meth:`close` closes them all."""

    def __init__(self) -> None:
        self._made: list[Provider] = []

    def __call__(self, provider_class: type[P], emulator: Emulator, /, **options: Any) -> P:
        """``provider_class`` with the emulator's options (address, credentials), then
        ``options`` on top.

        Raises:
            ConfigurationError: When ``emulator`` is not ``provider_class``'s emulator, or
                an option is unknown or invalid.
        """
        merged = {**provider_class.emulator_options(emulator), **options}
        provider = provider_class.from_options(**merged)
        self._made.append(provider)
        return provider

    def close(self) -> None:
        """Close every provider built, newest first."""
        while self._made:
            self._made.pop().close()


@pytest.fixture
def smsbridge_make_provider() -> Iterator[ProviderMaker]:
    """``make(ProviderClass, emulator, **options)`` → a provider pointed at ``emulator``.

    A conftest binds its class once: ``functools.partial(smsbridge_make_provider,
    MyProvider)`` gives the ``make_provider(emulator, **options)`` its tests call.
    Every provider built is closed at teardown.
    """
    maker = ProviderMaker()
    try:
        yield maker
    finally:
        maker.close()
