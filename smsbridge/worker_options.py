"""The options of a worker process, for ``smsbridge worker`` and ``manage.py
smsbridge_worker`` alike: one definition, so the two commands cannot drift apart.

Both parsers are :mod:`argparse` parsers (Django's ``CommandParser`` is one).
"""

from __future__ import annotations

import argparse

__all__ = ["add_worker_options"]


def add_worker_options(parser: argparse.ArgumentParser) -> None:
    """Add the worker's options: store, concurrency, leases, limits, stopping, health.

    Args:
        parser: The command's parser.
    """
    parser.add_argument("--store", default=None, help="outbox path or URL (default: the config's)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    parser.add_argument("--lease", type=float, default=60.0, help="lease on claimed items (s)")
    parser.add_argument("--claim-size", type=int, default=1000, help="items claimed per round")
    parser.add_argument("--poll", type=float, default=1.0, help="longest idle sleep (s)")
    parser.add_argument(
        "--rate", action="append", default=[], metavar="NAME=N[/BURST]",
        help="cluster-wide requests per second for a provider (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--connections", action="append", default=[], metavar="NAME=N",
        help="requests in flight at once to a provider, in this worker (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--local-limits", action="store_true",
        help="keep connection caps and rates per process instead of cluster-wide",
    )  # fmt: skip
    parser.add_argument("--until-idle", action="store_true", help="exit when nothing is due")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many s")
    parser.add_argument(
        "--health-file", default=None, metavar="PATH",
        help="write the worker's health as JSON to PATH after every round (atomically)",
    )  # fmt: skip
