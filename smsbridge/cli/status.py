"""``smsbridge status REFERENCE``: a message's record in the outbox."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from smsbridge.cli import EXIT_FAILED, EXIT_OK
from smsbridge.outbox import SqliteStore


def _cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    with SqliteStore(args.store) as store:
        history = store.history(args.reference)
    if history is None:
        out.write(f"no outbox item has reference {args.reference!r}\n")
        return EXIT_FAILED
    item = history.item
    data: dict[str, Any] = {
        "reference": item.reference,
        "recipient": item.recipient,
        "state": item.state.value,
        "status": None if item.status is None else item.status.value,
        "provider": item.provider,
        "message_id": item.message_id,
        "attempts": [
            {
                "provider": a.provider,
                "started_at": a.started_at,
                "outcome": None if a.outcome is None else a.outcome.value,
                "error": None if a.error is None else a.error.code,
                "outcome_unknown": a.outcome_unknown,
            }
            for a in history.attempts
        ],
        "reports": [r.status.value for r in history.reports],
    }
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
        return EXIT_OK
    out.write(f"{item.reference} -> {item.recipient}: {data['state']} ({data['status']})\n")
    for attempt in data["attempts"]:
        out.write(
            f"  attempt on {attempt['provider']}: {attempt['outcome']} {attempt['error'] or ''}\n"
        )
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``status`` command."""
    cmd = sub.add_parser("status", help="show a message's record in the outbox")
    cmd.add_argument("reference", help="the client reference")
    cmd.add_argument("--store", default=None, help="outbox file (default: per-user path)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_cmd_status)
