"""The documentation site: the status table agrees with the code, and the site's
navigation lists every page (mkdocs' strict build then fails on any broken link)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smsbridge import Status

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_ROW = re.compile(r"^\| ([A-Z_]+) \| [^|]+ \| (yes|no) \| (yes|no) \| (yes|no) \| (yes|no) \|$")


def status_rows() -> dict[str, tuple[bool, bool, bool, bool]]:
    rows: dict[str, tuple[bool, bool, bool, bool]] = {}
    for line in (DOCS / "status-taxonomy.md").read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            flags = tuple(value == "yes" for value in match.groups()[1:])
            rows[match.group(1)] = (flags[0], flags[1], flags[2], flags[3])
    return rows


def test_the_status_table_lists_every_status_once() -> None:
    assert sorted(status_rows()) == sorted(status.name for status in Status)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.name)
def test_the_status_table_says_what_the_status_does(status: Status) -> None:
    final, success, retryable, invalid = status_rows()[status.name]
    assert (status.is_final, status.is_success, status.retryable, status.number_invalid) == (
        final,
        success,
        retryable,
        invalid,
    )


def test_every_page_is_in_the_site_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(
        str(path.relative_to(DOCS))
        for path in DOCS.rglob("*.md")
        if "_build" not in path.relative_to(DOCS).parts
    )
    missing = [page for page in pages if f": {page}" not in nav and f"- {page}" not in nav]
    assert missing == []
