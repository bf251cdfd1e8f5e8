"""``smsbridge send --to N --body TEXT``: one message to one or more recipients."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from smsbridge.cli import EXIT_USAGE
from smsbridge.cli.failover import notable, provider_lines, provider_rows, watched_plugin_manager
from smsbridge.cli.options import add_config_option, bridge_from_args
from smsbridge.cli.outcome import Tally
from smsbridge.cli.output import (
    RESULT_HEADERS,
    result_dict,
    result_row,
    write_json_line,
    write_table,
)
from smsbridge.errors import InvalidMessageError
from smsbridge.model import Message
from smsbridge.results import SendResult

__all__ = ["register"]


def _cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    try:
        message = Message(tuple(args.to), args.body, args.sender, args.reference)
    except InvalidMessageError as exc:
        print(f"smsbridge send: {exc}", file=sys.stderr)
        return EXIT_USAGE
    manager, watch = watched_plugin_manager()
    with bridge_from_args(args, plugin_manager=manager) as bridge:
        outcome = bridge.send(message)
        providers = provider_rows(watch, bridge.store, (p.name for p in bridge.providers))
    results: list[SendResult] = [outcome] if isinstance(outcome, SendResult) else list(outcome)
    tally = Tally()
    for result in results:
        tally.add(result)
    if args.json:
        for result in results:
            write_json_line(out, result_dict(result))
        write_json_line(out, {"summary": {**tally.as_dict(), "providers": providers}})
    elif not args.quiet:
        write_table(out, RESULT_HEADERS, (result_row(r) for r in results))
        if notable(providers):
            out.write("\n" + "\n".join(provider_lines(providers)) + "\n")
    return tally.code


def register(sub: Any) -> None:
    """Add the ``send`` command."""
    send = sub.add_parser("send", help="send one message to one or more recipients")
    send.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="NUMBER",
        help="a recipient (repeat for several)",
    )
    send.add_argument("--body", required=True, metavar="TEXT", help="the message text")
    send.add_argument("--sender", default=None, help="sender id (default: the account's)")
    send.add_argument(
        "--reference", default=None, help="client reference (idempotency key); generated"
    )
    add_config_option(send)
    send.add_argument(
        "--json", action="store_true", help="one JSON object per recipient (JSON Lines)"
    )
    send.add_argument("--quiet", "-q", action="store_true", help="print nothing; use the exit code")
    send.set_defaults(func=_cmd_send)
