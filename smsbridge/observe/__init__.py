"""Observability: structured logging and OpenTelemetry on the event hooks.

:mod:`~smsbridge.observe.relay` turns what the senders report into the values of
:mod:`~smsbridge.observe.events` and calls the hooks of :mod:`~smsbridge.observe.specs`;
:mod:`~smsbridge.observe.logs` (a default plugin) logs them and
:mod:`~smsbridge.observe.otel` (the ``otel`` extra) records spans and metrics.
``docs/observability.md`` lists every event, field and metric.

Nothing is imported here: the router imports :mod:`~smsbridge.observe.sink` while the
package is still loading.
"""
