"""``smsbridge enqueue``: write messages to the outbox for workers; nothing is sent.

Recipients come from ``--to`` (repeatable) and/or ``--file`` (one number per line;
blank lines and ``#`` comments skipped). They form one batch: references are
``REFERENCE-1``, ``REFERENCE-2``... so running the same command again with the same
``--reference`` writes nothing twice.

The recipients are counted first (one quick pass over the file) and the count recorded
in the outbox (:mod:`smsbridge.outbox.batch_sizes`) until every one is written: when the
outbox fails part-way, the command says "N of M written" and ``smsbridge resume`` later
reports the batch as partly written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from smsbridge.bridge import new_reference
from smsbridge.cli import EXIT_STORAGE, EXIT_USAGE
from smsbridge.cli.config_cmd import add_config_option
from smsbridge.cli.outcome import exit_code
from smsbridge.cli.output import storage_failure, stored_count
from smsbridge.config import find_config, load_config
from smsbridge.model import Batch
from smsbridge.outbox.base import OutboxStore, StorageError
from smsbridge.outbox.batch_sizes import forget_size, record_size
from smsbridge.outbox.factory import open_store
from smsbridge.worker import EnqueueResult, enqueue

__all__ = ["register"]


def _numbers(args: argparse.Namespace) -> Iterator[str]:
    yield from args.to
    if args.file is not None:
        with Path(args.file).open(encoding="utf-8-sig") as handle:
            for line in handle:
                text = line.strip()
                if text and not text.startswith("#"):
                    yield text


def _count(args: argparse.Namespace) -> int | None:
    """How many numbers :func:`_numbers` will yield; ``None`` for a file that can be
    read only once (a pipe)."""
    total = len(args.to)
    if args.file is None:
        return total
    path = Path(args.file)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            text = line.strip()
            if text and not text.startswith("#"):
                total += 1
    return total


def _write(
    store: OutboxStore, batch: Batch, total: int | None, *, region: str | None, strict: bool
) -> EnqueueResult:
    """Enqueue ``batch`` with its size recorded while it is being written."""
    assert batch.reference is not None
    if total is not None:
        record_size(store, batch.reference, total)
    result = enqueue(store, batch, region=region, strict_numbers=strict)
    if total is not None:
        forget_size(store, batch.reference)
    return result


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
    total = _count(args)
    hint = None if args.reference else reference
    try:
        store = open_store(location)
    except StorageError as exc:
        sys.stderr.write(storage_failure(exc, written=None, total=total, reference=hint))
        return EXIT_STORAGE
    try:
        result = _write(store, batch, total, region=region, strict=strict)
    except StorageError as exc:
        written = exc.written if exc.written is not None else stored_count(store, reference)
        sys.stderr.write(storage_failure(exc, written=written, total=total, reference=hint))
        return EXIT_STORAGE
    finally:
        store.close()
    for refused in result.refused:
        error = refused.error.text if refused.error is not None else refused.status.value
        out.write(f"refused {refused.recipient}: {error}\n")
    out.write(
        f"batch {reference}: {result.added} enqueued, {result.existing} already there, "
        f"{result.duplicates} duplicates, {len(result.refused)} refused\n"
    )
    # Written is this command's "accepted": sending is the workers' business.
    return exit_code(refused=len(result.refused), unsettled=0)


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
