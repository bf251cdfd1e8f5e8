"""The shared conformance scenarios against the Huawei emulator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import pytest

from smsbridge import Message, SendOptions, new_reference
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.conformance import ProviderConformance
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator

from .conftest import INTL_TEMPLATE, make_emulator, make_provider


class TestHuaweiConformance(ProviderConformance):
    def make_message(self, to: Sequence[str]) -> Message:
        # Template-only platform: the text maps onto an approved template.
        options = SendOptions(
            extra={"huawei_template_id": INTL_TEMPLATE, "huawei_template_params": ["123456", "A"]}
        )
        return Message(tuple(to), "Your code is 123456 for A", reference=new_reference(),
                       options=options)  # fmt: skip

    def make_row(self, number: str, *, variant: int = 0) -> Message:
        # No scheduling here: variants differ in their template instead.
        message = self.make_message([number])
        if variant == 0:
            return message
        extra = {**message.options.extra, "huawei_template_id": f"tplvariant{variant}"}
        return attrs.evolve(message, options=SendOptions(extra=extra))

    @pytest.fixture
    def emulator(self, smsbridge_emulator_factory: EmulatorFactory) -> HuaweiEmulator:
        return make_emulator(smsbridge_emulator_factory)

    @pytest.fixture
    def provider(self, emulator: HuaweiEmulator) -> Iterator[HuaweiProvider]:
        with make_provider(emulator) as built:
            yield built
