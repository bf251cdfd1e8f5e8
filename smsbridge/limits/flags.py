"""Limits written as command-line flags: ``--rate NAME=PER_SECOND[/BURST]`` and
``--connections NAME=N``, as ``smsbridge worker`` and its Django twin take them."""

from __future__ import annotations

import math

from smsbridge.errors import ConfigurationError

from .local import Limit

__all__ = ["parse_limits"]


def parse_limits(rates: list[str], caps: list[str]) -> dict[str, Limit]:
    """``--rate NAME=PER_SECOND[/BURST]`` and ``--connections NAME=N`` as limits.

    Raises:
        ConfigurationError: For a malformed value.
    """
    found: dict[str, dict[str, float]] = {}
    for flag, values in (("rate", rates), ("connections", caps)):
        for text in values:
            name, sep, value = text.partition("=")
            try:
                if not sep or not name:
                    raise ValueError
                entry = found.setdefault(name, {})
                if flag == "rate":
                    rate, _, burst = value.partition("/")
                    entry["rate"] = float(rate)
                    entry["burst"] = float(burst or 1)
                    if not (0 < entry["rate"] < math.inf and 1 <= entry["burst"] < math.inf):
                        raise ConfigurationError(
                            f"--rate {text!r}: the rate must be > 0 per second and the burst >= 1"
                        )
                else:
                    entry["concurrency"] = int(value)
                    if entry["concurrency"] < 1:
                        raise ConfigurationError(f"--connections {text!r}: must be at least 1")
            except ValueError:
                raise ConfigurationError(f"--{flag} {text!r}: write NAME=NUMBER") from None
    return {
        name: Limit(
            rate=entry.get("rate"),
            burst=entry.get("burst", 1.0),
            concurrency=None if "concurrency" not in entry else int(entry["concurrency"]),
        )
        for name, entry in found.items()
    }
