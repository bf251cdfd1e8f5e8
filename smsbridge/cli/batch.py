"""``smsbridge batch FILE.csv``: one message per CSV line, streamed.

The file needs a header row with a ``to`` column. The text is ``--body`` (the same for
everyone), ``--template`` (``{column}`` placeholders filled from each line), or, with
neither, a ``body`` column. An optional ``reference`` column sets each client reference.

The file is read by :mod:`smsbridge.inputs` (``--encoding``, default ``utf-8-sig``; a
UTF-16/32 byte-order mark wins). A bad line (undecodable bytes, broken or unterminated
quoting, a field over the CSV field limit, wrong number of columns, empty or invalid
number, a template variable with no value, a malformed reference) is reported on stderr
as ``FILE:LINE: problem`` and skipped; the rest of the file is still sent. Every record
gets exactly one result: its send status, ``bad_input``, or ``duplicate`` (the same
number as an earlier line, sent once). The file is read lazily, line by line, so its
size is bounded by the disk, not by memory.

Before sending, the file's records are counted (one pass of the same reader, no number
parsing) and the count recorded in the outbox until every line is written
(:mod:`smsbridge.outbox.batch_sizes`): when the outbox fails part-way, the command says
"N of M written" and exits 4, and ``smsbridge resume`` reports the batch as partly
written. Running the same command again (same ``--reference``) adds and sends the rest.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.cli import EXIT_STORAGE, EXIT_USAGE
from smsbridge.cli.failover import provider_lines, provider_rows, watched_plugin_manager
from smsbridge.cli.options import add_config_option, bridge_from_args
from smsbridge.cli.outcome import Tally
from smsbridge.cli.output import (
    render_table,
    result_dict,
    storage_failure,
    stored_count,
    write_json_line,
)
from smsbridge.cli.progress import Progress
from smsbridge.errors import InvalidMessageError, InvalidNumberError, TemplateError
from smsbridge.inputs import DEFAULT_ENCODING, BadRow, CsvRows, InputFileError, count_rows
from smsbridge.model import Batch, Recipient, Template
from smsbridge.observe.logs import log_rejected_input
from smsbridge.outbox.base import StorageError
from smsbridge.outbox.batch_sizes import forget_size, record_size
from smsbridge.results import SendResult

__all__ = ["BAD_INPUT", "DUPLICATE", "register"]

BAD_INPUT = "bad_input"
"""Status reported (in ``--json`` and the summary) for a line that was not sent."""
DUPLICATE = "duplicate"
"""Status of a line whose number an earlier line of the batch has (it is sent once)."""
_MAX_LISTED = 50


class _Pending:
    """A line handed to the bridge whose result has not come back yet."""

    __slots__ = ("e164", "line", "number", "reference")

    def __init__(self, reference: str, line: int, number: str, e164: str) -> None:
        self.reference, self.line, self.number, self.e164 = reference, line, number, e164


class _Run:
    """State of one batch run: where each reference came from and what was counted."""

    def __init__(self, args: argparse.Namespace, out: TextIO, path: Path) -> None:
        self.args, self.out, self.path = args, out, path
        self.prefix: str = args.reference or new_reference()
        # Results come back in input order, so a line still pending when a later line's
        # result arrives was dropped by the store as a repeated number.
        self.pending: deque[_Pending] = deque()
        self.duplicates: list[_Pending] = []
        self.counts: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()  # references in ``pending``
        self.failures: list[list[object]] = []
        self.unlisted = 0
        self.tally = Tally()
        self.providers: list[dict[str, Any]] = []
        self.progress = Progress(label="sending", enabled=False if args.quiet else None)

    def bad(self, line: int, problem: str, recipient: str | None = None) -> None:
        """Report a line that is not sent, on stderr and (with --json) on stdout."""
        self.progress.clear()
        print(f"{self.path}:{line}: {problem}", file=sys.stderr)
        log_rejected_input(str(self.path), line, problem)
        self.counts[BAD_INPUT] += 1
        self.tally.refused += 1
        self.progress.advance(BAD_INPUT)
        if self.args.json:
            write_json_line(
                self.out,
                {
                    "line": line,
                    "recipient": recipient,
                    "status": BAD_INPUT,
                    "ok": False,
                    "error": {"code": BAD_INPUT, "text": problem},
                },
            )

    def result(self, result: SendResult) -> None:
        """Record and print one recipient's result."""
        line = self._settle(result.reference)
        self.counts[result.status.value] += 1
        self.tally.add(result)
        self.progress.advance(result.status.value)
        if self.args.json:
            write_json_line(self.out, {"line": line, **result_dict(result)})
        elif not result.ok:
            error = result.error and result.error.text
            self._list([line, result.recipient, result.status.value, result.provider, error])

    def _list(self, cells: list[object]) -> None:
        # Only the first ones are listed; --json gives every one.
        if len(self.failures) < _MAX_LISTED:
            self.failures.append(cells)
        else:
            self.unlisted += 1

    def send(self, pending: _Pending) -> None:
        """Note a line handed to the bridge."""
        self.pending.append(pending)
        self.waiting[pending.reference] += 1

    def _settle(self, reference: str | None) -> int | None:
        """The line of ``reference``; lines before it with no result are duplicates."""
        if reference is None or not self.waiting[reference]:
            return None
        while (first := self._pop()).reference != reference:
            self._duplicate(first)
        return first.line

    def _pop(self) -> _Pending:
        first = self.pending.popleft()
        self.waiting[first.reference] -= 1
        if not self.waiting[first.reference]:
            del self.waiting[first.reference]
        return first

    def _duplicate(self, pending: _Pending) -> None:
        self.duplicates.append(pending)
        self.counts[DUPLICATE] += 1
        self.progress.advance(DUPLICATE)

    def finish(self, bridge: SmsBridge) -> None:
        """Count the trailing duplicates, then report every duplicate with its first line."""
        while self.pending:
            self._duplicate(self._pop())
        if not self.duplicates:
            return
        wanted = {p.e164 for p in self.duplicates}
        first: dict[str, str] = {}
        for item in bridge.store.iter_items(batch=self.prefix):
            if item.recipient in wanted and item.recipient not in first:
                first[item.recipient] = item.reference
        for pending in self.duplicates:
            holder = first.get(pending.e164)
            where = self._line_of(holder) if holder else None
            text = f"same number as {where or 'an earlier line'}; sent once"
            if self.args.json:
                row = {"line": pending.line, "recipient": pending.e164, "status": DUPLICATE}
                write_json_line(
                    self.out,
                    {
                        **row,
                        "ok": True,
                        "reference": pending.reference,
                        "duplicate_of": where,
                        "error": None,
                        "note": text,
                    },
                )
            else:
                self._list([pending.line, pending.e164, DUPLICATE, None, text])

    def _line_of(self, reference: str) -> str:
        """``line N`` for a generated reference, else the reference the file gave."""
        match = re.fullmatch(re.escape(self.prefix) + r"-(\d+)", reference)
        return f"line {match.group(1)}" if match else f"reference {reference}"

    def rows(
        self, reader: CsvRows, template: Template | None, bridge: SmsBridge
    ) -> Iterator[Recipient]:
        """The good lines as recipients (numbers in E.164), reporting the bad ones."""
        prefix = self.prefix
        header = reader.header
        for row in reader.rows(header.index("to")):
            if isinstance(row, BadRow):
                self.bad(row.line, row.reason)
                continue
            line = row.line
            values = dict(zip(header, row.values, strict=True))
            number = values.pop("to").strip()
            reference = values.pop("reference", "").strip() or f"{prefix}-{line}"
            if not number:
                self.bad(line, "empty number")
                continue
            try:
                e164 = bridge.normalise(number)
            except InvalidNumberError as exc:
                self.bad(line, f"invalid number {number!r}: {exc}", number)
                continue
            if template is not None:
                # An empty cell would render as nothing: almost always a data mistake.
                empty = [v for v in template.variables if not values.get(v, "").strip()]
                if empty:
                    self.bad(line, f"template variable {empty[0]!r} has no value", number)
                    continue
            try:
                recipient = Recipient(e164, values, reference)
            except InvalidMessageError as exc:
                self.bad(line, str(exc), number)
                continue
            self.send(_Pending(reference, line, number, e164))
            yield recipient


def _text(args: argparse.Namespace, header: tuple[str, ...]) -> tuple[str | None, Template | None]:
    if args.body is not None:
        return args.body, None
    if args.template is not None:
        return None, Template(args.template)
    if "body" in header:
        # A per-line body is a template of one variable; the value is never re-parsed,
        # so braces in it stay literal.
        return None, Template("{body}")
    raise InvalidMessageError(
        "give --body, --template, or a 'body' column", field="body", value=None
    )


def _summary(run: _Run) -> str:
    rows = [[status, count] for status, count in sorted(run.counts.items())]
    rows.append(["total", sum(run.counts.values())])
    return render_table(("status", "count"), rows)


def _open(args: argparse.Namespace, path: Path) -> CsvRows | None:
    """The file with its header read and checked, or ``None`` (reported) when unusable."""
    try:
        reader = CsvRows(path, encoding=args.encoding)
    except InputFileError as exc:
        print(f"smsbridge batch: {exc}", file=sys.stderr)
        return None
    if "to" not in reader.header:
        reader.close()
        print(f"{path}:1: no 'to' column in the header", file=sys.stderr)
        return None
    return reader


def _cmd_batch(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.file)
    reader = _open(args, path)
    if reader is None:
        return EXIT_USAGE
    with reader:
        header = reader.header
        try:
            body, template = _text(args, header)
            if template is not None:
                missing = [v for v in template.variables if v not in header]
                if missing:
                    raise InvalidMessageError(
                        f"template variable {missing[0]!r} is not a column of {path}",
                        field="template",
                        value=missing[0],
                    )
        except (InvalidMessageError, TemplateError) as exc:
            print(f"smsbridge batch: {exc}", file=sys.stderr)
            return EXIT_USAGE
        run = _Run(args, out, path)
        number = header.index("to")
        total = run.progress.total = count_rows(path, encoding=args.encoding, number_column=number)
        try:
            _send(run, reader, (body, template), total)
        except StorageError as exc:
            run.progress.clear()
            _report(run)
            hint = None if args.reference else run.prefix
            sys.stderr.write(
                storage_failure(
                    exc,
                    written=exc.written,
                    total=total,
                    reference=hint,
                    rest="add and send the rest",
                )
            )
            return EXIT_STORAGE
    _report(run)
    return run.tally.code


def _send(
    run: _Run, reader: CsvRows, text: tuple[str | None, Template | None], total: int | None
) -> None:
    """Write and send every good line, with the batch's size recorded meanwhile.

    Raises:
        StorageError: When the outbox fails; ``written`` counts the batch's items in
            it, or is ``None`` when nothing was written this time.
    """
    body, template = text
    manager, watch = watched_plugin_manager()
    with bridge_from_args(run.args, plugin_manager=manager) as bridge:
        names = [provider.name for provider in bridge.providers]
        recipients = run.rows(reader, template, bridge)
        batch = Batch(
            recipients, body=body, template=template, sender=run.args.sender, reference=run.prefix
        )
        try:
            if total is not None:
                record_size(bridge.store, run.prefix, total)
            with run.progress:
                for result in bridge.iter_send_batch(batch):
                    run.result(result)
                run.finish(bridge)
            if total is not None:
                forget_size(bridge.store, run.prefix)
        except StorageError as exc:
            if exc.written is None and (count := stored_count(bridge.store, run.prefix)):
                exc.count(count)
            raise
        finally:
            run.providers = provider_rows(watch, bridge.store, names)


def _report(run: _Run) -> None:
    """The failed recipients (the first ones), the counts and what each provider did,
    unless --quiet; with --json, one last ``{"summary": ...}`` line."""
    args, out = run.args, run.out
    if args.json:
        summary = {"counts": dict(run.counts), **run.tally.as_dict(), "providers": run.providers}
        write_json_line(out, {"summary": summary})
    if not args.json and not args.quiet:
        if run.failures:
            keys = ("line", "recipient", "status", "provider", "error")
            out.write(render_table(keys, run.failures))
            if run.unlisted:
                out.write(f"... and {run.unlisted} more not sent (--json lists every one)\n")
        out.write("\n".join(provider_lines(run.providers)) + "\n\n")
        out.write(_summary(run))


def register(sub: Any) -> None:
    """Add the ``batch`` command."""
    batch = sub.add_parser(
        "batch", help="send one message per line of a CSV file (columns: to, body or variables)"
    )
    batch.add_argument("file", metavar="FILE.csv", help="CSV with a header row and a 'to' column")
    text = batch.add_mutually_exclusive_group()
    text.add_argument("--body", default=None, metavar="TEXT", help="the same text for everyone")
    text.add_argument(
        "--template", default=None, metavar="TEXT", help="text with {column} placeholders"
    )
    batch.add_argument("--sender", default=None, help="sender id (default: the account's)")
    batch.add_argument(
        "--reference", default=None, metavar="PREFIX", help="prefix of generated references"
    )
    batch.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="the file's encoding (default utf-8-sig; a UTF-16/32 byte-order mark wins)",
    )
    add_config_option(batch)
    batch.add_argument("--json", action="store_true", help="one JSON object per line (JSON Lines)")
    batch.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar or summary; errors only"
    )
    batch.set_defaults(func=_cmd_batch)
