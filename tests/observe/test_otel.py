"""The OpenTelemetry plugin, recorded with the SDK's in-memory span exporter and metric
reader, against real emulators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from smsbridge import Cost, Message, SendResult, SmsBridge, make_plugin_manager
from smsbridge.observe.otel import BREAKER_STATES, OtelPlugin
from smsbridge.observe.otel_entry import plugin as entry_plugin
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.faults import HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

from .conftest import SENDMSG, BridgeFactory, Pair, send_each


@attrs.define
class Recorded:
    plugin: OtelPlugin
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def finished(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.spans.get_finished_spans())

    def points(self, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
        """The data points of metric ``name``: sorted attributes → value (sums and gauges)
        or the point itself (histograms)."""
        data = self.metrics.get_metrics_data()
        found: dict[tuple[tuple[str, Any], ...], Any] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name != name:
                        continue
                    for point in metric.data.data_points:
                        key = tuple(sorted((point.attributes or {}).items()))
                        found[key] = getattr(point, "value", point)
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    plugin = OtelPlugin(tracer_provider=tracer_provider, meter_provider=meter_provider)
    yield Recorded(plugin, spans, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def attrs_of(span: ReadableSpan) -> Mapping[str, Any]:
    assert span.attributes is not None
    return span.attributes


def test_an_outage_is_traced_and_measured(
    recorded: Recorded, pair: Pair, bridge_with: BridgeFactory
) -> None:
    pair.primary_emulator.faults.add(HttpStatus(503), match=on_path(SENDMSG))
    send_each(bridge_with(recorded.plugin), 6)

    spans = recorded.finished()
    assert {span.name for span in spans} == {"smsbridge.attempt"}
    assert {span.kind for span in spans} == {SpanKind.CLIENT}
    failed = [s for s in spans if attrs_of(s)["smsbridge.provider"] == "clickatell"]
    answered = [s for s in spans if attrs_of(s)["smsbridge.provider"] == "bulksms"]
    assert (len(failed), len(answered)) == (5, 6)
    assert {s.status.status_code for s in failed} == {StatusCode.ERROR}
    assert {attrs_of(s)["smsbridge.error.code"] for s in failed} == {"HTTP 503"}
    assert {s.status.status_code for s in answered} == {StatusCode.UNSET}
    assert [attrs_of(s)["smsbridge.reference"] for s in answered] == [f"r-{i}" for i in range(6)]
    assert all(attrs_of(s)["smsbridge.status.accepted"] == 1 for s in answered)
    for span in spans:
        assert span.start_time is not None and span.end_time is not None
        assert span.end_time >= span.start_time

    attempts = recorded.points("smsbridge.attempts")
    assert attempts == {
        (("smsbridge.outcome", "failed"), ("smsbridge.provider", "clickatell")): 5,
        (("smsbridge.outcome", "answered"), ("smsbridge.provider", "bulksms")): 6,
    }
    durations = recorded.points("smsbridge.attempt.duration")
    assert {key: point.count for key, point in durations.items()} == attempts
    assert recorded.points("smsbridge.parts") == {(("smsbridge.provider", "bulksms"),): 6}
    assert recorded.points("smsbridge.recipients") == {
        (("smsbridge.provider", "bulksms"), ("smsbridge.status", "accepted")): 6
    }
    assert recorded.points("smsbridge.retries") == {
        (("smsbridge.excluded", False), ("smsbridge.provider", "clickatell")): 5
    }
    assert recorded.points("smsbridge.failovers") == {
        (("smsbridge.from_provider", "clickatell"), ("smsbridge.to_provider", "bulksms")): 5
    }
    assert recorded.points("smsbridge.breaker.state") == {
        (("smsbridge.provider", "clickatell"),): BREAKER_STATES["open"]
    }
    assert recorded.points("smsbridge.breaker.changes") == {
        (("smsbridge.provider", "clickatell"), ("smsbridge.state", "open")): 1
    }


def test_a_span_is_a_child_of_the_callers_span(
    recorded: Recorded, bridge_with: BridgeFactory
) -> None:
    tracer = recorded.plugin._get().tracer
    with tracer.start_as_current_span("signup") as parent:
        send_each(bridge_with(recorded.plugin), 1)
    spans = {span.name: span for span in recorded.finished()}
    child = spans["smsbridge.attempt"]
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id
    assert child.context is not None
    assert child.context.trace_id == parent.get_span_context().trace_id


class _Priced(ClickatellProvider):
    """Clickatell's answers carry no price; this one prices each part at 0.05 EUR, as a
    provider that reports cost on sending would."""

    def send(self, message: Message) -> list[SendResult]:
        return [
            attrs.evolve(r, cost=Cost(Decimal("0.05") * (r.parts or 1), "EUR"))
            for r in super().send(message)
        ]


def test_cost_and_parts_are_counted(
    recorded: Recorded, smsbridge_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(1000))
    manager = make_plugin_manager(load_entry_points=False)
    manager.register(recorded.plugin, name="otel")
    with (
        _Priced.from_options(**ClickatellProvider.emulator_options(emulator)) as provider,
        SmsBridge([provider], store=tmp_path / "o.sqlite3", plugin_manager=manager) as bridge,
    ):
        bridge.send(Message("+447700900001", "x" * 200, reference="long"))  # two parts
        bridge.send(Message("+447700900002", "short", reference="short"))
    assert recorded.points("smsbridge.parts") == {(("smsbridge.provider", "clickatell"),): 3}
    key = (
        ("smsbridge.currency", "EUR"),
        ("smsbridge.provider", "clickatell"),
        ("smsbridge.source", "answer"),
    )
    assert recorded.points("smsbridge.cost") == {key: pytest.approx(0.15)}
    spans = recorded.finished()
    assert sorted(attrs_of(s)["smsbridge.cost"] for s in spans) == pytest.approx([0.05, 0.1])
    assert {attrs_of(s)["smsbridge.currency"] for s in spans} == {"EUR"}


def test_unconfigured_it_listens_to_nothing(bridge_with: BridgeFactory) -> None:
    # No SDK provider is set globally in the test process, and none is given.
    plugin = OtelPlugin()
    assert not plugin.observes("smsbridge_attempt")
    bridge = bridge_with(plugin)
    assert not bridge.router.hooks.wants_messages
    send_each(bridge, 1)
    assert plugin._instruments is None  # nothing was even created


def test_the_entry_point_registers_the_plugin_when_the_extra_is_installed() -> None:
    assert isinstance(entry_plugin, OtelPlugin)
