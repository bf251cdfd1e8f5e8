"""``smsbridge resume``: finish what an earlier run left in the outbox.

Besides working the outbox, it looks for batches whose writing stopped part-way (a full
disk during ``smsbridge batch`` or ``enqueue``): resuming sends what was written, but
only running the writing command again adds the rest, so such a batch is reported and
the exit code is non-zero even when everything written was sent.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from smsbridge.bridge import SmsBridge
from smsbridge.cli import EXIT_FAILED, EXIT_OK
from smsbridge.config import load_config
from smsbridge.outbox import ItemState, OutboxStore
from smsbridge.outbox.batch_sizes import forget_size, recorded_batches


def _bridge(args: argparse.Namespace) -> SmsBridge:
    """The bridge to resume with: from the configuration file, or providers by name."""
    if args.provider:
        return SmsBridge(args.provider, store=args.store, owner=args.owner)
    config = load_config(args.config)
    overrides: dict[str, Any] = {"owner": args.owner}
    if args.store is not None:
        overrides["store"] = args.store
    return config.build_bridge(**overrides)


def _partial_batches(store: OutboxStore) -> int:
    """Warn (stderr) about each batch with fewer items than its recorded size; returns
    how many. A record whose batch is complete was left by a writer that stopped after
    its last item: it is dropped."""
    partial = 0
    for batch in recorded_batches(store):
        if batch.complete:
            forget_size(store, batch.batch)
            continue
        partial += 1
        print(
            f"smsbridge resume: batch {batch.batch}: {batch.written:,} of {batch.expected:,} "
            "recipients were written; run the batch command again (with --reference "
            f"{batch.batch}) to add the rest",
            file=sys.stderr,
        )
    return partial


def _cmd_resume(args: argparse.Namespace, out: TextIO) -> int:
    with _bridge(args) as bridge:
        summary = bridge.resume(timeout=args.timeout, patience=args.patience)
        counts = bridge.store.counts()
        now = bridge.dispatcher.clock()
        partial = _partial_batches(bridge.store)
    for state in ItemState:
        out.write(f"{state.value}: {counts.get(state, 0)}\n")
    for line in summary.lines(now=now):
        out.write(line + "\n")
    # Anything left unsettled (or never written) is the operator's business: say so in
    # the exit status.
    return EXIT_OK if summary.complete and not partial else EXIT_FAILED


def register(sub: Any) -> None:
    """Add the ``resume`` command."""
    cmd = sub.add_parser("resume", help="finish whatever was in flight in the outbox")
    cmd.add_argument(
        "--provider",
        action="append",
        default=None,
        help="provider name, built with default options (repeatable); "
        "without it the providers come from the configuration file",
    )
    cmd.add_argument("--config", default=None, help="smsbridge.toml (default: searched)")
    cmd.add_argument("--store", default=None, help="outbox file (default: per-user path)")
    cmd.add_argument("--owner", default=None, help="lease name of the worker to resume")
    cmd.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="most seconds to keep working (default: until nothing is due)",
    )
    cmd.add_argument(
        "--patience",
        type=float,
        default=60.0,
        help="longest wait for an item due later; later ones are reported (default 60)",
    )
    cmd.set_defaults(func=_cmd_resume)
