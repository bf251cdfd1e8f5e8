"""``smsbridge enqueue``: write messages to the outbox for workers; nothing is sent.

Recipients come from ``--to`` (repeatable) and/or ``--file`` (one number per line;
blank lines and ``#`` comments skipped; read by :func:`smsbridge.inputs.read_numbers`,
``--encoding`` default ``utf-8-sig``). They form one batch: references are
``REFERENCE-1``, ``REFERENCE-2``... (one per ``--to`` and per number line, unreadable
lines included, so fixing a line later moves no other reference) and running the same
command again with the same ``--reference`` writes nothing twice.

Every entry is accounted for once: enqueued, already there, duplicate, refused (invalid
number, reported as ``refused NUMBER (FILE:LINE): reason``) or unreadable (a line that
cannot be decoded, reported on stderr as ``FILE:LINE: reason``).

The recipients are counted first (one quick pass over the file) and the count recorded
in the outbox (:mod:`smsbridge.outbox.batch_sizes`) until every one is written: when the
outbox fails part-way, the command says "N of M written" and ``smsbridge resume`` later
reports the batch as partly written.
"""

from __future__ import annotations

import argparse
import sys
from array import array
from collections.abc import Iterator
from typing import Any, TextIO

from smsbridge.bridge import new_reference
from smsbridge.cli import EXIT_STORAGE, EXIT_USAGE
from smsbridge.cli.options import add_config_option
from smsbridge.cli.outcome import exit_code
from smsbridge.cli.output import storage_failure, stored_count
from smsbridge.config import find_config, load_config
from smsbridge.inputs import (
    DEFAULT_ENCODING,
    BadRow,
    InputFileError,
    count_numbers,
    read_numbers,
)
from smsbridge.model import Batch, Recipient
from smsbridge.observe.logs import log_rejected_input
from smsbridge.outbox.base import OutboxStore, StorageError
from smsbridge.outbox.batch_sizes import forget_size, record_size
from smsbridge.outbox.factory import open_store
from smsbridge.worker import EnqueueResult, enqueue

__all__ = ["register"]


class _Source:
    """The batch's recipients, with each file entry's line remembered for reports."""

    def __init__(self, args: argparse.Namespace, reference: str) -> None:
        self.args, self.reference = args, reference
        self.lines = array("l")  # by entry index - 1: the file line, 0 for --to
        self.unreadable = 0

    def __call__(self) -> Iterator[Recipient]:
        self.lines = array("l")
        self.unreadable = 0
        for number in self.args.to:
            yield self._entry(number, 0)
        if self.args.file is None:
            return
        for row in read_numbers(self.args.file, encoding=self.args.encoding):
            if isinstance(row, BadRow):
                self.lines.append(row.line)  # its index stays taken
                self.unreadable += 1
                print(f"{self.args.file}:{row.line}: {row.reason}", file=sys.stderr)
                log_rejected_input(str(self.args.file), row.line, row.reason)
                continue
            yield self._entry(row.values[0], row.line)

    def _entry(self, number: str, line: int) -> Recipient:
        self.lines.append(line)
        return Recipient(number, reference=f"{self.reference}-{len(self.lines)}")

    def origin(self, reference: str | None) -> tuple[str, int]:
        """``(FILE, LINE)`` for an entry of the file, else ``("--to", 0)``."""
        where = self.where(reference)
        if not where:
            return "--to", 0
        line = self.lines[int((reference or "").rpartition("-")[2]) - 1]
        return str(self.args.file), line

    def where(self, reference: str | None) -> str:
        """`` (FILE:LINE)`` for an entry of the file, else nothing."""
        index = (reference or "").rpartition("-")[2]
        if not index.isdigit() or not 0 < int(index) <= len(self.lines):
            return ""
        line = self.lines[int(index) - 1]
        return f" ({self.args.file}:{line})" if line else ""


def _count(args: argparse.Namespace) -> int | None:
    """How many entries :class:`_Source` will yield or report; ``None`` for a file
    that can be read only once (a pipe)."""
    if args.file is None:
        return len(args.to)
    counted = count_numbers(args.file, encoding=args.encoding)
    return None if counted is None else len(args.to) + counted


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
    source = _Source(args, reference)
    batch = Batch(source, body=args.body, sender=args.sender, reference=reference)
    try:
        total = _count(args)
    except InputFileError as exc:
        print(f"smsbridge enqueue: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
        out.write(f"refused {refused.recipient}{source.where(refused.reference)}: {error}\n")
        log_rejected_input(*source.origin(refused.reference), error)
    unreadable = f", {source.unreadable} unreadable" if source.unreadable else ""
    out.write(
        f"batch {reference}: {result.added} enqueued, {result.existing} already there, "
        f"{result.duplicates} duplicates, {len(result.refused)} refused{unreadable}\n"
    )
    # Written is this command's "accepted": sending is the workers' business.
    return exit_code(refused=len(result.refused) + source.unreadable, unsettled=0)


def register(sub: Any) -> None:
    """Add the ``enqueue`` command."""
    cmd = sub.add_parser("enqueue", help="write messages to the outbox for workers to send")
    add_config_option(cmd)
    cmd.add_argument("--store", default=None, help="outbox path or URL (default: the config's)")
    cmd.add_argument("--to", action="append", default=[], help="recipient (repeatable)")
    cmd.add_argument("--file", default=None, help="file with one number per line")
    cmd.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="the file's encoding (default utf-8-sig; a UTF-16/32 byte-order mark wins)",
    )
    cmd.add_argument("--body", required=True, help="the text")
    cmd.add_argument("--sender", default=None, help="sender id")
    cmd.add_argument("--reference", default=None, help="batch reference (default: random)")
    cmd.add_argument("--region", default=None, help="region for national numbers (GB)")
    cmd.set_defaults(func=_cmd_enqueue)
