"""The shared scenarios every provider passes against its emulator.

Subclass :class:`ProviderConformance` in a test module under a name starting with
``Test`` and provide two fixtures, ``emulator`` (a started emulator) and ``provider``
(the provider pointed at it)::

    class TestMyProviderConformance(ProviderConformance):
        @pytest.fixture
        def emulator(self, smsbridge_emulator_factory):
            return smsbridge_emulator_factory(MyEmulator)

        @pytest.fixture
        def provider(self, emulator):
            with MyProvider.from_options(**MyProvider.emulator_options(emulator)) as p:
                yield p

Override :meth:`ProviderConformance.make_message` when the provider cannot send free
text (template-only platforms), and :attr:`recipients` when its emulator only routes
some destinations. Every scenario asserts on the emulator's record of accepted
submissions, so "sent once" means sent once on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pytest

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.errors import Scope, SmsBridgeError, UnsupportedOperationError
from smsbridge.model import Message
from smsbridge.plugins import make_plugin_manager
from smsbridge.provider import Capabilities, Provider
from smsbridge.results import SendResult
from smsbridge.status import Status
from smsbridge.testing.emulator import Emulator
from smsbridge.testing.faults import AcceptThenDrop, ConnectionReset, Garbage, HttpStatus

__all__ = ["ProviderConformance"]


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit()).lstrip("0")


class ProviderConformance:
    """Scenarios run against every provider's emulator (see the module docstring)."""

    recipients: ClassVar[Sequence[str]] = ("+447700900001", "+447700900002", "+447700900003")
    """Numbers the emulator accepts, in E.164."""

    def make_message(self, to: Sequence[str]) -> Message:
        """A message this provider can send to ``to``."""
        return Message(
            tuple(to), "Conformance check: your code is 123456", reference=new_reference()
        )

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def accepted_digits(emulator: Emulator) -> list[str]:
        """Every accepted recipient on the wire, as bare digits."""
        return [_digits(r) for s in emulator.submissions.snapshot() for r in s.recipients]

    @staticmethod
    def _send_or_error(provider: Provider, message: Message) -> list[SendResult] | SmsBridgeError:
        try:
            return provider.send(message)
        except SmsBridgeError as exc:
            return exc

    # -- scenarios ----------------------------------------------------------------------

    def test_declares_itself(self, provider: Provider) -> None:
        assert isinstance(provider.capabilities, Capabilities)
        assert provider.name == provider.name.lower()
        assert provider.capabilities.max_recipients_per_request >= 1

    def test_send_one(self, provider: Provider, emulator: Emulator) -> None:
        message = self.make_message(self.recipients[:1])
        (result,) = provider.send(message)
        assert result.status.is_success, result
        assert result.provider == provider.name
        assert result.message_id
        assert result.reference == message.reference
        assert result.recipient == message.to[0]
        assert self.accepted_digits(emulator) == [_digits(message.to[0])]

    def test_send_many_keeps_order(self, provider: Provider, emulator: Emulator) -> None:
        count = min(len(self.recipients), provider.capabilities.max_recipients_per_request)
        message = self.make_message(self.recipients[:count])
        results = provider.send(message)
        assert [r.recipient for r in results] == list(message.to)
        assert all(r.status.is_success for r in results), results
        assert sorted(self.accepted_digits(emulator)) == sorted(_digits(n) for n in message.to)

    def test_through_the_bridge(self, provider: Provider, emulator: Emulator) -> None:
        bridge = SmsBridge(
            [provider],
            plugin_manager=make_plugin_manager(load_entry_points=False),
            store=":memory:",
        )
        result = bridge.send(self.make_message(self.recipients[:1]))
        assert isinstance(result, SendResult)
        assert result.status.is_success, result
        assert len(emulator.submissions) == 1

    def test_server_error_is_transient_provider_failure(
        self, provider: Provider, emulator: Emulator
    ) -> None:
        emulator.faults.add(HttpStatus(500), next_n=100)
        outcome = self._send_or_error(provider, self.make_message(self.recipients[:1]))
        if isinstance(outcome, SmsBridgeError):
            assert outcome.scope is Scope.PROVIDER
            assert outcome.transient
        else:
            assert all(not r.ok and r.error is not None and r.error.transient for r in outcome)
        assert self.accepted_digits(emulator) == []

    def test_reset_before_processing_sends_nothing(
        self, provider: Provider, emulator: Emulator
    ) -> None:
        emulator.faults.add(ConnectionReset(), next_n=100)
        outcome = self._send_or_error(provider, self.make_message(self.recipients[:1]))
        assert isinstance(outcome, SmsBridgeError)
        assert outcome.transient
        assert self.accepted_digits(emulator) == []

    def test_lost_answer_is_never_a_silent_success_or_duplicate(
        self, provider: Provider, emulator: Emulator
    ) -> None:
        emulator.faults.add(AcceptThenDrop(), next_n=1)
        message = self.make_message(self.recipients[:1])
        outcome = self._send_or_error(provider, message)
        accepted = self.accepted_digits(emulator)
        assert accepted == [_digits(message.to[0])]  # once on the wire, whatever happened
        if isinstance(outcome, SmsBridgeError):
            assert outcome.outcome_unknown
        else:
            # Only a provider that replays with an idempotency key may recover by itself.
            assert provider.capabilities.idempotency_key
            assert all(r.status.is_success for r in outcome)

    def test_garbage_answer_is_a_typed_error(self, provider: Provider, emulator: Emulator) -> None:
        emulator.faults.add(Garbage(b"\x00\xff<html>oops</html>\n\n\x1b"), next_n=100)
        outcome = self._send_or_error(provider, self.make_message(self.recipients[:1]))
        if isinstance(outcome, SmsBridgeError):
            assert outcome.outcome_unknown or outcome.transient
        else:
            assert all(r.status in (Status.UNKNOWN,) or not r.ok for r in outcome)

    def test_undeclared_operations_raise(self, provider: Provider) -> None:
        caps = provider.capabilities
        calls: list[tuple[bool, Callable[[], Any]]] = [
            (caps.balance, provider.balance),
            (caps.cancel, lambda: provider.cancel("0")),
            (caps.query_by_id, lambda: provider.query(message_id="0")),
            (caps.coverage, lambda: provider.coverage(self.recipients[0])),
            (caps.quote, lambda: provider.quote(self.make_message(self.recipients[:1]))),
        ]
        for declared, call in calls:
            if declared:
                continue
            with pytest.raises(UnsupportedOperationError):
                call()

    def test_secrets_stay_out_of_repr(self, provider: Provider) -> None:
        for secret in provider.secrets():
            value = secret.reveal()
            if len(value) >= 3:
                assert value not in repr(provider)
                assert value not in repr(provider.options)
