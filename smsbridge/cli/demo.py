"""``smsbridge demo``: send a realistic campaign through emulated providers and summarise it.

Needs no account and no configuration: the bundled emulators run in this process on
127.0.0.1. A progress bar shows on a terminal (stderr); the summary goes to stdout, or
one JSON document with ``--json``. The outbox is a fresh file next to the default one,
so ``smsbridge status REFERENCE --store PATH`` can look at any message afterwards.

Exit codes: 0 when every recipient is accounted for, 1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from smsbridge.cli import EXIT_FAILED, EXIT_OK
from smsbridge.cli.output import write_json
from smsbridge.cli.progress import Progress
from smsbridge.demo import PROVIDERS, render_text, run_demo, summarise
from smsbridge.outbox import SqliteStore
from smsbridge.results import SendResult

__all__ = ["register"]

DEFAULT_RECIPIENTS = 3000


def _positive(text: str) -> int:
    value = int(text)
    if value < 7:
        raise argparse.ArgumentTypeError("the demo needs at least 7 recipients (one a language)")
    return value


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    progress = Progress(
        args.recipients, label="sending", enabled=False if args.quiet or args.json else None
    )

    def advance(result: SendResult) -> None:
        progress.advance(result.provider or "refused")

    with progress:
        run = run_demo(args.recipients, seed=args.seed, on_result=advance)
    with SqliteStore(run.outbox) as store:
        summary = summarise(run, store, PROVIDERS)
    if args.json:
        write_json(out, summary.as_dict())
    elif args.quiet:
        out.write(f"{summary.outbox}\n")
    else:
        out.write(render_text(summary))
    return EXIT_OK if summary.accounted == summary.recipients else EXIT_FAILED


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    demo = sub.add_parser(
        "demo",
        help="send a realistic campaign through emulated providers with failover (no account)",
    )
    demo.add_argument(
        "--recipients",
        type=_positive,
        default=DEFAULT_RECIPIENTS,
        metavar="N",
        help=f"size of the campaign (default {DEFAULT_RECIPIENTS})",
    )
    demo.add_argument(
        "--seed", type=int, default=2024, help="seed of the campaign and emulators (default 2024)"
    )
    demo.add_argument("--json", action="store_true", help="the summary as one JSON document")
    demo.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar; print only the outbox path"
    )
    demo.set_defaults(func=_cmd_demo)
