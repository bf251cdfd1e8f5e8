"""``smsbridge task create|list|show|quote|cancel|delete|copy|export-failed|run``.

Tasks live in the outbox file: ``--store PATH``, else the configuration's ``store``,
else the default outbox. ``run`` starts due tasks, expires forgotten ones and sends
through the providers of the configuration; run it from cron or a service manager.

Testing aid: ``SMSBRIDGE_TEST_NOW`` (an ISO 8601 time with zone, or seconds since the
epoch) fixes these commands' clock, so a test can walk a task through its schedule in
a few process runs. No other command reads it; never set it in production.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK, EXIT_USAGE
from smsbridge.cli.options import add_config_option
from smsbridge.cli.outcome import exit_code
from smsbridge.cli.output import write_json, write_table
from smsbridge.cli.progress import Progress
from smsbridge.config import find_config, load_config
from smsbridge.dispatch import Dispatcher
from smsbridge.errors import ConfigurationError
from smsbridge.inputs import DEFAULT_ENCODING
from smsbridge.outbox import ItemState, default_path
from smsbridge.reports.polling import Poller
from smsbridge.router import Router
from smsbridge.tasks import (
    ImportReport,
    SendingHoursError,
    Task,
    TaskDetail,
    TaskImportError,
    TaskRunner,
    Tasks,
    TaskState,
)
from smsbridge.tasks.scheduler import TaskPolicy

__all__ = ["NOW_ENV", "register"]

NOW_ENV = "SMSBRIDGE_TEST_NOW"
"""Environment variable fixing the task commands' clock (a testing aid)."""


def _parse_now(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"{NOW_ENV}={text!r} is not a time") from None
    if when.tzinfo is None:
        raise ConfigurationError(f"{NOW_ENV} needs a time zone, e.g. {text}+00:00")
    return when.timestamp()


def _clock() -> Callable[[], float]:
    text = os.environ.get(NOW_ENV, "").strip()
    if not text:
        return time.time
    fixed = _parse_now(text)
    return lambda: fixed


def _when(text: str) -> datetime:
    """``--at``, checked while the options are parsed, so its error names the option
    (not the recipient file)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time, e.g. 2030-01-31T10:00+01:00"
        ) from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. {text}+00:00")
    return when


@contextmanager
def _tasks(args: argparse.Namespace) -> Iterator[Tasks]:
    found = find_config(args.config)
    config = load_config(found) if found is not None else None
    store = args.store or (config.store if config else None) or default_path()
    if config is None and not args.store:
        default_path().parent.mkdir(parents=True, exist_ok=True)
    region = getattr(args, "region", None) or (config.region if config else None)
    with Tasks(
        os.fspath(store),
        clock=_clock(),
        region=region,
        strict_numbers=config.strict_numbers if config else False,
    ) as tasks:
        yield tasks


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _task_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "state": task.state.value,
        "recipients": task.recipients,
        "text": task.text,
        "template": task.template is not None,
        "sender": task.sender,
        "provider": task.provider,
        "scheduled_at": _iso(task.scheduled_at),
        "created_at": _iso(task.created_at),
        "started_at": _iso(task.started_at),
        "finished_at": _iso(task.finished_at),
        "reason": task.reason,
        "source": task.source,
        "copied_from": task.copied_from,
    }


def _report_dict(report: ImportReport) -> dict[str, Any]:
    return {
        "imported": report.imported,
        "duplicates": report.duplicates,
        "invalid": report.invalid,
        "invalid_lines": [
            {"line": i.line, "value": i.value, "reason": i.reason} for i in report.invalid_lines
        ],
        "outside_hours": report.outside_hours,
        "warnings": list(report.warnings),
    }


def _detail_dict(detail: TaskDetail) -> dict[str, Any]:
    return {
        "number": detail.number,
        "line": detail.line,
        "state": detail.state.value if detail.state else None,
        "status": detail.status.value if detail.status else None,
        "failed": detail.failed,
        "provider": detail.provider,
        "message_id": detail.message_id,
        "parts": detail.parts,
        "sent_at": detail.sent_at.isoformat() if detail.sent_at else None,
        "reported_at": detail.reported_at.isoformat() if detail.reported_at else None,
        "error": None if detail.error is None else detail.error.text,
    }


def _print_created(args: argparse.Namespace, out: TextIO, task: Task, report: ImportReport) -> None:
    if args.json:
        write_json(out, {"task": _task_dict(task), "import": _report_dict(report)})
        return
    for line in report.invalid_lines:
        print(f"{args.file}:{line.line}: {line.value!r}: {line.reason}", file=sys.stderr)
    for warning in report.warnings:
        print(f"smsbridge task: warning: {warning}", file=sys.stderr)
    out.write(f"{task.id} {task.state.value}: {report.summary()}\n")


def _import(args: argparse.Namespace, out: TextIO, create: Callable[..., Any]) -> int:
    with Progress(label="importing", enabled=False if args.quiet else None) as progress:
        try:
            task, report = create(on_line=progress.advance)
        except SendingHoursError as exc:
            progress.clear()
            print(f"smsbridge task: refused: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except TaskImportError as exc:
            progress.clear()
            print(f"smsbridge task: {args.file}: refused: {exc}", file=sys.stderr)
            return EXIT_USAGE
    _print_created(args, out, task, report)
    return exit_code(refused=report.invalid, unsettled=0)


def _cmd_create(args: argparse.Namespace, out: TextIO) -> int:
    if (args.body is None) == (args.template is None):
        print("smsbridge task create: give exactly one of --body or --template", file=sys.stderr)
        return EXIT_USAGE
    with _tasks(args) as tasks:
        return _import(
            args,
            out,
            lambda **kw: tasks.create(
                args.name,
                args.file,
                body=args.body,
                template=args.template,
                sender=args.sender,
                provider=args.provider,
                scheduled_at=args.at,
                number_column=args.column,
                sheet=args.sheet,
                encoding=args.encoding,
                allow_outside_hours=args.outside_hours,
                **kw,
            ),
        )


def _cmd_copy(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        return _import(
            args,
            out,
            lambda **kw: tasks.copy(
                args.id,
                args.name,
                args.file,
                scheduled_at=args.at,
                number_column=args.column,
                sheet=args.sheet,
                encoding=args.encoding,
                allow_outside_hours=args.outside_hours,
                **kw,
            ),
        )


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        listed = tasks.list(name=args.name)
    if args.json:
        write_json(out, [_task_dict(task) for task in listed])
    else:
        rows = (
            [
                t.id,
                t.name,
                t.state.value,
                t.recipients,
                t.scheduled_at and t.scheduled_at.isoformat(),
            ]
            for t in listed
        )
        write_table(out, ("id", "name", "state", "numbers", "scheduled"), rows)
    return EXIT_OK


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        task = tasks.get(args.id)
        details = [
            _detail_dict(d) for d in tasks.details(args.id, number=args.number, status=args.status)
        ]
    if args.json:
        write_json(out, {"task": _task_dict(task), "details": details})
        return EXIT_OK
    for key, value in _task_dict(task).items():
        if value is not None:
            out.write(f"{key}: {value}\n")
    out.write("\n")
    keys = ("number", "line", "status", "provider", "message_id", "parts", "sent_at", "error")
    write_table(out, keys, ([d[k] for k in keys] for d in details))
    return EXIT_OK


def _cmd_quote(args: argparse.Namespace, out: TextIO) -> int:
    from smsbridge.cli.quote import Settings, parse_rates, write_quote

    args.use_api = False
    with _tasks(args) as tasks:
        task = tasks.get(args.id)
        if task.provider is not None and not args.providers:
            args.providers = task.provider
        settings = Settings(args)
        try:
            if not settings.providers:
                raise ConfigurationError("no providers: give --providers NAME,... or --config")
            result = tasks.quote(
                args.id,
                settings.providers,
                table=settings.table(),
                rates=parse_rates(args.rate),
                currency=args.currency,
            )
        finally:
            settings.close()
    write_quote(result, "json" if args.json else "table", out)
    return EXIT_OK


def _cmd_cancel(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        task = tasks.cancel(args.id)
    out.write(f"{task.id} {task.state.value}\n")
    return EXIT_OK


def _cmd_delete(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        tasks.delete(args.id)
    out.write(f"{args.id} deleted\n")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    with _tasks(args) as tasks:
        count = tasks.export_failed(args.id, args.output)
    out.write(f"{count} failed number(s) written to {args.output}\n")
    return EXIT_OK


def _send(runner: TaskRunner, tasks: Tasks, timeout: float, progress: Progress) -> None:
    running = tasks.list(TaskState.EXECUTING)
    progress.total = sum(task.recipients for task in running) or None
    deadline = time.monotonic() + timeout

    def settled() -> int:
        return sum(tasks.outbox.counts(batch=t.id)[ItemState.DONE] for t in running)

    # Step by step rather than drain(), so the bar moves while requests go out.
    while time.monotonic() < deadline and runner.dispatcher.run_once():
        done = settled()
        progress.advance(n=done - progress.done)
    runner.dispatcher.drain(max(deadline - time.monotonic(), 0.0))
    progress.advance(n=settled() - progress.done)


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    config = load_config(args.config)
    clock = _clock()
    providers = config.build_providers()
    try:
        router = Router(
            providers,
            policy=TaskPolicy(config.build_policy()),
            retry=config.routing.retry,
            delivery=config.routing.delivery,
        )
        with _tasks(args) as tasks, Dispatcher(router, tasks.outbox, clock=clock) as dispatcher:
            poller = None
            if args.poll_after is not None:
                poller = Poller(providers, tasks.outbox, older_than=args.poll_after, clock=clock)
            runner = TaskRunner(tasks, dispatcher, clock, poller=poller)
            first = runner.tick()
            with Progress(label="sending", enabled=False if args.quiet else None) as progress:
                _send(runner, tasks, args.timeout, progress)
            if poller is not None:
                poller.poll_once()
            second = runner.tick()
            listed = {task.id: task for task in tasks.list()}
    finally:
        for provider in providers:
            provider.close()
    report = {
        "started": list(first.started + second.started),
        "expired": list(first.expired + second.expired),
        "completed": list(first.completed + second.completed),
    }
    if args.json:
        write_json(out, report)
    else:
        for key, ids in report.items():
            for task_id in ids:
                task = listed.get(task_id)
                reason = f" ({task.reason})" if task and task.reason and key != "started" else ""
                out.write(f"{task_id} {key}{reason}\n")
    return EXIT_OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None, metavar="PATH", help="the outbox file")
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _importing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="recipients: .csv or .xlsx with a header")
    parser.add_argument(
        "--at", default=None, type=_when, metavar="TIME", help="start time, ISO 8601 with zone"
    )
    parser.add_argument("--column", default=None, help="the number column's header")
    parser.add_argument("--sheet", default=None, help="the XLSX sheet (default: the first)")
    parser.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help="a CSV's encoding (default utf-8-sig; a UTF-16/32 byte-order mark wins)",
    )
    parser.add_argument("--region", default=None, help="region of national numbers, e.g. GB")
    parser.add_argument(
        "--outside-hours",
        action="store_true",
        help="create it even if recipients get it outside 08:00-22:00 local time",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def register(sub: Any) -> None:
    """Add the ``task`` command and its actions."""
    task = sub.add_parser("task", help="scheduled template tasks (campaigns)")
    actions = task.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="import a recipient file into a new task")
    create.add_argument("name", help="the task's name")
    _importing(create)
    text = create.add_mutually_exclusive_group()
    text.add_argument("--body", default=None, metavar="TEXT", help="the same text for all")
    text.add_argument("--template", default=None, metavar="TEXT", help="{column} placeholders")
    create.add_argument("--sender", default=None, help="sender id")
    create.add_argument("--provider", default=None, help="send only through this provider")
    _common(create)
    create.set_defaults(func=_cmd_create)

    listing = actions.add_parser("list", help="every task and its state")
    listing.add_argument("--name", default=None, help="only tasks whose name contains this")
    _common(listing)
    listing.set_defaults(func=_cmd_list)

    show = actions.add_parser("show", help="a task and each number's status")
    show.add_argument("id")
    show.add_argument("--number", default=None, help="only this number")
    show.add_argument("--status", default=None, help="a status, 'failed' or 'waiting'")
    _common(show)
    show.set_defaults(func=_cmd_show)

    cost = actions.add_parser("quote", help="what a pending task will cost, per provider")
    cost.add_argument("id")
    cost.add_argument("--providers", default=None, metavar="NAME,...", help="providers to compare")
    cost.add_argument("--prices", default=None, metavar="FILE.csv", help="the price table")
    cost.add_argument("--currency", default=None, help="compare totals in this currency")
    cost.add_argument(
        "--rate", action="append", default=[], metavar="NAME=AMOUNT:CUR", help="credit rate"
    )
    cost.add_argument("--region", default=None, help=argparse.SUPPRESS)
    _common(cost)
    cost.set_defaults(func=_cmd_quote)

    for name, func, help_text in (
        ("cancel", _cmd_cancel, "cancel a pending task (until 5 minutes before its time)"),
        ("delete", _cmd_delete, "delete a cancelled task"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("id")
        _common(action)
        action.set_defaults(func=func)

    copy = actions.add_parser("copy", help="a new task with this one's text; new recipients")
    copy.add_argument("id")
    copy.add_argument("name", help="the new task's name")
    _importing(copy)
    _common(copy)
    copy.set_defaults(func=_cmd_copy)

    export = actions.add_parser("export-failed", help="write the failed numbers to a CSV")
    export.add_argument("id")
    export.add_argument("output", metavar="OUT.csv")
    _common(export)
    export.set_defaults(func=_cmd_export)

    run = actions.add_parser("run", help="start due tasks and send them (cron or a service)")
    run.add_argument("--timeout", type=float, default=300.0, help="seconds to keep sending")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    run.add_argument(
        "--poll-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="ask providers for reports still missing after this long (default: never)",
    )
    _common(run)
    run.set_defaults(func=_cmd_run)
