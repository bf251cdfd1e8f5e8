"""Options every command that reads ``smsbridge.toml`` shares: ``--config PATH``, and
the bridge it describes."""

from __future__ import annotations

import argparse
from typing import Any

from smsbridge.bridge import SmsBridge
from smsbridge.config import CONFIG_ENV, DEFAULT_NAME, load_config

__all__ = ["add_config_option", "bridge_from_args"]


def add_config_option(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    """Add ``--config PATH`` (default: ``$SMSBRIDGE_CONFIG``, then ``./smsbridge.toml``)."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help=f"configuration file (default: ${CONFIG_ENV}, then ./{DEFAULT_NAME})",
    )


def bridge_from_args(args: argparse.Namespace, **overrides: Any) -> SmsBridge:
    """The bridge the configuration named by ``args.config`` describes.

    Args:
        args: The parsed command line.
        **overrides: Keyword arguments of :class:`~smsbridge.SmsBridge` that win over
            the configuration (``plugin_manager``...).

    Raises:
        ConfigurationError: For a missing file or any problem in it (all are listed).
    """
    return load_config(args.config).build_bridge(**overrides)
