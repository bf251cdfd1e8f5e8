"""OpenTelemetry spans and metrics on the event hooks (the ``otel`` extra).

:class:`OtelPlugin` is a default plugin (entry point ``otel``, loaded when the extra is
installed). It records when OpenTelemetry is configured: when the application has set
the SDK's ``TracerProvider`` or ``MeterProvider`` as the global one (what
``opentelemetry-instrument`` and every SDK set-up do), or when the plugin is built with
providers of its own. Until then it tells the relay it is not listening, so nothing is
built for it. ``SMSBRIDGE_DISABLE_PLUGINS=otel`` turns it off altogether.

Every request to a provider becomes a ``smsbridge.attempt`` span (kind ``CLIENT``, a
child of whatever span is current in the sending thread, timed from when the request
left to its answer), and the instruments of ``docs/observability.md`` count attempts,
recipients, parts, cost, retries, failovers, reconciliation steps, breaker changes and
reports, with the latency per provider as a histogram and each breaker's state as a
gauge.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode

from smsbridge.observe.events import Attempt, BreakerChange, Failover, Reconciliation, Retry
from smsbridge.plugins import hookimpl
from smsbridge.results import DeliveryReport

__all__ = ["BREAKER_STATES", "RECHECK", "OtelPlugin"]

BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
"""The value the ``smsbridge.breaker.state`` gauge records for each breaker state."""

_SCOPE = "smsbridge"

RECHECK = 1.0
"""Seconds between looks at OpenTelemetry's global providers while none is set."""


try:
    from opentelemetry.sdk.metrics import MeterProvider as _SdkMeterProvider
    from opentelemetry.sdk.trace import TracerProvider as _SdkTracerProvider
except ImportError:  # pragma: no cover - the API alone: nothing would be recorded anyway
    _SDK: tuple[type, type] | None = None
else:
    _SDK = (_SdkTracerProvider, _SdkMeterProvider)


def _sdk_configured() -> bool:
    """Whether the application set an SDK tracer or meter provider globally."""
    if _SDK is None:
        return False
    return isinstance(trace.get_tracer_provider(), _SDK[0]) or isinstance(
        metrics.get_meter_provider(), _SDK[1]
    )


class _Instruments:
    """The tracer and the instruments, created once per plugin."""

    def __init__(self, tracer: trace.Tracer, meter: metrics.Meter) -> None:
        self.tracer = tracer
        self.attempts = meter.create_counter(
            "smsbridge.attempts", unit="{request}", description="Requests sent to providers"
        )
        self.duration = meter.create_histogram(
            "smsbridge.attempt.duration", unit="s", description="Time from request to answer"
        )
        self.recipients = meter.create_counter(
            "smsbridge.recipients", unit="{recipient}", description="Per-recipient results"
        )
        self.parts = meter.create_counter(
            "smsbridge.parts", unit="{part}", description="SMS parts the providers reported"
        )
        self.cost = meter.create_counter(
            "smsbridge.cost", unit="1", description="What the providers said requests cost"
        )
        self.retries = meter.create_counter(
            "smsbridge.retries", unit="{item}", description="Items put back for a later attempt"
        )
        self.failovers = meter.create_counter(
            "smsbridge.failovers", unit="{item}", description="Items moved to another provider"
        )
        self.reconciliations = meter.create_counter(
            "smsbridge.reconciliations", unit="{step}", description="Steps settling unknowns"
        )
        self.breaker_changes = meter.create_counter(
            "smsbridge.breaker.changes", unit="{change}", description="Breaker state changes"
        )
        self.breaker_state = meter.create_gauge(
            "smsbridge.breaker.state", unit="1", description="0 closed, 1 half-open, 2 open"
        )
        self.reports = meter.create_counter(
            "smsbridge.reports", unit="{report}", description="Delivery reports recorded"
        )


class OtelPlugin:
    """Records spans and metrics for the event hooks.

    Args:
        tracer_provider: Where spans go; the global provider when ``None``.
        meter_provider: Where metrics go; the global provider when ``None``.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._configured = tracer_provider is not None or meter_provider is not None
        self._next_look = 0.0
        self._instruments: _Instruments | None = None
        self._lock = threading.Lock()

    def observes(self, hook: str) -> bool:
        """Whether OpenTelemetry is configured (the answer is the same for every hook).

        Once an SDK provider is seen the answer stays yes: OpenTelemetry's global
        providers are set once per process. Before, the globals are looked at once per
        :data:`RECHECK` seconds, so a set-up made after the first send is seen within
        that time.
        """
        if not self._configured:
            # Asked several times per request: look at the globals once a second.
            now = time.monotonic()
            if now >= self._next_look:
                self._next_look = now + RECHECK
                self._configured = _sdk_configured()
        return self._configured

    def _get(self) -> _Instruments:
        if self._instruments is None:
            with self._lock:
                if self._instruments is None:
                    from smsbridge.version import __version__

                    tracers = self._tracer_provider or trace.get_tracer_provider()
                    meters = self._meter_provider or metrics.get_meter_provider()
                    self._instruments = _Instruments(
                        tracers.get_tracer(_SCOPE, __version__),
                        meters.get_meter(_SCOPE, __version__),
                    )
        return self._instruments

    @hookimpl
    def smsbridge_attempt(self, attempt: Attempt) -> None:
        """A span for the request, and the attempt, latency, recipient, part and cost
        metrics."""
        if not self.observes("smsbridge_attempt"):
            return
        tools = self._get()
        provider = {"smsbridge.provider": attempt.provider}
        outcome = {**provider, "smsbridge.outcome": attempt.outcome}
        attributes: dict[str, Any] = {
            **outcome,
            "smsbridge.recipients": attempt.recipients,
            "smsbridge.parts": attempt.parts,
        }
        if attempt.reference is not None:
            attributes["smsbridge.reference"] = attempt.reference
        for status, count in attempt.statuses.items():
            attributes[f"smsbridge.status.{status}"] = count
        if attempt.cost is not None:
            attributes["smsbridge.cost"] = float(attempt.cost.amount)
            attributes["smsbridge.currency"] = attempt.cost.unit
        error = attempt.error
        if error is not None:
            attributes["smsbridge.error.code"] = error.code or ""
            attributes["smsbridge.error.scope"] = error.scope.value
            attributes["smsbridge.error.kind"] = error.kind.value
        start = int(attempt.started_at * 1e9)
        span = tools.tracer.start_span(
            "smsbridge.attempt", kind=SpanKind.CLIENT, start_time=start, attributes=attributes
        )
        if error is not None:
            span.set_status(StatusCode.ERROR, f"{error.code or ''} {error.text}".strip())
        duration = attempt.duration
        span.end(end_time=None if duration is None else start + int(duration * 1e9))

        tools.attempts.add(1, outcome)
        if duration is not None:
            tools.duration.record(duration, outcome)
        for status, count in attempt.statuses.items():
            tools.recipients.add(count, {**provider, "smsbridge.status": status})
        if attempt.parts:
            tools.parts.add(attempt.parts, provider)
        if attempt.cost is not None:
            priced = {
                **provider,
                "smsbridge.currency": attempt.cost.unit,
                "smsbridge.source": "answer",
            }
            tools.cost.add(float(attempt.cost.amount), priced)

    @hookimpl
    def smsbridge_retry(self, retry: Retry) -> None:
        """Count the retry, by the provider that failed."""
        if self.observes("smsbridge_retry"):
            attributes: dict[str, str | bool] = {
                "smsbridge.provider": retry.provider,
                "smsbridge.excluded": retry.excluded,
            }
            self._get().retries.add(1, attributes)

    @hookimpl
    def smsbridge_failover(self, failover: Failover) -> None:
        """Count the failover, by the provider left and the one taking over."""
        if self.observes("smsbridge_failover"):
            attributes = {
                "smsbridge.from_provider": failover.from_provider,
                "smsbridge.to_provider": failover.to_provider,
            }
            self._get().failovers.add(1, attributes)

    @hookimpl
    def smsbridge_reconcile(self, reconciliation: Reconciliation) -> None:
        """Count the reconciliation step, by provider, step and what follows."""
        if self.observes("smsbridge_reconcile"):
            attributes = {
                "smsbridge.provider": reconciliation.provider,
                "smsbridge.step": reconciliation.step,
                "smsbridge.action": reconciliation.action,
            }
            self._get().reconciliations.add(1, attributes)

    @hookimpl
    def smsbridge_breaker(self, change: BreakerChange) -> None:
        """Set the breaker's gauge and count the change."""
        if self.observes("smsbridge_breaker"):
            tools = self._get()
            provider = {"smsbridge.provider": change.provider}
            tools.breaker_state.set(BREAKER_STATES.get(change.new, -1), provider)
            tools.breaker_changes.add(1, {**provider, "smsbridge.state": change.new})

    @hookimpl
    def smsbridge_delivery_report(self, report: DeliveryReport) -> None:
        """Count the report, by provider and status, and the cost it carries."""
        if self.observes("smsbridge_delivery_report"):
            tools = self._get()
            provider = {"smsbridge.provider": report.provider}
            tools.reports.add(1, {**provider, "smsbridge.status": report.status.value})
            if report.cost is not None:
                priced = {
                    **provider,
                    "smsbridge.currency": report.cost.unit,
                    "smsbridge.source": "report",
                }
                tools.cost.add(float(report.cost.amount), priced)
