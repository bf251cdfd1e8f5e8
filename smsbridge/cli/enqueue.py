"""``smsbridge enqueue``: write messages to the outbox for workers; nothing is sent.

Recipients come from ``--to`` (repeatable) and/or ``--file`` (one number per line;
blank lines and ``#`` comments skipped). They form one batch: references are
``REFERENCE-1``, ``REFERENCE-2``... so running the same command again with the same
``--reference`` writes nothing twice.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from smsbridge.bridge import new_reference
from smsbridge.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from smsbridge.cli.config_cmd import add_config_option
from smsbridge.config import find_config, load_config
from smsbridge.model import Batch
from smsbridge.outbox.factory import open_store
from smsbridge.worker import enqueue

__all__ = ["register"]


def _numbers(args: argparse.Namespace) -> Iterator[str]:
    yield from args.to
    if args.file is not None:
        with Path(args.file).open(encoding="utf-8-sig") as handle:
            for line in handle:
                text = line.strip()
                if text and not text.startswith("#"):
                    yield text


def _cmd_enqueue(args: argparse.Namespace, out: TextIO) -> int:
    if not args.to and args.file is None:
        out.write("smsbridge enqueue: give --to NUMBER or --file FILE\n")
        return EXIT_USAGE
    region, strict, location = args.region, False, args.store
    if args.config is not None or location is None or find_config(None) is not None:
        config = load_config(args.config)
        region = region or config.region
        strict = config.strict_numbers
        location = location or config.store
    reference = args.reference or new_reference()
    batch = Batch(lambda: _numbers(args), body=args.body, sender=args.sender, reference=reference)
    store = open_store(location)
    try:
        result = enqueue(store, batch, region=region, strict_numbers=strict)
    finally:
        store.close()
    for refused in result.refused:
        error = refused.error.text if refused.error is not None else refused.status.value
        out.write(f"refused {refused.recipient}: {error}\n")
    out.write(
        f"batch {reference}: {result.added} enqueued, {result.existing} already there, "
        f"{result.duplicates} duplicates, {len(result.refused)} refused\n"
    )
    return EXIT_FAILED if result.refused else EXIT_OK


def register(sub: Any) -> None:
    """Add the ``enqueue`` command."""
    cmd = sub.add_parser("enqueue", help="write messages to the outbox for workers to send")
    add_config_option(cmd)
    cmd.add_argument("--store", default=None, help="outbox path or URL (default: the config's)")
    cmd.add_argument("--to", action="append", default=[], help="recipient (repeatable)")
    cmd.add_argument("--file", default=None, help="file with one number per line")
    cmd.add_argument("--body", required=True, help="the text")
    cmd.add_argument("--sender", default=None, help="sender id")
    cmd.add_argument("--reference", default=None, help="batch reference (default: random)")
    cmd.add_argument("--region", default=None, help="region for national numbers (GB)")
    cmd.set_defaults(func=_cmd_enqueue)
