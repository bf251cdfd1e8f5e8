"""pytest fixtures for testing against emulators.

Registered through the ``pytest11`` entry point ``smsbridge``. It imposes nothing: no
autouse fixtures, no hooks that change collection; every name starts with ``smsbridge_``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsbridge.testing.emulator import EmulatorFactory, LoopbackEmulator

__all__ = ["smsbridge_emulator_factory", "smsbridge_loopback_server"]


@pytest.fixture
def smsbridge_emulator_factory() -> Iterator[EmulatorFactory]:
    """Start emulators with ``factory(EmulatorClass, **kwargs)``; all stop at teardown."""
    with EmulatorFactory() as factory:
        yield factory


@pytest.fixture
def smsbridge_loopback_server(smsbridge_emulator_factory: EmulatorFactory) -> LoopbackEmulator:
    """A started :class:`LoopbackEmulator`: answers ``200 OK`` to anything and logs it."""
    return smsbridge_emulator_factory(LoopbackEmulator)


# Fixtures that start a provider's emulator by its registered name (through the plugin
# registry in smsbridge.plugins) belong here, next to the factory they build on.
