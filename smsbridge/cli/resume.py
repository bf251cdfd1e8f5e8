"""``smsbridge resume``: finish what an earlier run left in the outbox.

Besides working the outbox, it looks for batches whose writing stopped part-way (a full
disk during ``smsbridge batch`` or ``enqueue``): resuming sends what was written, but
only running the writing command again adds the rest, so such a batch is reported and
counts as unsettled even when everything written was sent.

Exit status (:mod:`smsbridge.cli.outcome`): 5 when anything is unsettled or a batch is
partly written, else 1 when this run settled some recipients as failed (refused,
invalid, failed for good), else 0. Failures settled by earlier runs do not count.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import attrs

from smsbridge.bridge import SmsBridge
from smsbridge.cli.failover import provider_lines, provider_rows, watched_plugin_manager
from smsbridge.cli.outcome import exit_code
from smsbridge.cli.output import write_json
from smsbridge.config import load_config
from smsbridge.dispatch.summary import Summary, summarize
from smsbridge.outbox import ItemState, OutboxStore
from smsbridge.outbox.batch_sizes import forget_size, recorded_batches
from smsbridge.plugins import LoadedPlugins
from smsbridge.status import Status


def _bridge(args: argparse.Namespace, manager: LoadedPlugins) -> SmsBridge:
    """The bridge to resume with: from the configuration file, or providers by name."""
    if args.provider:
        return SmsBridge(args.provider, store=args.store, owner=args.owner, plugin_manager=manager)
    config = load_config(args.config)
    overrides: dict[str, Any] = {"owner": args.owner, "plugin_manager": manager}
    if args.store is not None:
        overrides["store"] = args.store
    return config.build_bridge(**overrides)


def _partial_batches(store: OutboxStore) -> list[dict[str, Any]]:
    """Warn (stderr) about each batch with fewer items than its recorded size; returns
    them. A record whose batch is complete was left by a writer that stopped after its
    last item: it is dropped."""
    partial = []
    for batch in recorded_batches(store):
        if batch.complete:
            forget_size(store, batch.batch)
            continue
        partial.append({"batch": batch.batch, "written": batch.written, "expected": batch.expected})
        print(
            f"smsbridge resume: batch {batch.batch}: {batch.written:,} of {batch.expected:,} "
            "recipients were written; run the batch command again (with --reference "
            f"{batch.batch}) to add the rest",
            file=sys.stderr,
        )
    return partial


def _failures(before: Summary, after: Summary) -> int:
    """Recipients this run settled as failed: the growth of each failed status."""
    return sum(
        max(count - before.settled.get(status, 0), 0)
        for status, count in after.settled.items()
        if not status.is_success and status is not Status.UNKNOWN
    )


def _summary_dict(summary: Summary) -> dict[str, Any]:
    data = attrs.asdict(summary, recurse=False)
    data["settled"] = {status.value: count for status, count in summary.settled.items()}
    data["unsettled"] = summary.unsettled
    return data


def _cmd_resume(args: argparse.Namespace, out: TextIO) -> int:
    manager, watch = watched_plugin_manager()
    with _bridge(args, manager) as bridge:
        recheck = bridge.dispatcher.unknown_recheck
        before = summarize(bridge.store, now=bridge.dispatcher.clock(), recheck=recheck)
        summary = bridge.resume(timeout=args.timeout, patience=args.patience)
        counts = bridge.store.counts()
        now = bridge.dispatcher.clock()
        partial = _partial_batches(bridge.store)
        providers = provider_rows(watch, bridge.store, (p.name for p in bridge.providers))
    refused = _failures(before, summary)
    # Anything left unsettled (or never written) is the operator's business: say so in
    # the exit status.
    unsettled = summary.unsettled + len(partial)
    code = exit_code(refused=refused, unsettled=unsettled)
    if args.json:
        write_json(
            out,
            {
                "states": {state.value: counts.get(state, 0) for state in ItemState},
                "summary": _summary_dict(summary),
                "refused": refused,
                "unsettled": unsettled,
                "partial_batches": partial,
                "providers": providers,
                "exit": code,
            },
        )
        return code
    for state in ItemState:
        out.write(f"{state.value}: {counts.get(state, 0)}\n")
    out.write("\n" + "\n".join(provider_lines(providers)) + "\n\n")
    for line in summary.lines(now=now):
        out.write(line + "\n")
    return code


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
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_cmd_resume)
