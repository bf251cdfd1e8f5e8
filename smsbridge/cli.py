"""The ``smsbridge`` command.

Exit codes: 0 success, 1 the work ran but something failed (a send was refused), 2 bad
usage or input, 3 configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from smsbridge.encoding import segment
from smsbridge.errors import ConfigurationError, SmsBridgeError
from smsbridge.plugins import providers

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3


def _cmd_segments(args: argparse.Namespace, out: TextIO) -> int:
    try:
        seg = segment(args.text, encoding=args.encoding, transliterate=args.transliterate)
    except ValueError as exc:
        print(f"smsbridge segments: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        data: dict[str, Any] = {
            "encoding": seg.encoding,
            "units": seg.units,
            "parts": list(seg.parts),
            "part_count": seg.part_count,
            "non_gsm": list(seg.non_gsm),
            "replaced": [list(pair) for pair in seg.replaced],
            "text": seg.text,
        }
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    out.write(seg.explain().rstrip("\n") + "\n")
    for number, part in enumerate(seg.parts, start=1):
        out.write(f"  part {number}: {part!r}\n")
    return EXIT_OK


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="smsbridge", description="Send SMS through many providers behind one API."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    seg = sub.add_parser("segments", help="show how a text is encoded and split into SMS parts")
    seg.add_argument("text", help="the message text")
    seg.add_argument("--encoding", choices=["GSM-7", "UCS-2"], default=None)
    seg.add_argument(
        "--transliterate",
        action="store_true",
        help="replace characters with a GSM-7 equivalent to avoid UCS-2",
    )
    seg.add_argument("--json", action="store_true", help="machine-readable output")
    seg.set_defaults(func=_cmd_segments)

    prov = sub.add_parser("providers", help="list installed providers and their capabilities")
    prov.add_argument("--json", action="store_true", help="machine-readable output")
    prov.set_defaults(func=_cmd_providers)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        code: int = args.func(args, stream)
    except ConfigurationError as exc:
        print(f"smsbridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SmsBridgeError as exc:
        print(f"smsbridge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
