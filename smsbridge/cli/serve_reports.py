"""``smsbridge serve-reports``: run the delivery-report receiver on a host and port.

The configuration is a JSON file naming each provider's options and how its callbacks
authenticate; secrets may be read from environment variables instead of the file::

    {
      "outbox": "/var/lib/smsbridge/outbox.sqlite3",
      "providers": {
        "clickatell": {"options": {"api_id_env": "CT_API_ID", "user_env": "CT_USER",
                                   "password_env": "CT_PASSWORD"},
                       "auth": {"basic": {"username_env": "CT_CB_USER",
                                          "password_env": "CT_CB_PASSWORD"}}},
        "huawei": {"options": {...}, "auth": {"token_env": "HUAWEI_REPORT_TOKEN"}}
      }
    }

Any key ending in ``_env`` is replaced by the value of that environment variable.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK
from smsbridge.errors import ConfigurationError
from smsbridge.outbox import SqliteStore, default_path
from smsbridge.plugins import get_provider, make_plugin_manager
from smsbridge.provider import Provider
from smsbridge.reports import (
    Auth,
    BasicAuth,
    ReportReceiver,
    TokenAuth,
    Unauthenticated,
    serve,
)

__all__ = ["build_receiver", "register"]


def _resolve(values: Mapping[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for key, value in values.items():
        if key.endswith("_env") and isinstance(value, str):
            if value not in os.environ:
                raise ConfigurationError(f"environment variable {value} is not set")
            resolved[key[:-4]] = os.environ[value]
        else:
            resolved[key] = value
    return resolved


def _auth(spec: object, name: str) -> Auth:
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"{name}: auth must be an object")
    spec = _resolve(spec)
    if "token" in spec:
        return TokenAuth(str(spec["token"]))
    if "basic" in spec and isinstance(spec["basic"], Mapping):
        basic = _resolve(spec["basic"])
        return BasicAuth(str(basic.get("username", "")), str(basic.get("password", "")))
    if spec.get("none") is True:
        return Unauthenticated()
    raise ConfigurationError(f"{name}: auth needs token, basic, or none: true")


def build_receiver(
    config: Mapping[str, Any], *, store: SqliteStore | None
) -> tuple[ReportReceiver, list[Provider]]:
    """The receiver a configuration describes (see the module docstring).

    Args:
        config: The parsed JSON configuration.
        store: The outbox to record in.

    Returns:
        The receiver and the providers it owns (close them when done).

    Raises:
        ConfigurationError: An invalid configuration (never quoting a secret).
    """
    entries = config.get("providers")
    if not isinstance(entries, Mapping) or not entries:
        raise ConfigurationError("the configuration needs a non-empty providers object")
    manager = make_plugin_manager()
    providers: list[Provider] = []
    auth: dict[str, Auth] = {}
    try:
        for name, entry in entries.items():
            if not isinstance(entry, Mapping):
                raise ConfigurationError(f"{name}: expected an object")
            options = _resolve(entry.get("options") or {})
            providers.append(get_provider(name, manager=manager, **options))
            auth[name] = _auth(entry.get("auth"), name)
        receiver = ReportReceiver(providers, store=store, auth=auth, plugin_manager=manager)
    except (ConfigurationError, ValueError) as exc:
        for provider in providers:
            provider.close()
        raise ConfigurationError(str(exc)) from None
    return receiver, providers


def _cmd_serve_reports(args: argparse.Namespace, out: TextIO) -> int:
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {args.config}: {type(exc).__name__}") from None
    if not isinstance(config, Mapping):
        raise ConfigurationError("the configuration must be a JSON object")
    path = args.outbox or config.get("outbox") or default_path()
    with SqliteStore(path) as store:
        receiver, providers = build_receiver(config, store=store)
        try:
            routes = ", ".join(f"/{name}" for name in receiver.provider_names)
            if args.check:
                out.write(f"configuration OK; routes: {routes}\n")
                return EXIT_OK
            server = serve(receiver, args.host, args.port)
            out.write(f"serving {routes} on {server.url} (Ctrl-C stops)\n")
            out.flush()
            signal.signal(signal.SIGTERM, lambda *_: server.stop())
            try:
                server.wait()
            except KeyboardInterrupt:
                print("smsbridge serve-reports: stopping", file=sys.stderr)
            finally:
                server.stop()
        finally:
            for provider in providers:
                provider.close()
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``serve-reports`` command."""
    cmd = sub.add_parser(
        "serve-reports", help="receive delivery-report callbacks on a host and port"
    )
    cmd.add_argument("--config", required=True, help="JSON file: providers, options, auth")
    cmd.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    cmd.add_argument("--port", type=int, default=8080, help="port to bind (8080)")
    cmd.add_argument("--outbox", default=None, help="outbox file (default: the usual place)")
    cmd.add_argument("--check", action="store_true", help="validate the configuration and exit")
    cmd.set_defaults(func=_cmd_serve_reports)
