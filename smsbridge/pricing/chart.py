"""A quote as a picture: grouped bars per destination, one colour per provider.

Plain SVG written by hand, so no plotting library is needed: a title, a y axis with
gridlines in the comparison unit, per destination a group of bars (one per provider,
labelled with its amount), and a legend with each provider's total. Rows in another
unit than the chart's are left out and said so under the title, since nothing is added
across units.
"""

from __future__ import annotations

import math
import os
from decimal import Decimal
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from .quote_values import Quote

__all__ = ["quote_chart", "write_chart"]

# Colour-blind-safe palette (Okabe-Ito), in provider order.
_PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
_BAR: Final = 26
_GAP: Final = 6
_GROUP_GAP: Final = 36
_LEFT: Final = 80
_TOP: Final = 70
_PLOT_HEIGHT: Final = 300
_BOTTOM: Final = 60
_LEGEND_ROW: Final = 22
_FONT: Final = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def _step(top: float) -> float:
    """A round gridline step giving about five lines up to ``top``."""
    raw = top / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10.0 * magnitude


def _money(amount: Decimal) -> str:
    """An amount short enough for a bar label, without losing what matters."""
    text = f"{amount:,.4f}".rstrip("0").rstrip(".")
    return text if text else "0"


def quote_chart(result: Quote, *, unit: str | None = None, title: str | None = None) -> str:
    """Draw ``result`` as an SVG document: per destination, one bar per provider.

    Args:
        result: The quote.
        unit: The unit to chart; the quote's comparison unit by default.
        title: The heading; a default names the recipients and the unit.

    Returns:
        The SVG document as text.
    """
    wanted = unit if unit is not None else result.comparison_unit()
    data = result.by_destination(wanted) if wanted is not None else {}
    names = [item.provider for item in result.providers]
    colours = {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(names)}
    countries = list(data)
    group = len(names) * (_BAR + _GAP) - _GAP
    plot_width = max(len(countries) * (group + _GROUP_GAP) + _GROUP_GAP, 320)
    legend_top = _TOP + _PLOT_HEIGHT + _BOTTOM
    width = _LEFT + plot_width + 40
    height = legend_top + _LEGEND_ROW * (len(names) + 1) + 20
    heading = title or f"Quote for {result.recipients:,} recipient(s), {wanted or 'no unit'}"
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {_FONT} font-size='12'>",
        f"<title>{escape(heading)}</title>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{_LEFT}' y='30' font-size='18' font-weight='bold'>{escape(heading)}</text>",
    ]
    skipped = sorted({r.unit for item in result.providers for r in item.rows} - {wanted})
    if skipped:
        note = f"Not shown: amounts in {', '.join(skipped)} (not converted)"
        out.append(f"<text x='{_LEFT}' y='50' fill='#555'>{escape(note)}</text>")
    top = max((float(v) for cell in data.values() for v in cell.values()), default=0.0)
    step = _step(top) if top > 0 else 1.0
    ceiling = step * max(math.ceil(top / step), 1)
    base = _TOP + _PLOT_HEIGHT

    def y(value: float) -> float:
        return base - value / ceiling * _PLOT_HEIGHT

    lines = round(ceiling / step)
    for index in range(lines + 1):
        value = step * index
        at = y(value)
        out.append(
            f"<line x1='{_LEFT}' y1='{at:.1f}' x2='{_LEFT + plot_width}' y2='{at:.1f}' "
            f"stroke='{'#333' if index == 0 else '#ddd'}'/>"
        )
        out.append(
            f"<text x='{_LEFT - 8}' y='{at + 4:.1f}' text-anchor='end' fill='#333'>"
            f"{escape(_money(Decimal(str(round(value, 6)))))}</text>"
        )
    out.append(
        f"<text x='18' y='{_TOP + _PLOT_HEIGHT / 2:.0f}' text-anchor='middle' fill='#333' "
        f"transform='rotate(-90 18 {_TOP + _PLOT_HEIGHT / 2:.0f})'>"
        f"{escape(wanted or '')}</text>"
    )
    if not countries:
        out.append(
            f"<text x='{_LEFT + plot_width / 2:.0f}' y='{_TOP + _PLOT_HEIGHT / 2:.0f}' "
            "text-anchor='middle' fill='#555'>Nothing to chart: no provider can carry "
            "these recipients in this unit</text>"
        )
    for position, country in enumerate(countries):
        left = _LEFT + _GROUP_GAP + position * (group + _GROUP_GAP)
        for index, name in enumerate(names):
            amount = data[country].get(name)
            if amount is None:
                continue
            x = left + index * (_BAR + _GAP)
            top_y = y(float(amount))
            label = f"{name}, {country}: {_money(amount)} {wanted}"
            out.append(
                f"<rect x='{x}' y='{top_y:.1f}' width='{_BAR}' height='{base - top_y:.1f}' "
                f"fill='{colours[name]}'><title>{escape(label)}</title></rect>"
            )
            out.append(
                f"<text x='{x + _BAR / 2:.1f}' y='{top_y - 4:.1f}' text-anchor='middle' "
                f"font-size='10' fill='#222'>{escape(_money(amount))}</text>"
            )
        out.append(
            f"<text x='{left + group / 2:.1f}' y='{base + 20}' text-anchor='middle' "
            f"font-weight='bold'>{escape(country)}</text>"
        )
    out.append(
        f"<text x='{_LEFT}' y='{legend_top - 12}' font-weight='bold'>Total per provider</text>"
    )
    cheapest = result.cheapest()
    for index, item in enumerate(result.providers):
        row = legend_top + index * _LEGEND_ROW
        total = item.total
        text = f"{item.provider}: " + (
            "-" if total is None else f"{_money(total.amount)} {total.unit}"
        )
        text += f" ({item.recipients:,} recipients"
        text += f", {item.unroutable_count:,} unroutable)" if item.unroutable_count else ")"
        if item.provider == cheapest:
            text += "  ← cheapest"
        out.append(
            f"<rect x='{_LEFT}' y='{row}' width='14' height='14' fill='{colours[item.provider]}'/>"
        )
        out.append(f"<text x='{_LEFT + 22}' y='{row + 12}'>{escape(text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_chart(
    result: Quote,
    path: str | os.PathLike[str],
    *,
    unit: str | None = None,
    title: str | None = None,
) -> Path:
    """Write :func:`quote_chart` to ``path`` (UTF-8) and return the path.

    Raises:
        OSError: The file cannot be written.
    """
    target = Path(path)
    target.write_text(quote_chart(result, unit=unit, title=title), encoding="utf-8")
    return target
