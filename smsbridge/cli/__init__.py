"""The ``smsbridge`` command.

Each command lives in its own module of this package with a ``register(subparsers)``
function; :data:`COMMANDS` lists them in the order ``--help`` shows them.

Exit codes (each means one thing; :mod:`smsbridge.cli.outcome` computes 0, 1 and 5 for
every command the same way):

=====  =================================================================================
``0``  everything was accepted (or better)
``1``  some were refused or failed for good (invalid number, bad line, rejected)
``2``  bad usage or unreadable input (unknown option, bad option value, unreadable
       file, no such outbox or reference)
``3``  configuration error
``4``  the outbox failed (full, read-only, locked, I/O error): what was written is
       kept, and the same command can be run again once it is fixed
``5``  some are not settled yet (queued, waiting for a retry, breakers open, outcome
       unknown, batch partly written): ``smsbridge resume`` finishes them; wins over 1
``130``  interrupted (Ctrl-C)
``141``  the reader of the output went away (``| head``); the rest is not printed
=====  =================================================================================
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn, TextIO

from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.outbox.base import StorageError

__all__ = [
    "COMMANDS",
    "EXIT_BROKEN_PIPE",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STORAGE",
    "EXIT_UNSETTLED",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_FAILED = EXIT_REFUSED
"""The former name of :data:`EXIT_REFUSED`."""
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_STORAGE = 4
EXIT_UNSETTLED = 5
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe."""


class UsageError(Exception):
    """Bad usage or input found after parsing (a store or reference that does not
    exist): the command line prints it and exits 2."""


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
    "config",
    "emulate",
    "serve-reports",
    "breakers",
)
"""Modules of :mod:`smsbridge.cli` that each register one command."""


_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose "invalid choice" errors suggest the nearest choice."""

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found is not None:
            choices = re.findall(r"'([^']*)'", found.group("choices"))
            close = difflib.get_close_matches(found.group("given"), choices, n=1)
            if close:
                message = f"{message}; did you mean {close[0]!r}?"
        super().error(message)


def _version() -> str:
    try:
        return version("smsbridge")
    except PackageNotFoundError:  # running from a source tree that was never installed
        from smsbridge.version import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="smsbridge", description="Send SMS through many providers behind one API."
    )
    parser.add_argument("--version", action="version", version=f"smsbridge {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"smsbridge.cli.{name.replace('-', '_')}")
        module.register(sub)
    return parser


def _quiet_pipe(stream: TextIO) -> None:
    """After the reader of stdout went away: send what is still buffered nowhere, so
    the interpreter's own flush at exit does not print a traceback."""
    if stream is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code.

    Bare ``smsbridge`` prints the help on stdout and exits 0: asking what the tool can
    do is a fair question, and the help is its answer.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    if args.command is None:
        parser.print_help(stream)
        return EXIT_OK
    try:
        code: int = args.func(args, stream)
        stream.flush()
    except BrokenPipeError:
        _quiet_pipe(stream)
        return EXIT_BROKEN_PIPE
    except UsageError as exc:
        print(f"smsbridge {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigurationError as exc:
        print(f"smsbridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as exc:
        # Commands that write batches say how much was kept themselves; this is the rest.
        print(f"smsbridge: {exc}; {exc.advice}", file=sys.stderr)
        return EXIT_STORAGE
    except SmsBridgeError as exc:
        print(f"smsbridge: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("smsbridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code
