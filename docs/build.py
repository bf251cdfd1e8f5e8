"""Build the documentation site with warnings as errors: ``python docs/build.py``.

A thin entry point for ``mkdocs build --strict`` (mkdocs-material, with mkdocstrings
reading the Google-style docstrings into the API reference), run from the repository
root with ``mkdocs.yml``; ``nox -s docs`` runs the same build. A broken link, a missing
anchor, a page left out of the navigation or a docstring mkdocstrings cannot read fails
it. Extra arguments go to ``mkdocs build`` (``--site-dir /tmp/site``).

It first regenerates ``docs/statuses.md`` from the providers' code tables
(``docs/statuses.py``). Exits with mkdocs' status (1 on any warning), or 2 with a message
naming the install command when the ``docs`` extra is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
"""Modules of the ``docs`` extra the build cannot run without."""


def missing_modules() -> list[str]:
    """The modules of :data:`NEEDED` that cannot be imported here."""
    missing: list[str] = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the parent package itself is absent
            found = False
        if not found:
            missing.append(name)
    return missing


def _status_page() -> Any:
    """``docs/statuses.py``, the generator of the status page (not an importable module)."""
    spec = importlib.util.spec_from_file_location(
        "smsbridge_docs_statuses", ROOT / "docs" / "statuses.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    """Run the strict build; returns the process exit status.

    Args:
        argv: Extra arguments for ``mkdocs build``.

    Returns:
        0 when the site built without a warning.
    """
    missing = missing_modules()
    if missing:
        print(
            f"docs/build.py: cannot build the site, {', '.join(missing)} not installed; "
            "run: pip install -e '.[docs]' -e ./providers/smsbridge_smsmode",
            file=sys.stderr,
        )
        return 2
    _status_page().write()
    # Material's banner about its successor is advice, not a warning about our pages.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", *argv]
    # The command is fixed here; argv only adds options for mkdocs.
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
