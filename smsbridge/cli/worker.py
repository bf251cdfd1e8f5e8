"""``smsbridge worker``: claim and send from the configured outbox until stopped.

Run one per CPU core or host against a shared PostgreSQL outbox (or a few on one host
against SQLite); ``docs/deployment.md`` says how to size them. SIGTERM or Ctrl-C stops
it gracefully: the request in flight finishes, every other claim is given back. A
database that goes away (restart, failover) is waited for, one line on stderr per try;
``--health-file`` keeps a JSON file a liveness probe and an alert can read. Progress
(counts by state and status, rates) goes to stderr every ``--progress-interval``
seconds, with the events of ``docs/observability.md`` at ``--log-level`` and above.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK, EXIT_USAGE
from smsbridge.cli.options import add_config_option
from smsbridge.config import load_config
from smsbridge.limits import parse_limits
from smsbridge.observe.events import BREAKER
from smsbridge.outbox import ItemState, OutboxError
from smsbridge.worker import Worker
from smsbridge.worker_health import HealthFile
from smsbridge.worker_options import add_worker_options

__all__ = ["parse_limits", "register"]


LOG_LEVELS = ("debug", "info", "warning", "error")


@contextlib.contextmanager
def _log_to_stderr(events: str = "warning") -> Iterator[None]:
    """The worker's own log lines (a database gone and back, progress) and the events
    at ``events`` and above on stderr, one line each, for the command's lifetime only
    (tests call the command in-process)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("smsbridge worker: %(message)s"))
    root = logging.getLogger("smsbridge")
    root_level = root.level
    root.addHandler(handler)
    root.setLevel(getattr(logging, events.upper()))
    # Its own lines (progress, the database) and breaker changes are always shown.
    shown = [logging.getLogger(name) for name in ("smsbridge.worker", BREAKER)]
    levels = [logger.level for logger in shown]
    for logger in shown:
        logger.setLevel(min(logging.INFO, root.level))
    # psycopg warns about every rollback on a lost connection; the worker's line says it.
    psycopg_logger = logging.getLogger("psycopg")
    psycopg_level = psycopg_logger.level
    psycopg_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        for logger, level in zip(shown, levels, strict=True):
            logger.setLevel(level)
        psycopg_logger.setLevel(psycopg_level)


def _cmd_worker(args: argparse.Namespace, out: TextIO) -> int:
    if args.concurrency < 1 or args.lease <= 0 or args.claim_size < 1:
        out.write("smsbridge worker: --concurrency, --lease and --claim-size must be positive\n")
        return EXIT_USAGE
    if not 0 <= args.progress_interval < math.inf:
        out.write(
            "smsbridge worker: --progress-interval must be 0 (off) or a number of seconds, "
            f"not {args.progress_interval!r}\n"
        )
        return EXIT_USAGE
    config = load_config(args.config)
    with (
        _log_to_stderr(args.log_level),
        Worker.from_config(
            config,
            store=args.store,
            concurrency=args.concurrency,
            limits=parse_limits(args.rate, args.connections),
            lease_seconds=args.lease,
            claim_size=args.claim_size,
            poll_interval=args.poll,
            share_limits=not args.local_limits,
            on_health=None if args.health_file is None else HealthFile(args.health_file),
            progress_interval=args.progress_interval or None,
        ) as worker,
    ):
        worker.install_signal_handlers()
        out.write(f"worker {worker.owner} started\n")
        out.flush()
        claimed = worker.run(until_idle=args.until_idle, timeout=args.timeout)
        try:
            counts = worker.store.counts()
        except OutboxError:
            counts = None  # stopped while the database was away: nothing to count
    out.write(f"worker stopped: {claimed} claimed; released {worker.released}\n")
    if counts is None:
        out.write("counts unavailable: the outbox database did not answer\n")
        return EXIT_OK
    for state in ItemState:
        out.write(f"{state.value}: {counts.get(state, 0)}\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``worker`` command."""
    cmd = sub.add_parser("worker", help="send from the outbox until stopped (SIGTERM)")
    add_config_option(cmd)
    add_worker_options(cmd)
    cmd.add_argument(
        "--progress-interval", type=float, default=60.0, metavar="SECONDS",
        help="log progress (counts by state and status, rates) every SECONDS; 0: off",
    )  # fmt: skip
    cmd.add_argument(
        "--log-level", choices=LOG_LEVELS, default="warning",
        help="show smsbridge's events at this level and above (breaker changes always; "
        "info: retries, failovers)",
    )  # fmt: skip
    cmd.set_defaults(func=_cmd_worker)
