"""``smsbridge segments TEXT``: how a text is encoded and split into parts, and why."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from smsbridge.cli import EXIT_OK, EXIT_USAGE
from smsbridge.encoding import segment
from smsbridge.encoding.national import resolve_languages


def _cmd_segments(args: argparse.Namespace, out: TextIO) -> int:
    try:
        seg = segment(
            args.text,
            encoding=args.encoding,
            transliterate=args.transliterate,
            national_languages=args.national,
        )
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
            "locking_shift": seg.locking_shift,
            "single_shift": seg.single_shift,
            "udh_octets": seg.udh_octets,
            "shift_ies": seg.shift_ies.hex(),
        }
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    out.write(seg.explain().rstrip("\n") + "\n")
    for number, part in enumerate(seg.parts, start=1):
        out.write(f"  part {number}: {part!r}\n")
    return EXIT_OK


def language_list(value: str) -> tuple[str, ...]:
    """Parse ``--national tr,es`` into checked language codes (argparse type)."""
    codes = tuple(code.strip() for code in value.split(",") if code.strip())
    try:
        return resolve_languages(codes)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    """Add the ``segments`` command."""
    seg = sub.add_parser("segments", help="show how a text is encoded and split into SMS parts")
    seg.add_argument("text", help="the message text")
    seg.add_argument("--encoding", choices=["GSM-7", "UCS-2"], default=None)
    seg.add_argument(
        "--transliterate",
        action="store_true",
        help="replace characters with a GSM-7 equivalent to avoid UCS-2",
    )
    seg.add_argument(
        "--national",
        type=language_list,
        default=(),
        metavar="CODES",
        help="national language tables the route applies, comma-separated (tr,es)",
    )
    seg.add_argument("--json", action="store_true", help="machine-readable output")
    seg.set_defaults(func=_cmd_segments)
