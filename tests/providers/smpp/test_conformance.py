"""The shared conformance scenarios against the SMSC emulator.

Two row scenarios are restated for SMPP: there is no multi-recipient request on the wire
(each row is its own ``submit_sm``), so "one request" means one pass through the window
of one bind; and a connection dropped after the first row leaves each row behind it
either unanswered (written to the dropped connection) or sent again on a fresh bind
(never written before), never accepted twice.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsbridge import SmsBridgeError, Status
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.conformance import ProviderConformance
from smsbridge.testing.faults import AcceptThenDrop
from smsbridge_smpp import SmppProvider
from smsbridge_smpp.emulator import SmscEmulator


class TestSmppConformance(ProviderConformance):
    @pytest.fixture
    def emulator(self, smsbridge_emulator_factory: EmulatorFactory) -> SmscEmulator:
        return smsbridge_emulator_factory(SmscEmulator, latency=0.01)

    @pytest.fixture
    def provider(self, emulator: SmscEmulator) -> Iterator[SmppProvider]:
        options = SmppProvider.emulator_options(emulator)
        with SmppProvider.from_options(**options, timeout=2.0) as provider:
            # The scenarios fault "the next request", meaning the submit: start bound,
            # as a long-lived process is.
            provider.connect()
            yield provider

    def test_rows_go_as_one_request(  # type: ignore[override]
        self, provider: SmppProvider, emulator: SmscEmulator
    ) -> None:
        rows = [self.make_row(number) for number in self.recipients[:3]]
        assert len({provider.request_key(row) for row in rows}) == 1
        emulator.answer_together = 3  # answered only once all three are in the window
        results = provider.send_rows(rows)
        assert [r.reference for r in results] == [row.reference for row in rows]
        assert all(r.status is Status.ACCEPTED and r.message_id for r in results), results
        assert sorted(self.accepted_digits(emulator)) == sorted(r.to[0].lstrip("+") for r in rows)
        assert emulator.binds == 1
        assert emulator.max_outstanding == 3  # all three in the window together

    def test_rows_lost_answer_is_never_a_silent_success(  # type: ignore[override]
        self, provider: SmppProvider, emulator: SmscEmulator
    ) -> None:
        rows = [self.make_row(number) for number in self.recipients[:3]]
        emulator.faults.add(AcceptThenDrop(), next_n=1)
        try:
            results = provider.send_rows(rows)
        except SmsBridgeError as exc:
            error: SmsBridgeError | None = exc
        else:
            error = None
        if error is not None:
            assert error.outcome_unknown
            assert emulator.submissions.duplicates() == {}
            return
        accepted = {s.message_ids[0]: s.recipients[0] for s in emulator.submissions.snapshot()}
        assert results[0].status is Status.UNKNOWN  # taken, then the connection dropped
        for result in results[1:]:
            # Rows behind it were either written to the dropped connection (unknown) or
            # sent on a fresh bind, answered, and accepted there exactly once.
            if result.status is Status.ACCEPTED:
                assert accepted[str(result.message_id)] == result.recipient
            else:
                assert result.status is Status.UNKNOWN, result
        assert emulator.submissions.duplicates() == {}
