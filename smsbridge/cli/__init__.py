"""The ``smsbridge`` command.

Each command lives in its own module of this package with a ``register(subparsers)``
function; :data:`COMMANDS` lists them in the order ``--help`` shows them.

Exit codes: 0 success, 1 the work ran but something failed (a send was refused), 2 bad
usage or input, 3 configuration error, 4 the outbox failed (full, read-only, locked, I/O
error): what was written is kept, and the same command can be run again once it is fixed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.outbox.base import StorageError

__all__ = [
    "COMMANDS",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_STORAGE = 4

COMMANDS = (
    "demo",
    "segments",
    "providers",
    "send",
    "batch",
    "status",
    "resume",
    "enqueue",
    "worker",
    "quote",
    "task",
    "config_cmd",
    "emulate",
    "serve-reports",
)
"""Modules of :mod:`smsbridge.cli` that each register one command."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="smsbridge", description="Send SMS through many providers behind one API."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"smsbridge.cli.{name.replace('-', '_')}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        code: int = args.func(args, stream)
    except ConfigurationError as exc:
        print(f"smsbridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as exc:
        # Commands that write batches say how much was kept themselves; this is the rest.
        print(f"smsbridge: {exc}; {exc.advice}", file=sys.stderr)
        return EXIT_STORAGE
    except SmsBridgeError as exc:
        print(f"smsbridge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("smsbridge: interrupted", file=sys.stderr)
        return 130
    return code
