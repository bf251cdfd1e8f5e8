"""The shared scenarios every provider passes against its emulator.

Subclass :class:`ProviderConformance` in a test module under a name starting with
``Test`` and provide two fixtures, ``emulator`` (a started emulator) and ``provider``
(the provider pointed at it)::

    class TestMyProviderConformance(ProviderConformance):
        @pytest.fixture
        def emulator(self, smsbridge_emulator_factory):
            return smsbridge_emulator_factory(MyEmulator)

        @pytest.fixture
        def provider(self, emulator, smsbridge_make_provider):
            return smsbridge_make_provider(MyProvider, emulator)

Override :meth:`ProviderConformance.make_message` when the provider cannot send free
text (template-only platforms), and :attr:`recipients` when its emulator only routes
some destinations. Every scenario asserts on the emulator's record of accepted
submissions, so "sent once" means sent once on the wire.

The row scenarios (``test_rows_*``) check :meth:`~smsbridge.provider.Provider.request_key`
and :meth:`~smsbridge.provider.Provider.send_rows` on rows from
:meth:`ProviderConformance.make_row`; its default varies the schedule between variants,
so a provider without scheduling overrides it. The fixture's provider must be ready to
send without a further request of its own (an established session), because the
scenarios count requests at the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import pytest

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.errors import (
    InvalidMessageError,
    Scope,
    SmsBridgeError,
    UnsupportedOperationError,
)
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

    def make_row(self, number: str, *, variant: int = 0) -> Message:
        """A one-recipient message with a reference of its own, as the dispatcher hands
        rows to :meth:`~smsbridge.provider.Provider.send_rows`.

        Rows of one ``variant`` share every request-level setting; rows of different
        variants differ in one. The default builds on :meth:`make_message` and gives each
        variant but 0 its own schedule, a day and ``variant`` hours ahead; providers
        without scheduling override it and vary another request-level setting.
        """
        message = self.make_message([number])
        if variant == 0:
            return message
        day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        options = attrs.evolve(message.options, scheduled_at=day + timedelta(hours=variant))
        return attrs.evolve(message, options=options)

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

    def test_unknown_option_is_refused_by_name_before_sending(
        self, provider: Provider, emulator: Emulator
    ) -> None:
        # An option the provider does not know must never be dropped silently.
        base = self.make_message(self.recipients[:1])
        extra = {**base.options.extra, "conformance_unknown_option": 1}
        odd = attrs.evolve(base, options=attrs.evolve(base.options, extra=extra))
        outcome = self._send_or_error(provider, odd)
        if isinstance(outcome, SmsBridgeError):
            assert isinstance(outcome, InvalidMessageError), outcome
            assert outcome.field == "extra.conformance_unknown_option"
        else:
            assert [r.status for r in outcome] == [Status.REJECTED], outcome
            assert outcome[0].error is not None
            assert "conformance_unknown_option" in outcome[0].error.text
        assert len(emulator.submissions) == 0
        # Scoped to another provider: not this one's business.
        extra = {**base.options.extra, "no_such_provider.option": 1}
        scoped = attrs.evolve(base, options=attrs.evolve(base.options, extra=extra))
        (result,) = provider.send(scoped)
        assert result.status.is_success, result

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

    # -- rows ---------------------------------------------------------------------------

    def test_rows_request_keys(self, provider: Provider) -> None:
        rows = [self.make_row(number) for number in self.recipients]
        keys = [provider.request_key(row) for row in rows]
        if keys[0] is None:
            # Never grouped: every row goes through send().
            assert all(key is None for key in keys)
            return
        hash(keys[0])
        # Another number, another reference, the same number again: one request.
        again = self.make_row(self.recipients[0])
        assert again.reference != rows[0].reference
        assert provider.request_key(again) == keys[0]
        assert all(key == keys[0] for key in keys)
        # A different request-level setting: never the same request.
        other = provider.request_key(self.make_row(self.recipients[0], variant=1))
        assert other is not None
        assert other != keys[0]
        assert other != provider.request_key(self.make_row(self.recipients[0], variant=2))

    def test_rows_go_as_one_request(self, provider: Provider, emulator: Emulator) -> None:
        rows = [self.make_row(number) for number in self.recipients[:3]]
        keys = {provider.request_key(row) for row in rows}
        before = len(emulator.requests)
        try:
            results = provider.send_rows(rows)
        except UnsupportedOperationError:
            # A key without send_rows: the provider groups through a path of its own
            # (BulkSMS's stored chunks). Nothing may have been sent.
            assert len(emulator.requests) == before
            assert self.accepted_digits(emulator) == []
            return
        assert len(keys) == 1
        assert None not in keys
        assert len(emulator.requests) - before == 1
        assert [r.recipient for r in results] == [row.to[0] for row in rows]
        assert [r.reference for r in results] == [row.reference for row in rows]
        assert all(r.provider == provider.name for r in results)
        assert all(r.status.is_success and r.message_id for r in results), results
        assert sorted(self.accepted_digits(emulator)) == sorted(_digits(r.to[0]) for r in rows)
        if provider.capabilities.shared_row_reference:
            # One client reference on the wire for the whole request.
            wire = {s.reference for s in emulator.submissions.snapshot()}
            assert len(wire) == 1
            assert None not in wire

    def test_rows_lost_answer_is_never_a_silent_success(
        self, provider: Provider, emulator: Emulator
    ) -> None:
        rows = [self.make_row(number) for number in self.recipients[:3]]
        emulator.faults.add(AcceptThenDrop(), next_n=1)
        try:
            outcome: list[SendResult] | SmsBridgeError = provider.send_rows(rows)
        except UnsupportedOperationError:
            assert self.accepted_digits(emulator) == []
            return
        except SmsBridgeError as exc:
            outcome = exc
        # Once on the wire, whatever happened.
        assert sorted(self.accepted_digits(emulator)) == sorted(_digits(r.to[0]) for r in rows)
        if isinstance(outcome, SmsBridgeError):
            assert outcome.outcome_unknown
        else:
            assert provider.capabilities.idempotency_key
            assert all(r.status.is_success for r in outcome)
