"""What observability costs on the durable per-message send path.

One Clickatell emulator, one SQLite outbox file per configuration, per-message
``SmsBridge.send`` at concurrency 1 (the path where per-request overhead shows most).
Three plugin managers are measured in the same run, in interleaved rounds:

1. ``baseline``: no observer plugin at all;
2. ``logging off``: the default plugins (``LoggingPlugin``, and ``OtelPlugin`` with no
   OpenTelemetry SDK configured) with Python's default logging (WARNING): what every
   user gets without configuring anything;
3. ``logging on``: the same with every event logger at DEBUG, into a handler that
   formats each record and drops it;
4. ``otel on``: ``OtelPlugin`` with an SDK tracer provider (spans to a no-op
   processor) and meter provider.

Rounds rotate the order of the configurations; each prints its median rate and the
median over rounds of its rate divided by that round's baseline rate. The issue's
bound is that ``logging off`` stays within a few percent of the baseline. ``--quick``
sends fewer messages.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from smsbridge import Message, SendResult, SmsBridge, Status, make_plugin_manager
from smsbridge.observe.events import EVENTS
from smsbridge.observe.logs import LoggingPlugin
from smsbridge.observe.otel import OtelPlugin
from smsbridge.plugins import PluginManager
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


class _Drop(logging.Handler):
    """Formats every record (the cost a real handler pays) and keeps nothing."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def _manager(*plugins: object) -> PluginManager:
    manager = make_plugin_manager(load_entry_points=False)
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=f"observer-{index}")
    return manager


def _rate(bridge: SmsBridge, count: int, start: int) -> float:
    began = time.perf_counter()
    for index in range(start, start + count):
        bridge.send(Message(f"+44770{index:07d}", "Your code is 4829", reference=f"m-{index}"))
    return count / (time.perf_counter() - began)


def _hook_cost(bridge: SmsBridge, provider: ClickatellProvider, calls: int) -> float:
    """Seconds per request of what the observers add to a successful one-recipient
    request: whether a message is wanted, and the results handed over."""
    hooks = bridge.router.hooks
    results = [SendResult("+447700900001", Status.ACCEPTED, provider="clickatell", parts=1)]
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(calls):
            if hooks.wants_messages:
                raise AssertionError("nobody should want the message here")
            hooks.after_send(provider, results)
        best = min(best, (time.perf_counter() - began) / calls)
    return best


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    per_round, rounds = (50, 8) if quick else (60, 60)
    logger = logging.getLogger("smsbridge")
    handler = _Drop()
    tracing = TracerProvider()
    metering = MeterProvider(metric_readers=[InMemoryMetricReader()])
    setups: dict[str, PluginManager] = {
        "baseline": _manager(),
        "logging off": _manager(LoggingPlugin(), OtelPlugin()),
        "logging on": _manager(LoggingPlugin(), OtelPlugin()),
        "otel on": _manager(OtelPlugin(tracer_provider=tracing, meter_provider=metering)),
    }
    logger.addHandler(handler)
    rates: dict[str, list[float]] = {name: [] for name in setups}
    with (
        tempfile.TemporaryDirectory() as folder,
        ClickatellEmulator(balance=Decimal(10**9)) as emulator,
    ):
        options = ClickatellProvider.emulator_options(emulator)
        with ClickatellProvider.from_options(**options) as provider:
            bridges = {
                name: SmsBridge(
                    [provider], store=Path(folder) / f"{index}.sqlite3", plugin_manager=manager
                )
                for index, (name, manager) in enumerate(setups.items())
            }
            try:
                for bridge in bridges.values():
                    _rate(bridge, 50, 10**6)  # warm up: connections, schema, caches
                names = list(bridges)
                for turn in range(rounds):
                    # Each round in another order: no configuration always goes first.
                    order = names[turn % len(names) :] + names[: turn % len(names)]
                    for name in order:
                        bridge = bridges[name]
                        # Only "logging on" sees the event loggers enabled.
                        level = logging.DEBUG if name == "logging on" else logging.NOTSET
                        for event in EVENTS:
                            logging.getLogger(event).setLevel(level)
                        rates[name].append(_rate(bridge, per_round, turn * per_round))
                for event in EVENTS:
                    logging.getLogger(event).setLevel(logging.NOTSET)
                calls = 2_000 if quick else 20_000
                hook_base = _hook_cost(bridges["baseline"], provider, calls)
                hook_off = _hook_cost(bridges["logging off"], provider, calls)
            finally:
                for bridge in bridges.values():
                    bridge.close()
    logger.removeHandler(handler)
    tracing.shutdown()
    metering.shutdown()
    base = rates["baseline"]
    print(f"durable per-message sends, {rounds} rounds of {per_round}:")
    print("  (median rate; median of each round's ratio against that round's baseline)")
    for name, values in rates.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(f"  {name:12} {statistics.median(values):8.0f} msg/s   ratio vs baseline {ratio:.3f}")
    # The end-to-end ratios move by several percent from run to run on a shared machine;
    # the observers' own work per request, timed alone, does not.
    per_message = 1 / statistics.median(base)
    extra = hook_off - hook_base
    print(
        f"observer work per request with logging off: {hook_off * 1e6:.2f} us "
        f"(no observer: {hook_base * 1e6:.2f} us), adding {extra * 1e6:.2f} us to a "
        f"{per_message * 1e6:.0f} us durable send: ratio {per_message / (per_message + extra):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
