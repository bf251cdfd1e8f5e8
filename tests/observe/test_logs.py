"""The logging plugin against real emulators: every event, its fields, no secret, and
nothing built while the loggers are off."""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections import Counter
from pathlib import Path

import pytest

from smsbridge import Message, ProviderError, SendResult
from smsbridge.cli import main
from smsbridge.errors import Kind, Scope
from smsbridge.numbers import NumberNormaliser
from smsbridge.observe.events import EVENTS
from smsbridge.observe.logs import LoggingPlugin
from smsbridge.reports.polling import Poller
from smsbridge.tasks.importer import ImportCounter, read_rows, valid_rows
from smsbridge.testing.faults import AcceptThenDrop, HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from tests.cli.helpers import clickatell_config

from .conftest import SENDMSG, BridgeFactory, Pair, send_each


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == name]


def field(record: logging.LogRecord, name: str) -> object:
    return record.__dict__[name]


def test_an_outage_logs_attempts_retries_failovers_and_the_breaker(
    caplog: pytest.LogCaptureFixture, pair: Pair, bridge_with: BridgeFactory
) -> None:
    caplog.set_level(logging.DEBUG, logger="smsbridge")
    pair.primary_emulator.faults.add(HttpStatus(503), match=on_path(SENDMSG))
    results = send_each(bridge_with(LoggingPlugin()), 6)
    assert [r.provider for r in results] == ["bulksms"] * 6

    attempts = events(caplog, "smsbridge.attempt")
    by_outcome = Counter((field(r, "provider"), field(r, "outcome")) for r in attempts)
    # The breaker opens after five failures: the sixth message goes to the backup at once.
    assert by_outcome == {("clickatell", "failed"): 5, ("bulksms", "answered"): 6}
    failed = [r for r in attempts if field(r, "outcome") == "failed"]
    assert {r.levelno for r in failed} == {logging.INFO}
    assert {field(r, "error_code") for r in failed} == {"HTTP 503"}
    answered = [r for r in attempts if field(r, "outcome") == "answered"]
    assert {r.levelno for r in answered} == {logging.DEBUG}
    assert [field(r, "reference") for r in answered] == [f"r-{i}" for i in range(6)]
    assert all(field(r, "statuses") == {"accepted": 1} for r in answered)
    assert all(field(r, "parts") == 1 and field(r, "recipients") == 1 for r in answered)
    assert all(isinstance(field(r, "duration_ms"), float) for r in attempts)

    retries = events(caplog, "smsbridge.retry")
    assert [field(r, "reference") for r in retries] == [f"r-{i}" for i in range(5)]
    assert {(field(r, "provider"), field(r, "attempts")) for r in retries} == {("clickatell", 1)}
    assert {field(r, "error_scope") for r in retries} == {Scope.PROVIDER.value}
    assert {field(r, "error_kind") for r in retries} == {Kind.TRANSIENT.value}

    failovers = events(caplog, "smsbridge.failover")
    assert [field(r, "reference") for r in failovers] == [f"r-{i}" for i in range(5)]
    assert {(field(r, "from_provider"), field(r, "to_provider")) for r in failovers} == {
        ("clickatell", "bulksms")
    }

    breakers = events(caplog, "smsbridge.breaker")
    assert len(breakers) == 1
    (opened,) = breakers
    assert opened.levelno == logging.INFO
    assert (field(opened, "provider"), field(opened, "old_state"), field(opened, "new_state")) == (
        "clickatell",
        "closed",
        "open",
    )
    assert field(opened, "failures") == 5
    assert opened.getMessage().startswith("smsbridge.breaker provider=clickatell ")
    for record in [*attempts, *retries, *failovers, *breakers]:
        assert field(record, "event") == record.name


def test_an_unknown_outcome_is_logged_through_its_reconciliation(
    caplog: pytest.LogCaptureFixture, pair: Pair, bridge_with: BridgeFactory
) -> None:
    caplog.set_level(logging.DEBUG, logger="smsbridge")
    pair.primary_emulator.faults.add(AcceptThenDrop(), next_n=1, match=on_path(SENDMSG))
    (result,) = send_each(bridge_with(LoggingPlugin()), 1)
    assert result.provider == "clickatell"

    (attempt,) = events(caplog, "smsbridge.attempt")
    assert field(attempt, "outcome") == "unknown"
    (lookup,) = events(caplog, "smsbridge.reconcile")
    assert field(lookup, "step") == "lookup"
    assert field(lookup, "found") == "found"
    assert field(lookup, "action") == "finish"
    assert field(lookup, "status") == result.status.value
    assert field(lookup, "reference") == "r-0"
    assert events(caplog, "smsbridge.failover") == []  # never moved on a guess


def test_a_breaker_closing_again_is_logged(
    caplog: pytest.LogCaptureFixture, pair: Pair, bridge_with: BridgeFactory
) -> None:
    caplog.set_level(logging.INFO, logger="smsbridge")
    rule = pair.primary_emulator.faults.add(HttpStatus(503), next_n=5, match=on_path(SENDMSG))
    bridge = bridge_with(LoggingPlugin())
    bridge.dispatcher.breakers.reset_timeout = 0  # the next request is the probe
    send_each(bridge, 6)
    assert rule.fired == 5
    changes = [
        (field(r, "old_state"), field(r, "new_state")) for r in events(caplog, "smsbridge.breaker")
    ]
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_logging_off_builds_nothing(
    caplog: pytest.LogCaptureFixture, pair: Pair, bridge_with: BridgeFactory
) -> None:
    caplog.set_level(logging.ERROR, logger="smsbridge")
    pair.primary_emulator.faults.add(HttpStatus(503), match=on_path(SENDMSG))
    plugin = LoggingPlugin()
    bridge = bridge_with(plugin)
    hooks = bridge.router.hooks
    assert not hooks.wants_messages
    assert not any(plugin.observes(hook) for hook in ("smsbridge_attempt", "smsbridge_breaker"))
    send_each(bridge, 6)
    assert [r for r in caplog.records if r.name in EVENTS] == []
    logging.getLogger("smsbridge.attempt").setLevel(logging.INFO)
    try:
        assert hooks.wants_messages
        assert plugin.observes("smsbridge_attempt")
    finally:
        logging.getLogger("smsbridge.attempt").setLevel(logging.NOTSET)


class _Careless(ClickatellProvider):
    """A provider that does not use the HTTP client's redaction: its error quotes the
    password, as a careless third-party plugin might."""

    def send(self, message: Message) -> list[SendResult]:
        password = self.options.password.reveal()
        raise ProviderError(
            f"gateway said: bad request user=x&password={password}",
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
            provider=self.name,
        )


def test_secrets_never_reach_a_log_record(
    caplog: pytest.LogCaptureFixture, pair: Pair, tmp_path: Path, bridge_with: BridgeFactory
) -> None:
    caplog.set_level(logging.DEBUG, logger="smsbridge")
    password = pair.primary_emulator.password
    careless = _Careless.from_options(**ClickatellProvider.emulator_options(pair.primary_emulator))
    pair.primary = careless
    try:
        send_each(bridge_with(LoggingPlugin()), 2)
    finally:
        careless.close()
    logged = [r for r in caplog.records if r.name in EVENTS]
    assert {r.name for r in logged} >= {"smsbridge.attempt", "smsbridge.retry"}
    texts = [r.getMessage() for r in logged] + [
        str(value) for r in logged for value in r.__dict__.values()
    ]
    assert not [text for text in texts if password in text]
    assert any("password=***" in str(field(r, "error_text")) for r in logged)


def test_delivery_reports_are_logged(
    caplog: pytest.LogCaptureFixture, pair: Pair, bridge_with: BridgeFactory
) -> None:
    plugin = LoggingPlugin()
    bridge = bridge_with(plugin)
    (result,) = send_each(bridge, 1)
    caplog.set_level(logging.DEBUG, logger="smsbridge")
    poller = Poller(
        [pair.primary],
        bridge.store,
        older_than=60,
        clock=lambda: time.time() + 3600,
        plugin_manager=bridge.plugin_manager,
    )
    assert poller.poll_once().queried == 1
    (report,) = events(caplog, "smsbridge.report")
    assert report.levelno == logging.DEBUG
    assert field(report, "provider") == "clickatell"
    assert field(report, "message_id") == result.message_id
    history = bridge.status("r-0")
    assert history is not None and history.reports
    assert field(report, "status") == history.reports[-1].status.value


def test_rejected_input_rows_are_logged(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.INFO, logger="smsbridge")
    path = tmp_path / "people.csv"
    path.write_bytes(b"to,name\n+447700900601,Ann\n12,Bad\n+447700900602,B\xffb\n")
    counter = ImportCounter(source=str(path))
    good = list(valid_rows(read_rows(path), NumberNormaliser("GB"), counter))
    assert [row.line for row in good] == [2]
    rejected = events(caplog, "smsbridge.input.rejected")
    assert [(field(r, "source"), field(r, "line")) for r in rejected] == [
        (str(path), 3),
        (str(path), 4),
    ]
    assert all(field(r, "reason") for r in rejected)
    assert counter.invalid == 2


def test_a_batch_logs_the_rows_it_prints_as_rejected(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "smsbridge.toml"
    for name, value in clickatell_config(config, pair.primary_emulator).items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "rows.csv"
    data.write_bytes(b"to,name\n+447700900601,Ann\n12,Bad\n+447700900602,B\xffb\n")
    caplog.set_level(logging.INFO, logger="smsbridge")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        args = ["batch", str(data), "--template", "Hi {name}", "--config", str(config), "-q"]
        assert main(args, out=io.StringIO()) == 1
    rejected = events(caplog, "smsbridge.input.rejected")
    assert [(field(r, "source"), field(r, "line")) for r in rejected] == [
        (str(data), 3),
        (str(data), 4),
    ]
    printed = [line for line in err.getvalue().splitlines() if line.startswith(f"{data}:")]
    assert printed == [f"{data}:{field(r, 'line')}: {field(r, 'reason')}" for r in rejected]
