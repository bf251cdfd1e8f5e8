"""Price tables: CSV parsing with every problem reported, matching, credit rates."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import ConfigurationError, Cost, InvalidNumberError
from smsbridge.pricing import CreditRates, PriceEntry, PriceTable, PriceTableError, locate
from tests.pricing import SAMPLE_CSV

HEADER = "provider,country,prefix,network,price,unit\n"


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.from_text(SAMPLE_CSV)


def test_good_file_loads_every_row(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(SAMPLE_CSV, encoding="utf-8")
    loaded = PriceTable.from_csv(path)
    assert len(loaded) == 7
    assert loaded.providers == ("alpha", "beta", "gamma")
    mobile = next(entry for entry in loaded if entry.prefix == "447")
    assert mobile == PriceEntry(
        "alpha", Decimal("0.035"), unit="EUR", prefix="447", network="UK mobile"
    )
    assert mobile.line == 3
    assert mobile.cost(3) == Cost("0.105", "EUR")


def test_open_file_and_tolerated_spelling() -> None:
    text = (
        "Unit,Price,Network,Prefix,Country,Provider,comment\n"
        "# a comment line\n"
        "\n"
        "credits, 2 ,,+44 7,, BulkSMS ,ignored\n"
        "eur,0.05,,,de,bulksms,\n"
    )
    loaded = PriceTable.from_csv(io.StringIO(text))
    first, second = loaded
    assert (first.provider, first.prefix, first.unit, first.price) == (
        "bulksms",
        "447",
        "credits",
        Decimal(2),
    )
    assert (second.country, second.unit, second.line) == ("DE", "EUR", 5)


def test_every_bad_row_is_reported_with_line_column_and_value() -> None:
    text = HEADER + (
        "alpha,GB,,,0.04,EUR\n"  # line 2: fine
        "Alpha!,GB,,,0.04,EUR\n"  # line 3: provider
        "alpha,UK,,,0.04,EUR\n"  # line 4: country, with a suggestion
        "alpha,,44x,,0.04,EUR\n"  # line 5: prefix
        "alpha,,,,0.04,EUR\n"  # line 6: neither country nor prefix
        "alpha,FR,,,cheap,EUR\n"  # line 7: price
        "alpha,DE,,,-1,EUR\n"  # line 8: negative price
        "alpha,ES,,,0.04,euros\n"  # line 9: unit
        "alpha,*,33,,0.04,EUR\n"  # line 10: default with a prefix
        "alpha,gb,,,0.05,EUR\n"  # line 11: duplicate of line 2
        "alpha,IT,,,NaN,EUR\n"  # line 12: not finite
    )
    with pytest.raises(PriceTableError) as caught:
        PriceTable.from_text(text, name="prices.csv")
    problems = [(p.line, p.column, p.value) for p in caught.value.problems]
    assert problems == [
        (3, "provider", "Alpha!"),
        (4, "country", "UK"),
        (5, "prefix", "44x"),
        (6, "prefix", ""),
        (7, "price", "cheap"),
        (8, "price", "-1"),
        (9, "unit", "euros"),
        (10, "prefix", "33"),
        (11, "country", "gb"),
        (12, "price", "NaN"),
    ]
    error = caught.value
    assert isinstance(error, ConfigurationError)
    assert "prices.csv:4: column 'country', value 'UK'" in str(error)
    assert "did you mean GB?" in str(error)
    assert "already has a price for it on line 2" in str(error)
    assert str(error).startswith("10 problem(s)")


def test_missing_header_column_and_empty_file() -> None:
    with pytest.raises(PriceTableError) as caught:
        PriceTable.from_text("provider,country,prefix,price\nalpha,GB,,0.1\n")
    assert [(p.line, p.column) for p in caught.value.problems] == [(1, "network"), (1, "unit")]
    with pytest.raises(PriceTableError, match="empty"):
        PriceTable.from_text("")


def test_ambiguous_entries_are_refused_by_the_constructor() -> None:
    one = PriceEntry("alpha", Decimal(1), unit="EUR", country="*", line=2)
    two = PriceEntry("alpha", Decimal(2), unit="EUR", country="*", line=3)
    with pytest.raises(ConfigurationError, match="lines 2 and 3"):
        PriceTable([one, two])
    with pytest.raises(ConfigurationError, match="country or a prefix"):
        PriceEntry("alpha", Decimal(1), unit="EUR")


def test_longest_prefix_wins(table: PriceTable) -> None:
    entry = table.price("alpha", "+447700900123")
    assert entry is not None and entry.prefix == "447"


def test_country_row_when_no_prefix_matches(table: PriceTable) -> None:
    landline = table.price("alpha", "+442079460000")
    assert landline is not None and landline.country == "GB"
    assert landline.price == Decimal("0.040")
    french = table.price("beta", "33612345678")  # the + is optional
    assert french is not None and french.country == "FR"


def test_prefix_row_beats_country_row() -> None:
    loaded = PriceTable.from_text(HEADER + "p1,GB,,,0.5,EUR\np1,,4420,,0.9,EUR\n")
    entry = loaded.price("p1", "+442079460000")
    assert entry is not None and entry.prefix == "4420"


def test_star_is_the_default_and_missing_default_is_none(table: PriceTable) -> None:
    entry = table.price("alpha", "+12125550123")
    assert entry is not None and entry.country == "*"
    assert table.price("beta", "+12125550123") is None
    assert table.price("nobody", "+447700900123") is None


def test_country_of_shared_calling_codes() -> None:
    loaded = PriceTable.from_text(HEADER + "p1,JE,,,0.5,EUR\np1,GB,,,0.1,EUR\n")
    jersey = loaded.price("p1", "+441534123456")
    assert jersey is not None and jersey.country == "JE"
    london = loaded.price("p1", "+442079460000")
    assert london is not None and london.country == "GB"


def test_locate_normalises_like_the_bridge() -> None:
    assert locate("0044 7700 900123") == ("+447700900123", "GB")
    assert locate("07700 900123", "gb") == ("+447700900123", "GB")
    assert locate("+1 212 555 0123") == ("+12125550123", "US")
    assert locate("+80012345678") == ("+80012345678", None)
    with pytest.raises(InvalidNumberError, match="not a valid phone number"):
        locate("not a number")
    with pytest.raises(InvalidNumberError, match="too short"):
        locate("+4412")


def test_credit_rates_convert_only_credits() -> None:
    rates = CreditRates({"beta": ("0.03", "eur"), "alpha": Cost("0.5", "GBP")})
    assert rates.rate("beta") == Cost("0.03", "EUR")
    assert rates.convert("beta", Decimal("1.2"), "credits") == (Decimal("0.036"), "EUR")
    assert rates.convert("beta", Decimal("1.2"), "GBP") == (Decimal("1.2"), "GBP")
    assert rates.convert("gamma", Decimal(2), "credits") == (Decimal(2), "credits")


@pytest.mark.parametrize(
    ("rate", "match"),
    [(("0", "EUR"), "positive"), (("x", "EUR"), "decimal"), (("1", "euro"), "ISO 4217")],
)
def test_bad_credit_rates(rate: tuple[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        CreditRates({"beta": rate})


# -- property: the dict-per-length lookup equals a brute-force longest-prefix scan --------

prefixes = st.text(alphabet="0123456789", min_size=1, max_size=6)


def _brute_force(rows: dict[str, Decimal], default: Decimal | None, digits: str) -> Decimal | None:
    matching = [p for p in rows if digits.startswith(p)]
    if not matching:
        return default
    return rows[max(matching, key=len)]


@given(
    rows=st.dictionaries(prefixes, st.integers(0, 10_000).map(Decimal), max_size=30),
    default=st.none() | st.integers(0, 10_000).map(Decimal),
    numbers=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=15), max_size=30),
)
def test_prefix_matching_equals_brute_force(
    rows: dict[str, Decimal], default: Decimal | None, numbers: list[str]
) -> None:
    entries = [PriceEntry("p1", price, unit="EUR", prefix=p) for p, price in rows.items()]
    if default is not None:
        entries.append(PriceEntry("p1", default, unit="EUR", country="*"))
    loaded = PriceTable(entries)
    for digits in numbers + [p + "123" for p in rows]:
        entry = loaded.price("p1", "+" + digits)
        assert (entry.price if entry else None) == _brute_force(rows, default, digits)
