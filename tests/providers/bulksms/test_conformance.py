"""The shared provider scenarios against the BulkSMS emulator."""

from __future__ import annotations

import pytest

from smsbridge.testing.conformance import ProviderConformance
from smsbridge_bulksms.provider import BulkSmsProvider

from .conftest import MakeProvider


class TestBulkSmsConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, make_provider: MakeProvider) -> BulkSmsProvider:
        return make_provider()
