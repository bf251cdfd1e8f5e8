"""Moved: the ``config`` command is :mod:`smsbridge.cli.config`, the ``--config`` option
helpers are :mod:`smsbridge.cli.options`; these names stay importable from here."""

from __future__ import annotations

from smsbridge.cli.config import register
from smsbridge.cli.options import add_config_option, bridge_from_args

__all__ = ["add_config_option", "bridge_from_args", "register"]
