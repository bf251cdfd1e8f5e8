"""``smsbridge breakers`` and ``smsbridge breakers reset NAME``: the circuit breakers
kept in the outbox.

Breakers live in the outbox so every process on it shares them: a primary that ran out
of credit keeps its breaker open for the commands after the one that opened it, and
messages go to the other providers until a probe (after the reset timeout) succeeds.
Once the cause is fixed (credit topped up), ``reset`` closes the breaker at once.
"""

from __future__ import annotations

import argparse
import difflib
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK, UsageError
from smsbridge.cli.failover import breaker_dict, breaker_text
from smsbridge.cli.options import add_config_option
from smsbridge.cli.output import render_table, write_json
from smsbridge.cli.stores import add_store_option, open_existing_store
from smsbridge.outbox.base import BreakerState

__all__ = ["register"]


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    store = open_existing_store(args)
    try:
        states = store.breakers()
    finally:
        store.close()
    rows = [{"provider": name, **(breaker_dict(state) or {})} for name, state in states.items()]
    if args.json:
        write_json(out, rows)
        return EXIT_OK
    if not rows:
        out.write("no breaker state stored: every provider's breaker is closed\n")
        return EXIT_OK
    table = (
        [name, breaker_text(breaker_dict(state)), state.failures] for name, state in states.items()
    )
    out.write(render_table(("provider", "breaker", "failures"), table))
    return EXIT_OK


def _cmd_reset(args: argparse.Namespace, out: TextIO) -> int:
    store = open_existing_store(args)
    try:
        states = store.breakers()
        names = sorted(states) if args.all else list(dict.fromkeys(args.names))
        if not names and not args.all:
            raise UsageError("name the providers whose breakers to reset, or give --all")
        for name in names:
            if name not in states:
                close = difflib.get_close_matches(name, list(states), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UsageError(f"no breaker state stored for {name!r}{hint}")
        for name in names:
            before = breaker_text(breaker_dict(states[name]))
            store.put_breaker(name, BreakerState())
            out.write(f"{name}: breaker closed (was {before})\n")
    finally:
        store.close()
    return EXIT_OK


def _options(parser: argparse.ArgumentParser, default: object) -> None:
    add_store_option(parser, default=default)
    add_config_option(parser, default=default)


def register(sub: Any) -> None:
    """Add the ``breakers`` command with its ``reset`` action."""
    cmd = sub.add_parser(
        "breakers", help="show the providers' circuit breakers in the outbox; reset one"
    )
    _options(cmd, None)
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_cmd_list)
    actions = cmd.add_subparsers(dest="action", metavar="ACTION")
    reset = actions.add_parser("reset", help="close providers' breakers now")
    reset.add_argument("names", nargs="*", metavar="NAME", help="provider names")
    reset.add_argument("--all", action="store_true", help="every stored breaker")
    # Suppressed defaults: options given before the action (``breakers --store X reset
    # NAME``) must not be overwritten by the action's own defaults.
    _options(reset, argparse.SUPPRESS)
    reset.set_defaults(func=_cmd_reset)
