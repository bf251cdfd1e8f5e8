"""``smsbridge providers``: installed providers with their capabilities and limits."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK
from smsbridge.plugins import providers


def _cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    infos = providers()
    if args.json:
        json.dump(
            [
                {"name": i.name, "plugin": i.plugin, "capabilities": i.capabilities.as_dict()}
                for i in infos
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return EXIT_OK
    if not infos:
        out.write("no providers installed\n")
        return EXIT_OK
    for info in infos:
        caps = info.capabilities.as_dict()
        flags = sorted(
            key for key, value in caps.items() if value is True and key != "template_only"
        )
        if info.capabilities.template_only:
            flags.append("template-only")
        limits = [f"{caps['max_recipients_per_request']} recipients/request"]
        if caps["max_parts"]:
            limits.append(f"max {caps['max_parts']} parts")
        if caps["max_connections"]:
            limits.append(f"max {caps['max_connections']} connection(s)")
        out.write(f"{info.name}  ({info.plugin})\n")
        out.write(f"  supports: {', '.join(flags) or '-'}\n")
        out.write(f"  limits:   {', '.join(limits)}\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``providers`` command."""
    prov = sub.add_parser("providers", help="list installed providers and their capabilities")
    prov.add_argument("--json", action="store_true", help="machine-readable output")
    prov.set_defaults(func=_cmd_providers)
