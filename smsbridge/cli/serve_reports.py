"""``smsbridge serve-reports``: run the delivery-report receiver on a host and port.

It reads the same ``smsbridge.toml`` as every other command (``--config``,
``$SMSBRIDGE_CONFIG`` or ``./smsbridge.toml``): the providers from ``[providers.NAME]``,
the outbox from ``store``, and its own settings, including each served provider's
callback authentication, from ``[receiver]`` (see :mod:`smsbridge.reports.settings`).

SIGTERM and Ctrl-C stop it within the configured ``grace`` plus about a second, whatever
its clients are doing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK
from smsbridge.config import Config, load_config
from smsbridge.outbox.factory import open_store
from smsbridge.provider import Provider
from smsbridge.reports import ReportReceiver, serve
from smsbridge.reports.settings import ReceiverSettings

__all__ = ["build_receiver", "register"]


def build_receiver(
    config: Config, *, store: Any, settings: ReceiverSettings | None = None
) -> tuple[ReportReceiver, list[Provider]]:
    """Same as :meth:`config.build_receiver(...) <smsbridge.config.Config.build_receiver>`."""
    return config.build_receiver(store=store, settings=settings)


def _cmd_serve_reports(args: argparse.Namespace, out: TextIO) -> int:
    config = load_config(args.config)
    settings = config.receiver_settings()
    host = args.host if args.host is not None else settings.host
    port = args.port if args.port is not None else settings.port
    location = args.outbox if args.outbox is not None else config.store
    # --check builds everything but the outbox, so that it never creates one.
    store = None if args.check else open_store(location)
    try:
        receiver, providers = build_receiver(config, store=store, settings=settings)
        try:
            routes = ", ".join(f"/{name}" for name in receiver.provider_names)
            if args.check:
                out.write(f"configuration OK; routes: {routes}\n")
                return EXIT_OK
            server = serve(
                receiver,
                host,
                port,
                request_timeout=settings.request_timeout,
                max_clients=settings.max_clients,
                grace=settings.grace,
            )
            out.write(f"serving {routes} on {server.url} (Ctrl-C stops)\n")
            out.flush()
            stopping = threading.Event()
            # The handler only flags: stopping runs in the main loop below, never
            # re-entered from a signal arriving while it runs.
            previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
            try:
                while not stopping.wait(0.2):
                    pass
            except KeyboardInterrupt:
                pass
            finally:
                print("smsbridge serve-reports: stopping", file=sys.stderr)
                server.stop()
                signal.signal(signal.SIGTERM, previous)
        finally:
            for provider in providers:
                provider.close()
    finally:
        if store is not None:
            store.close()
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``serve-reports`` command."""
    cmd = sub.add_parser(
        "serve-reports",
        help="receive delivery-report callbacks on a host and port",
        description="Receive delivery-report callbacks. Reads smsbridge.toml like every "
        "command: [providers.NAME], store, and the [receiver] section (host, port, "
        "request_timeout, max_clients, grace, max_body_bytes, [receiver.auth.NAME]).",
    )
    cmd.add_argument(
        "--config",
        default=None,
        help="configuration file (default: $SMSBRIDGE_CONFIG, then ./smsbridge.toml)",
    )
    cmd.add_argument("--host", default=None, help="address to bind ([receiver] host)")
    cmd.add_argument("--port", type=int, default=None, help="port to bind ([receiver] port)")
    cmd.add_argument("--outbox", default=None, help="outbox path or URL (default: store)")
    cmd.add_argument("--check", action="store_true", help="validate the configuration and exit")
    cmd.set_defaults(func=_cmd_serve_reports)
