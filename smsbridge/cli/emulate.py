"""``smsbridge emulate PROVIDER...``: run provider emulators in the foreground.

For manual testing: each named provider's loopback emulator starts on 127.0.0.1, and the
command prints its URL, the emulator's fixed test credentials (they open nothing but the
emulator), and a complete ``smsbridge.toml`` plus ``export`` lines to paste: with
``region`` set (``--region``, GB by default), so national numbers such as the README's
``07700 900123`` are accepted. It serves until Ctrl-C or SIGTERM, then stops every
emulator.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any, TextIO

import attrs

from smsbridge.cli import EXIT_OK, EXIT_USAGE
from smsbridge.cli.output import write_json_line
from smsbridge.credentials import Secret, secret_converter
from smsbridge.errors import ConfigurationError
from smsbridge.plugins import default_plugin_manager
from smsbridge.provider import Provider
from smsbridge.testing import Emulator

__all__ = ["config_text", "describe", "register"]


def _is_secret(cls: type[Provider], option: str) -> bool:
    for field in attrs.fields(cls.options_class):
        if field.name == option:
            converter: object = field.converter
            return converter is secret_converter or field.type in (Secret, "Secret")
    return False


def _plain(value: object) -> object:
    return value.reveal() if isinstance(value, Secret) else value


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def describe(cls: type[Provider], emulator: Emulator) -> dict[str, Any]:
    """What to print for one running emulator: URL, options, env vars and TOML lines."""
    options = {k: _plain(v) for k, v in cls.emulator_options(emulator).items()}
    env: dict[str, str] = {}
    toml = [f"[providers.{cls.name}]"]
    for key, value in options.items():
        if _is_secret(cls, key):
            # Credentials go through the environment, as the configuration requires.
            var = f"{cls.name}_{key}".upper()
            env[var] = str(value)
            toml.append(f'{key}_env = "{var}"')
        else:
            toml.append(f"{key} = {_toml_value(value)}")
    return {
        "provider": cls.name,
        "url": emulator.url,
        "options": options,
        "env": env,
        "toml": "\n".join(toml),
    }


def config_text(described: list[dict[str, Any]], region: str | None) -> str:
    """A whole ``smsbridge.toml`` for these emulators: the region first (top-level keys
    come before tables in TOML), then each provider's table."""
    head = f"region = {_toml_value(region)}\n\n" if region else ""
    return head + "\n\n".join(item["toml"] for item in described) + "\n"


def _print_human(out: TextIO, described: list[dict[str, Any]], region: str | None) -> None:
    for item in described:
        out.write(f"{item['provider']} emulator: {item['url']}\n")
        for key, value in item["options"].items():
            if key != "base_url":
                out.write(f"  {key} = {value}\n")
    out.write("\n# smsbridge.toml\n")
    out.write(config_text(described, region))
    out.write("\n# environment (the emulators' fixed test credentials)\n")
    for item in described:
        for var, value in item["env"].items():
            out.write(f"export {var}={value}\n")
    out.write("\nserving; press Ctrl-C to stop\n")


def _cmd_emulate(args: argparse.Namespace, out: TextIO) -> int:
    registry = default_plugin_manager().registry
    classes: list[type[Provider]] = []
    for name in dict.fromkeys(args.providers):
        try:
            cls = registry.get(name)
        except ConfigurationError as exc:
            print(f"smsbridge emulate: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if cls.emulator_class() is None:
            print(f"smsbridge emulate: provider {name!r} ships no emulator", file=sys.stderr)
            return EXIT_USAGE
        classes.append(cls)
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    started: list[Emulator] = []
    try:
        described = []
        for cls in classes:
            emulator_class = cls.emulator_class()
            assert emulator_class is not None  # checked above
            emulator = emulator_class()
            emulator.start()
            started.append(emulator)
            described.append(describe(cls, emulator))
        if args.json:
            for item in described:
                write_json_line(out, item)
            write_json_line(out, {"ready": True, "toml": config_text(described, args.region)})
        else:
            _print_human(out, described, args.region)
            out.flush()
        # A bounded wait keeps the loop responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        while started:
            started.pop().stop()
    if not args.json:
        out.write("stopped\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``emulate`` command."""
    emulate = sub.add_parser(
        "emulate", help="run provider emulators on loopback for manual testing (Ctrl-C stops)"
    )
    emulate.add_argument("providers", nargs="+", metavar="PROVIDER", help="registered names")
    emulate.add_argument(
        "--region",
        default="GB",
        help="region for national numbers in the printed configuration (default GB; '' for none)",
    )
    emulate.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per emulator, then {"ready": true}',
    )
    emulate.set_defaults(func=_cmd_emulate)
