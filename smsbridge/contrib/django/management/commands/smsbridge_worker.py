"""``manage.py smsbridge_worker``: send from the outbox ``settings.SMSBRIDGE`` names.

The same :class:`~smsbridge.worker.Worker` as ``smsbridge worker``, with the same
options, configured from the Django settings instead of ``smsbridge.toml``. SIGTERM or
Ctrl-C stops it gracefully: the request in flight finishes, other claims are given back.
Its log lines (a database gone and back) go to the ``smsbridge.worker`` logger: route
it in ``LOGGING``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smsbridge.contrib.django.conf import get_config
from smsbridge.errors import ConfigurationError
from smsbridge.limits import parse_limits
from smsbridge.outbox import ItemState, OutboxError
from smsbridge.worker import Worker
from smsbridge.worker_health import HealthFile
from smsbridge.worker_options import add_worker_options


class Command(BaseCommand):
    """Run an outbox worker until stopped (or idle, with ``--until-idle``)."""

    help = "Send SMS from the smsbridge outbox until stopped (SIGTERM or Ctrl-C)."

    def add_arguments(self, parser: CommandParser) -> None:
        """The options of ``smsbridge worker``."""
        add_worker_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the worker; print what it claimed and the outbox's counts at the end
        (nothing with ``--verbosity 0``).

        Raises:
            CommandError: For bad options or settings (the message names them).
        """
        if options["concurrency"] < 1 or options["lease"] <= 0 or options["claim_size"] < 1:
            raise CommandError("--concurrency, --lease and --claim-size must be positive")
        try:
            limits = parse_limits(options["rate"], options["connections"])
            worker = Worker.from_config(
                get_config(),
                store=options["store"],
                concurrency=options["concurrency"],
                limits=limits,
                lease_seconds=options["lease"],
                claim_size=options["claim_size"],
                poll_interval=options["poll"],
                share_limits=not options["local_limits"],
                on_health=None
                if options["health_file"] is None
                else HealthFile(options["health_file"]),
            )
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        say = self.stdout.write if options.get("verbosity", 1) > 0 else _silent
        with worker:
            worker.install_signal_handlers()
            say(f"worker {worker.owner} started")
            self.stdout.flush()
            claimed = worker.run(until_idle=options["until_idle"], timeout=options["timeout"])
            try:
                counts = worker.store.counts()
            except OutboxError:
                counts = None
        say(f"worker stopped: {claimed} claimed; released {worker.released}")
        if counts is None:
            say("counts unavailable: the outbox database did not answer")
            return
        for state in ItemState:
            say(f"{state.value}: {counts.get(state, 0)}")


def _silent(*_: object, **__: object) -> None:
    return None
