"""The provider author's test kit: the shared conformance scenarios and the fixtures' types.

Imports pytest, so only tests import it. The fixtures themselves come from smsbridge's
pytest plugin (installed with smsbridge): ``smsbridge_emulator_factory``,
``smsbridge_make_provider``, ``smsbridge_emulated_provider``.
"""

from __future__ import annotations

from smsbridge.testing.conformance import ProviderConformance
from smsbridge.testing.pytest_plugin import EmulatedProviders, ProviderMaker

__all__ = ["EmulatedProviders", "ProviderConformance", "ProviderMaker"]
