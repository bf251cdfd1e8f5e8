"""The ``otel`` entry point: the OpenTelemetry plugin when the ``otel`` extra is installed.

Without OpenTelemetry the entry point still loads (no warning for a missing optional
extra) and registers an object with no hooks.
"""

from __future__ import annotations

__all__ = ["plugin"]


class NotInstalled:
    """Stands in for the plugin without the ``otel`` extra: it implements no hook."""

    def __repr__(self) -> str:
        return "NotInstalled(pip install 'smsbridge[otel]')"


def _plugin() -> object:
    try:
        from smsbridge.observe.otel import OtelPlugin
    except ImportError:
        return NotInstalled()
    return OtelPlugin()


plugin = _plugin()
"""What the ``otel`` entry point registers."""
