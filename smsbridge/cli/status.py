"""``smsbridge status REFERENCE``: a message's record in the outbox.

``REFERENCE`` is whatever the user gave: one recipient's reference (``first-1-0``) shows
that item with every attempt; a message's or batch's reference (``send --reference
first-1`` to two numbers stores ``first-1-0`` and ``first-1-1``; ``batch --reference
camp``) shows each of its items with its number. The exit status says how they stand
(:mod:`smsbridge.cli.outcome`): 0 all taken, 1 some failed, 5 some not settled yet; 2
when nothing has that reference or the outbox does not exist.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, TextIO

from smsbridge.cli import UsageError
from smsbridge.cli.options import add_config_option
from smsbridge.cli.outcome import exit_code
from smsbridge.cli.output import render_table, write_json
from smsbridge.cli.stores import add_store_option, open_existing_store
from smsbridge.outbox import History, ItemState, OutboxItem


def _item_dict(item: OutboxItem) -> dict[str, Any]:
    return {
        "reference": item.reference,
        "recipient": item.recipient,
        "batch": item.batch,
        "state": item.state.value,
        "status": None if item.status is None else item.status.value,
        "provider": item.provider,
        "message_id": item.message_id,
        "attempt_count": item.attempts,
        "last_error": None if item.last_error is None else item.last_error.text,
    }


def _history_dict(history: History) -> dict[str, Any]:
    data = _item_dict(history.item)
    data["attempts"] = [
        {
            "provider": a.provider,
            "started_at": a.started_at,
            "outcome": None if a.outcome is None else a.outcome.value,
            "error": None if a.error is None else a.error.code,
            "outcome_unknown": a.outcome_unknown,
        }
        for a in history.attempts
    ]
    data["reports"] = [r.status.value for r in history.reports]
    return data


def _code(items: Sequence[OutboxItem]) -> int:
    unsettled = sum(1 for i in items if i.state is not ItemState.DONE)
    refused = sum(
        1
        for i in items
        if i.state is ItemState.DONE and (i.status is None or not i.status.is_success)
    )
    return exit_code(refused=refused, unsettled=unsettled)


def _why(item: OutboxItem) -> str | None:
    """The last error of an item not settled well (one a provider took after another
    failed it still carries that failure, which is history, not news)."""
    settled_well = (
        item.state is ItemState.DONE and item.status is not None and (item.status.is_success)
    )
    return None if settled_well or item.last_error is None else item.last_error.text


def _print_one(data: dict[str, Any], out: TextIO) -> None:
    out.write(f"{data['reference']} -> {data['recipient']}: {data['state']} ({data['status']})\n")
    for attempt in data["attempts"]:
        out.write(
            f"  attempt on {attempt['provider']}: {attempt['outcome']} {attempt['error'] or ''}\n"
        )


def _cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    store = open_existing_store(args)
    try:
        history = store.history(args.reference)
        items = [] if history is not None else list(store.iter_items(batch=args.reference))
    finally:
        store.close()
    if history is not None:
        data = _history_dict(history)
        if args.json:
            write_json(out, data)
        else:
            _print_one(data, out)
        return _code([history.item])
    if not items:
        raise UsageError(f"no outbox item or message has reference {args.reference!r}")
    if args.json:
        write_json(out, {"reference": args.reference, "items": [_item_dict(i) for i in items]})
        return _code(items)
    out.write(f"{args.reference}: {len(items):,} recipient(s)\n")
    headers = ("reference", "recipient", "state", "status", "provider", "message id", "error")
    rows = (
        [i.reference, i.recipient, i.state.value, i.status and i.status.value, i.provider,
         i.message_id, _why(i)]
        for i in items
    )  # fmt: skip
    out.write(render_table(headers, rows))
    return _code(items)


def register(sub: Any) -> None:
    """Add the ``status`` command."""
    cmd = sub.add_parser(
        "status", help="show a message's record in the outbox (by the reference you gave)"
    )
    cmd.add_argument(
        "reference", help="an item's, message's or batch's reference (as given to send/batch)"
    )
    add_store_option(cmd)
    add_config_option(cmd)
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_cmd_status)
