"""Render ``docs/national-tables.md`` from the package's national language tables.

``python -m tests.encoding.national_tables_doc > docs/national-tables.md`` rewrites the
page; ``test_national.py`` fails when the page and the tables disagree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from smsbridge.encoding.national import NATIONAL_LANGUAGES

_NAMES = {"\n": "LF", "\r": "CR", " ": "SP", "\f": "FF"}
_ESC = 0x1B


def _cell(table: Mapping[int, str], septet: int) -> str:
    if septet == _ESC:
        return "ESC"
    char = table.get(septet)
    if char is None:
        return ""
    if char in _NAMES:
        return _NAMES[char]
    if char in "|\\`*_<>[]":
        return "\\" + char
    if ord(char) < 0x80:
        return char
    # A combining mark is shown on a dotted circle, as the standard's tables do.
    glyph = (
        "\u25cc" + char
        if unicodedata.combining(char)
        or unicodedata.category(char)
        in (
            "Mn",
            "Mc",
        )
        else char
    )
    return f"{glyph} {ord(char):04X}"


def _grid(title: str, table: Mapping[int, str]) -> list[str]:
    lines = [f"**{title}**", "", "| | " + " | ".join(f"0x{h}0" for h in range(8)) + " |"]
    lines.append("|---" * 9 + "|")
    for low in range(16):
        cells = [_cell(table, high << 4 | low) for high in range(8)]
        lines.append(f"| **{low:X}** | " + " | ".join(cells) + " |")
    return [*lines, ""]


def render() -> str:
    """The whole page."""
    out = [
        "# National language tables (3GPP TS 23.038 annex A)",
        "",
        "Generated from `smsbridge/encoding/national_latin.py` and",
        "`smsbridge/encoding/national_indic.py` by `python -m tests.encoding.national_tables_doc`;",
        "a test fails when this page and the tables disagree. See",
        "[segmentation](segmentation.md#national-language-tables) for how they are used.",
        "",
        "Columns are the high three bits of the septet, rows the low four, as in the",
        "standard: the septet of a cell is its column plus its row (`0x20` + `D` = `0x2D`).",
        "Characters outside ASCII show their code point; combining marks sit on a dotted",
        "circle. An empty cell is undefined. In a locking shift table `ESC` (0x1B) leads",
        "to the single shift table; in a single shift table the cell is the code that",
        "follows ESC.",
        "",
    ]
    for code, lang in NATIONAL_LANGUAGES.items():
        out += [f"## {lang.name} (`{code}`, id {lang.identifier})", ""]
        if lang.locking is None:
            out += ["No locking shift table (A.3.2 is void).", ""]
        else:
            out += _grid("Locking shift table", lang.locking)
        out += _grid("Single shift table", lang.single)
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(render(), end="")
