"""The Pigeon provider against its emulator: the shared conformance suite, the code
table, and a refusal of one number."""

from __future__ import annotations

import pytest

from smsbridge import Message, Scope, Status
from smsbridge.sdk import EmulatorFactory
from smsbridge.sdk.testing import ProviderConformance, ProviderMaker
from smsbridge_pigeon import PigeonProvider
from smsbridge_pigeon.codes import CODES
from smsbridge_pigeon.emulator import PigeonEmulator


@pytest.fixture
def pigeon_emulator(smsbridge_emulator_factory: EmulatorFactory) -> PigeonEmulator:
    return smsbridge_emulator_factory(PigeonEmulator)


@pytest.fixture
def pigeon(
    pigeon_emulator: PigeonEmulator, smsbridge_make_provider: ProviderMaker
) -> PigeonProvider:
    return smsbridge_make_provider(PigeonProvider, pigeon_emulator)


class TestPigeonConformance(ProviderConformance):
    @pytest.fixture
    def emulator(self, pigeon_emulator: PigeonEmulator) -> PigeonEmulator:
        return pigeon_emulator

    @pytest.fixture
    def provider(self, pigeon: PigeonProvider) -> PigeonProvider:
        return pigeon


@pytest.mark.parametrize("code", sorted(CODES.entries))
def test_every_code_maps_to_one_status(code: str) -> None:
    outcome = CODES[code]
    assert isinstance(outcome.status, Status)
    assert outcome.description
    if outcome.is_error:
        assert isinstance(outcome.scope, Scope)


def test_opted_out_number_is_a_result_not_an_exception(
    pigeon: PigeonProvider, pigeon_emulator: PigeonEmulator
) -> None:
    pigeon_emulator.opted_out.add("+447700900002")
    results = pigeon.send(Message(("+447700900001", "+447700900002"), "Hi", reference="r1"))
    assert [r.status for r in results] == [Status.ACCEPTED, Status.REJECTED]
    assert results[1].error is not None
    assert results[1].error.code == "P20"
    assert results[1].error.scope is Scope.RECIPIENT
