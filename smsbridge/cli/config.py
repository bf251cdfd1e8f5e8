"""``smsbridge config check [PATH]``.

``check`` prints every problem of the file as ``PATH:LINE: message`` (the format editors
and CI annotate) and exits 3 when there is any.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from smsbridge.cli import EXIT_CONFIG, EXIT_OK
from smsbridge.cli.output import write_json
from smsbridge.config import CONFIG_ENV, DEFAULT_NAME, check_config, find_config
from smsbridge.errors import ConfigurationError

__all__ = ["register"]


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    path = find_config(args.path)
    if path is None:
        raise ConfigurationError(
            f"no configuration file: name one, set ${CONFIG_ENV}, or create ./{DEFAULT_NAME}"
        )
    problems = check_config(path)
    if args.json:
        write_json(
            out,
            {
                "path": str(path),
                "ok": not problems,
                "problems": [
                    {"line": p.line, "key": p.key, "message": p.message} for p in problems
                ],
            },
        )
    else:
        for problem in problems:
            # Problems go to stdout: they are the command's answer, not a diagnostic.
            out.write(f"{path}:{problem.line}: {problem.message}\n")
        if not problems and not args.quiet:
            out.write(f"{path}: ok\n")
    if problems and not args.json:
        print(f"smsbridge config check: {len(problems)} problem(s)", file=sys.stderr)
    return EXIT_CONFIG if problems else EXIT_OK


def _cmd_config_help(args: argparse.Namespace, out: TextIO) -> int:
    args.config_parser.print_help(out)
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the ``config`` command with its ``check`` action."""
    config = sub.add_parser("config", help="inspect the configuration file")
    config.set_defaults(func=_cmd_config_help, config_parser=config)
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate smsbridge.toml and name every problem with its line"
    )
    check.add_argument(
        "path",
        nargs="?",
        default=None,
        help=f"the file (default: ${CONFIG_ENV}, then ./{DEFAULT_NAME})",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    check.set_defaults(func=_cmd_check)
