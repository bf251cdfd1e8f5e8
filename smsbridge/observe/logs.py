"""Standard :mod:`logging` for every event: one logger per event name, fields in ``extra``.

:class:`LoggingPlugin` is a default plugin (entry point ``logging``): it implements the
observer hooks and the delivery-report hook, and logs each on the logger named after the
event (``smsbridge.attempt``, ``smsbridge.breaker``...). Each record's ``extra`` holds
``event`` and the event's fields under stable names, for JSON formatters; its message
is the same as ``key=value`` text, for people. ``docs/observability.md`` lists them.

Levels: answered attempts and delivery reports at DEBUG, everything else at INFO, so
that nothing reaches Python's last-resort handler (stderr) in an application that has
not configured logging: a library's events are the application's to show. While an
event's logger is disabled at the event's highest level,
:meth:`LoggingPlugin.observes` says so and the event is not even built: logging that
is off costs a cached level check per request.

Texts arrive redacted (:class:`~smsbridge.observe.relay.EventRelay`, the HTTP client and
the report receiver each pass them through a :class:`~smsbridge.credentials.Redactor`);
query-string credentials are hidden once more here, for texts from anywhere else.
Numbers and bodies are never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from smsbridge.errors import ErrorInfo
from smsbridge.http.redaction import redact_query
from smsbridge.observe.events import (
    ATTEMPT,
    BREAKER,
    FAILOVER,
    INPUT_REJECTED,
    RECONCILE,
    REPORT,
    RETRY,
    Attempt,
    BreakerChange,
    Failover,
    Reconciliation,
    Retry,
)
from smsbridge.plugins import hookimpl
from smsbridge.results import DeliveryReport

__all__ = ["LoggingPlugin", "emit", "log_rejected_input", "plugin"]

_HOOK_EVENTS = {
    "smsbridge_attempt": (ATTEMPT, logging.INFO),
    "smsbridge_retry": (RETRY, logging.INFO),
    "smsbridge_failover": (FAILOVER, logging.INFO),
    "smsbridge_breaker": (BREAKER, logging.INFO),
    "smsbridge_reconcile": (RECONCILE, logging.INFO),
    "smsbridge_delivery_report": (REPORT, logging.DEBUG),
}
"""Per hook: its event's logger and the highest level it logs at."""


def _show(value: object) -> str:
    if isinstance(value, str):
        return value if value and " " not in value and '"' not in value else json.dumps(value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{v}" for k, v in value.items()) or "-"
    return str(value)


def emit(logger: logging.Logger, level: int, event: str, fields: Mapping[str, Any]) -> None:
    """Log one event: ``event`` and its fields in ``extra``, ``key=value`` as the text.

    Fields that are ``None`` are left out of the text but kept in ``extra`` (a JSON
    formatter sees every field of the event, always). Call it only after checking
    ``logger.isEnabledFor(level)``.

    Args:
        logger: The event's logger.
        level: The record's level.
        event: The event name.
        fields: The event's fields: strings, numbers, booleans, mappings of them.
    """
    text = " ".join(
        [event, *(f"{key}={_show(value)}" for key, value in fields.items() if value is not None)]
    )
    logger.log(level, "%s", text, extra={"event": event, **fields})


def _error(error: ErrorInfo | None) -> dict[str, Any]:
    if error is None:
        return {"error_code": None, "error_text": None, "error_scope": None, "error_kind": None}
    return {
        "error_code": error.code,
        "error_text": redact_query(error.text),
        "error_scope": error.scope.value,
        "error_kind": error.kind.value,
    }


class LoggingPlugin:
    """Logs every event hook on its event's logger (see the module's docstring)."""

    def __init__(self) -> None:
        self._loggers = {event: logging.getLogger(event) for event, _ in _HOOK_EVENTS.values()}

    def observes(self, hook: str) -> bool:
        """Whether ``hook``'s logger would log anything now (see ``EventSpecs``)."""
        found = _HOOK_EVENTS.get(hook)
        if found is None:
            return False
        event, level = found
        return self._loggers[event].isEnabledFor(level)

    def _log(self, event: str, level: int, fields: Mapping[str, Any]) -> None:
        logger = self._loggers[event]
        if logger.isEnabledFor(level):
            emit(logger, level, event, fields)

    @hookimpl
    def smsbridge_attempt(self, attempt: Attempt) -> None:
        """An attempt: DEBUG when answered, INFO when it failed or its outcome is unknown."""
        cost = attempt.cost
        fields = {
            "provider": attempt.provider,
            "reference": attempt.reference,
            "recipients": attempt.recipients,
            "outcome": attempt.outcome,
            "duration_ms": (
                None if attempt.duration is None else round(attempt.duration * 1000, 1)
            ),
            "statuses": dict(attempt.statuses),
            "parts": attempt.parts,
            "cost": None if cost is None else str(cost.amount),
            "currency": None if cost is None else cost.unit,
            **_error(attempt.error),
        }
        level = logging.DEBUG if attempt.outcome == "answered" else logging.INFO
        self._log(ATTEMPT, level, fields)

    @hookimpl
    def smsbridge_retry(self, retry: Retry) -> None:
        """An item put back for a later attempt."""
        fields = {
            "provider": retry.provider,
            "reference": retry.reference,
            "attempts": retry.attempts,
            "delay_s": round(retry.delay, 3),
            "excluded": retry.excluded,
            **_error(retry.error),
        }
        self._log(RETRY, logging.INFO, fields)

    @hookimpl
    def smsbridge_failover(self, failover: Failover) -> None:
        """An item moving to another provider."""
        fields = {
            "reference": failover.reference,
            "from_provider": failover.from_provider,
            "to_provider": failover.to_provider,
            "attempts": failover.attempts,
            **_error(failover.error),
        }
        self._log(FAILOVER, logging.INFO, fields)

    @hookimpl
    def smsbridge_breaker(self, change: BreakerChange) -> None:
        """A breaker change (INFO)."""
        fields = {
            "provider": change.provider,
            "old_state": change.old,
            "new_state": change.new,
            "failures": change.failures,
        }
        self._log(BREAKER, logging.INFO, fields)

    @hookimpl
    def smsbridge_reconcile(self, reconciliation: Reconciliation) -> None:
        """A reconciliation step."""
        step = reconciliation
        fields = {
            "provider": step.provider,
            "reference": step.reference,
            "step": step.step,
            "action": step.action,
            "found": step.found,
            "status": step.status,
            "delay_s": None if step.delay is None else round(step.delay, 3),
            **_error(step.error),
        }
        self._log(RECONCILE, logging.INFO, fields)

    @hookimpl
    def smsbridge_delivery_report(self, report: DeliveryReport) -> None:
        """A delivery report (DEBUG)."""
        if not self._loggers[REPORT].isEnabledFor(logging.DEBUG):
            return
        fields = {
            "provider": report.provider,
            "message_id": report.message_id,
            "reference": report.reference,
            "status": report.status.value,
            "provider_code": report.provider_code,
            "part": report.part,
            **_error(report.error),
        }
        self._log(REPORT, logging.DEBUG, fields)


def log_rejected_input(source: str, line: int, reason: str) -> None:
    """Log a rejected input row (INFO on ``smsbridge.input.rejected``).

    Args:
        source: The file (or other source) it came from.
        line: Its line number (1 is a CSV's header).
        reason: What is wrong with it, as the command reports it.
    """
    logger = logging.getLogger(INPUT_REJECTED)
    if logger.isEnabledFor(logging.INFO):
        fields = {"source": source, "line": line, "reason": redact_query(reason)}
        emit(logger, logging.INFO, INPUT_REJECTED, fields)


plugin = LoggingPlugin()
"""The instance the ``logging`` entry point registers."""
