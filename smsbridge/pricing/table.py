"""Price tables: per-provider prices by destination, loaded from CSV, matched fast.

The CSV format is documented in ``docs/pricing.md``. Matching a number takes a handful of
dict lookups: every provider keeps its prefix rows in a dict keyed by the digit string,
and a lookup tries only the prefix lengths that occur in the table, longest first. A
million numbers therefore cost a few million dict probes, no scan over the rows.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Final

import attrs
import phonenumbers

from smsbridge.errors import ConfigurationError
from smsbridge.provider import NAME_RE
from smsbridge.results import Cost

from .locate import locate, region_of
from .rates import CREDITS, CreditRates

__all__ = [
    "COLUMNS",
    "CREDITS",
    "CreditRates",
    "PriceEntry",
    "PriceProblem",
    "PriceTable",
    "PriceTableError",
    "locate",
]

#: The columns a price table's header must name (in any order; extra columns are ignored).
COLUMNS: Final = ("provider", "country", "prefix", "network", "price", "unit")
#: The country value that makes a row the provider's default for every destination.
DEFAULT_COUNTRY: Final = "*"

_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")
_PREFIX_RE: Final = re.compile(r"^[0-9]{1,15}$")
# Look-alike codes people write for a region; named in the error to save a round trip.
_REGION_HINTS: Final = {"UK": "GB", "EL": "GR"}


def _check_unit(unit: str) -> str | None:
    """The normalised unit, or ``None`` when it is neither a currency code nor credits."""
    text = unit.strip()
    if text.lower() == CREDITS:
        return CREDITS
    upper = text.upper()
    return upper if _CURRENCY_RE.match(upper) else None


@attrs.frozen(slots=True, cache_hash=True)
class PriceEntry:
    """One row of a price table: what one part to a destination costs with a provider.

    The hash is cached because entries are used as keys of the quote's counters, once
    per recipient and provider.

    Args:
        provider: The provider's registered name.
        price: Price of one SMS part.
        unit: ISO 4217 currency code or ``"credits"``.
        country: ISO 3166 alpha-2 region, ``"*"`` for the provider's default, or ``None``.
        prefix: E.164 digits (no ``+``) the destination starts with, or ``None``.
        network: Informational operator name.
        line: Line of the CSV file the row came from, for messages.
    """

    provider: str
    price: Decimal
    unit: str = attrs.field(kw_only=True)
    country: str | None = attrs.field(default=None, kw_only=True)
    prefix: str | None = attrs.field(default=None, kw_only=True)
    network: str | None = attrs.field(default=None, kw_only=True)
    line: int | None = attrs.field(default=None, kw_only=True, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.country is None and self.prefix is None:
            raise ConfigurationError(
                f"price entry for {self.provider} needs a country or a prefix",
                provider=self.provider,
            )

    def cost(self, parts: int = 1) -> Cost:
        """The cost of ``parts`` parts at this entry's price."""
        return Cost(self.price * parts, self.unit)


@attrs.frozen(slots=True)
class PriceProblem:
    """One bad cell of a price table file.

    Args:
        source: The file name (or ``<stream>``).
        line: The 1-based line number.
        column: The offending column.
        value: The offending value as written.
        message: What is wrong with it.
    """

    source: str
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: column {self.column!r}, value {self.value!r}"
        return f"{where}: {self.message}"


class PriceTableError(ConfigurationError):
    """A price table file has bad rows; :attr:`problems` lists every one of them.

    Args:
        problems: Each bad cell with file, line, column and value.
    """

    def __init__(self, problems: Iterable[PriceProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{count} problem(s) in price table:\n{lines}")


@attrs.frozen(slots=True)
class _Index:
    """The lookup structures of one provider."""

    prefixes: dict[str, PriceEntry]
    lengths: tuple[int, ...]
    countries: dict[str, PriceEntry]
    default: PriceEntry | None


class PriceTable:
    """Prices per provider and destination, matched by longest prefix, then country.

    Args:
        entries: The rows. Two rows of one provider for the same prefix, the same
            country-only destination or two defaults are ambiguous.

    Raises:
        ConfigurationError: For an ambiguous pair of rows.
    """

    def __init__(self, entries: Iterable[PriceEntry]) -> None:
        self._entries = tuple(entries)
        builders: dict[str, tuple[dict[str, PriceEntry], dict[str, PriceEntry], list[PriceEntry]]]
        builders = {}
        for entry in self._entries:
            prefixes, countries, defaults = builders.setdefault(entry.provider, ({}, {}, []))
            if entry.prefix is not None:
                slot, key = prefixes, entry.prefix
            elif entry.country == DEFAULT_COUNTRY:
                defaults.append(entry)
                if len(defaults) > 1:
                    raise ConfigurationError(_clash(entry, defaults[0]), provider=entry.provider)
                continue
            else:
                assert entry.country is not None
                slot, key = countries, entry.country
            if key in slot:
                raise ConfigurationError(_clash(entry, slot[key]), provider=entry.provider)
            slot[key] = entry
        self._index = {
            name: _Index(
                prefixes,
                tuple(sorted({len(p) for p in prefixes}, reverse=True)),
                countries,
                defaults[0] if defaults else None,
            )
            for name, (prefixes, countries, defaults) in builders.items()
        }

    @classmethod
    def from_csv(cls, source: str | os.PathLike[str] | IO[str]) -> PriceTable:
        """Load a table from a CSV file (see ``docs/pricing.md`` for the format).

        Every row is checked before anything is raised, so one run reports every bad
        cell of the file.

        Args:
            source: A path, or an open text file.

        Returns:
            The table.

        Raises:
            PriceTableError: A :class:`~smsbridge.ConfigurationError` listing each bad cell
                with file, line, column and value.
            OSError: The file cannot be read.
        """
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            with path.open(newline="", encoding="utf-8-sig") as handle:
                return cls._parse(handle, str(path))
        return cls._parse(source, str(getattr(source, "name", "<stream>")))

    @classmethod
    def from_text(cls, text: str, *, name: str = "<text>") -> PriceTable:
        """Load a table from CSV text (handy in tests and notebooks).

        Raises:
            PriceTableError: As :meth:`from_csv`.
        """
        return cls._parse(io.StringIO(text), name)

    @classmethod
    def _parse(cls, handle: IO[str], name: str) -> PriceTable:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise PriceTableError([PriceProblem(name, 1, "header", "", "the file is empty")])
        columns = [cell.strip().lower() for cell in header]
        missing = [column for column in COLUMNS if column not in columns]
        if missing:
            raise PriceTableError(
                PriceProblem(name, 1, column, ",".join(header), "missing from the header")
                for column in missing
            )
        where = {column: columns.index(column) for column in COLUMNS}
        problems: list[PriceProblem] = []
        entries: list[PriceEntry] = []
        seen: dict[tuple[str, str], int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
                continue  # blank lines and comment lines
            row = {c: (cells[i].strip() if i < len(cells) else "") for c, i in where.items()}
            entry = _parse_row(row, name, line, problems)
            if entry is None:
                continue
            key = (entry.provider, f"+{entry.prefix}" if entry.prefix else str(entry.country))
            if key in seen:
                column = "prefix" if entry.prefix else "country"
                problems.append(
                    PriceProblem(
                        name,
                        line,
                        column,
                        row[column],
                        f"{entry.provider} already has a price for it on line {seen[key]}",
                    )
                )
                continue
            seen[key] = line
            entries.append(entry)
        if problems:
            raise PriceTableError(problems)
        return cls(entries)

    def __iter__(self) -> Iterator[PriceEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def providers(self) -> tuple[str, ...]:
        """Names of the providers the table prices, in first-row order."""
        return tuple(self._index)

    def price(self, provider: str, number: str, *, country: str | None = None) -> PriceEntry | None:
        """The row that prices ``number`` for ``provider``.

        The longest matching prefix row wins; otherwise the row for the number's country;
        otherwise the provider's ``*`` default.

        Args:
            provider: The provider's registered name.
            number: An E.164 number (``+`` optional).
            country: The number's region if the caller already knows it; otherwise it is
                worked out only when a country row could decide.

        Returns:
            The matching :class:`PriceEntry`, or ``None`` when nothing prices it.
        """
        index = self._index.get(provider)
        if index is None:
            return None
        digits = number[1:] if number.startswith("+") else number
        prefixes = index.prefixes
        for length in index.lengths:
            entry = prefixes.get(digits[:length])
            if entry is not None:
                return entry
        if index.countries:
            found = country if country is not None else region_of("+" + digits)
            if found is not None and (entry := index.countries.get(found)) is not None:
                return entry
        return index.default


def _clash(entry: PriceEntry, other: PriceEntry) -> str:
    what = f"prefix +{entry.prefix}" if entry.prefix else f"country {entry.country}"
    return f"{entry.provider} has two prices for {what} (lines {other.line} and {entry.line})"


def _parse_row(
    row: Mapping[str, str], name: str, line: int, problems: list[PriceProblem]
) -> PriceEntry | None:
    """One CSV row as an entry; each bad cell is appended to ``problems`` instead."""
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(PriceProblem(name, line, column, row[column], message))

    provider = row["provider"].lower()
    if not NAME_RE.match(provider):
        bad("provider", "a provider name is 2-32 lower-case letters, digits or _")
    country: str | None = row["country"].upper() or None
    known = country is None or country == DEFAULT_COUNTRY
    if not known and country not in phonenumbers.SUPPORTED_REGIONS:
        hint = _REGION_HINTS.get(country or "")
        bad(
            "country",
            "not an ISO 3166 alpha-2 region" + (f" (did you mean {hint}?)" if hint else ""),
        )
    prefix = row["prefix"].removeprefix("+").replace(" ", "") or None
    if prefix is not None and not _PREFIX_RE.match(prefix):
        bad("prefix", "an E.164 prefix is 1-15 digits")
    if prefix is None and country is None:
        bad("prefix", "a row needs a country, a prefix, or both")
    if prefix is not None and country == DEFAULT_COUNTRY:
        bad("prefix", "'*' is the provider's default: leave the prefix empty")
    price: Decimal | None = None
    try:
        price = Decimal(row["price"])
    except InvalidOperation:
        bad("price", "not a decimal number")
    else:
        if not price.is_finite() or price < 0:
            bad("price", "a price is a finite number, zero or more")
    unit = _check_unit(row["unit"])
    if unit is None:
        bad("unit", "a unit is an ISO 4217 currency code (EUR) or 'credits'")
    if len(problems) > before:
        return None
    assert price is not None and unit is not None
    return PriceEntry(
        provider,
        price,
        unit=unit,
        country=country,
        prefix=prefix,
        network=row["network"] or None,
        line=line,
    )
