"""Quotes: totals and breakdowns, unroutable recipients, cheapest(), export, streaming."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from smsbridge import (
    Batch,
    Capabilities,
    ConfigurationError,
    Cost,
    Message,
    ProviderError,
    ProviderOptions,
    Recipient,
    SendOptions,
    Template,
)
from smsbridge.pricing import (
    PROVIDER_API,
    TABLE,
    CreditRates,
    PriceTable,
    Quote,
    TablePrices,
    quote,
)
from smsbridge.router import LeastCost
from tests.pricing import SAMPLE_CSV, Alpha, Beta, Gamma, Quoting, make

UK_MOBILE = "+447700900123"
UK_LANDLINE = "+442079460000"
FRANCE = "+33612345678"
USA = "+12125550123"
RATES = CreditRates({"beta": ("0.03", "EUR")})
GSM_TWO_PARTS = "x" * 200
CYRILLIC = "Привет"


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.from_text(SAMPLE_CSV)


def providers() -> list[Any]:
    return [make(Alpha), make(Beta), make(Gamma)]


def reasons(result: Quote, provider: str) -> dict[str, int]:
    return {group.reason: group.count for group in result[provider].unroutable}


def test_mixed_destinations_gsm_multipart(table: PriceTable) -> None:
    message = Message([UK_MOBILE, UK_LANDLINE, FRANCE, USA], GSM_TWO_PARTS)
    result = quote(message, providers(), table=table, rates=RATES, currency="EUR")
    alpha = result["alpha"]
    assert [(r.country, r.recipients, r.parts, r.price_per_part) for r in alpha.rows] == [
        ("FR", 1, 2, Decimal("0.060")),
        ("GB", 1, 2, Decimal("0.035")),
        ("GB", 1, 2, Decimal("0.040")),
        ("US", 1, 2, Decimal("0.100")),
    ]
    assert alpha.total == Cost("0.470", "EUR")
    assert alpha.parts == 8 and alpha.recipients == 4
    beta = result["beta"]  # credits valued at 0.03 EUR each
    assert beta.total == Cost("0.204", "EUR")
    assert reasons(result, "beta") == {"no-price": 1}
    assert result["beta"].unroutable[0].examples == (USA,)
    gamma = result["gamma"]
    assert gamma.total == Cost("0.120", "GBP")
    assert any("gamma: prices in GBP are not converted to EUR" in n for n in result.notes)
    assert result.recipients == 4
    assert all(row.source == TABLE for item in result.providers for row in item.rows)


def test_templated_batch_in_two_languages(table: PriceTable) -> None:
    batch = Batch(
        [{"to": UK_MOBILE, "greeting": "Hello"}, {"to": FRANCE, "greeting": CYRILLIC}],
        template=Template("{greeting} " + "y" * 150),
    )
    result = quote(batch, [make(Alpha), make(Gamma)], table=table)
    rows = {(r.country, r.parts): r.total for r in result["alpha"].rows}
    # 156 GSM-7 characters fit one part; 157 UCS-2 characters need three (67 + 67 + 23).
    assert rows == {("GB", 1): Decimal("0.035"), ("FR", 3): Decimal("0.180")}
    assert reasons(result, "gamma") == {"no-unicode": 1}


def test_unroutable_reasons_are_counted_with_examples(table: PriceTable) -> None:
    batch = Batch(
        [
            Recipient(UK_MOBILE, {"name": "Ann"}),
            Recipient("nope", {"name": "Bob"}),
            Recipient("+4412", {"name": "Cy"}),
            Recipient(FRANCE, {}),
        ],
        template=Template("Hi {name}"),
    )
    result = quote(batch, [make(Alpha)], table=table)
    assert reasons(result, "alpha") == {"invalid-number": 2, "template": 1}
    invalid = next(g for g in result["alpha"].unroutable if g.reason == "invalid-number")
    assert invalid.examples == ("nope", "+4412")
    assert "not a valid phone number" in invalid.detail
    assert result["alpha"].recipients == 1 and result["alpha"].unroutable_count == 3


def test_forced_gsm_that_cannot_encode_is_unroutable(table: PriceTable) -> None:
    message = Message(UK_MOBILE, CYRILLIC, options=SendOptions(encoding="GSM-7"))
    result = quote(message, [make(Alpha)], table=table)
    assert reasons(result, "alpha") == {"encoding": 1}
    assert result.cheapest() is None


def test_max_parts_caps_per_provider(table: PriceTable) -> None:
    long_ucs2 = CYRILLIC * 50  # 300 UCS-2 units: 5 parts
    result = quote(Message([UK_MOBILE, FRANCE], long_ucs2), providers(), table=table)
    assert reasons(result, "alpha") == {"too-long": 2}
    assert "5 parts; alpha takes at most 3" in result["alpha"].unroutable[0].detail
    assert result["beta"].parts == 10
    capped = Message(UK_MOBILE, GSM_TWO_PARTS, options=SendOptions(max_parts=1))
    result = quote(capped, providers(), table=table)
    assert {name: reasons(result, name) for name in ("alpha", "beta")} == {
        "alpha": {"too-long": 1},
        "beta": {"too-long": 1},
    }


def test_cheapest_prefers_coverage_then_total(table: PriceTable) -> None:
    uk_only = Message([UK_MOBILE, UK_LANDLINE], "Hello")
    result = quote(uk_only, providers(), table=table, rates=RATES, currency="EUR")
    # alpha 0.075 EUR, beta 0.072 EUR: both reach everyone, beta is cheaper; gamma's GBP
    # total is not comparable in EUR and never wins.
    assert result["alpha"].total == Cost("0.075", "EUR")
    assert result["beta"].total == Cost("0.072", "EUR")
    assert result.cheapest() == "beta"
    everyone = Message([UK_MOBILE, USA], "Hello")
    result = quote(everyone, providers(), table=table, rates=RATES, currency="EUR")
    assert result.cheapest() == "alpha"  # the only one reaching the US number


def test_cheapest_without_currency_and_without_rates(table: PriceTable) -> None:
    result = quote(Message(UK_MOBILE, "Hello"), providers(), table=table)
    # EUR (alpha) and GBP (gamma) each once: the first in configured order is compared;
    # credits without a rate never win.
    assert result.comparison_unit() == "EUR"
    assert result.cheapest() == "alpha"
    assert result["beta"].total == Cost("1.2", "credits")
    only_gbp = quote(Message(UK_MOBILE, "Hello"), [make(Gamma)], table=table, currency="gbp")
    assert only_gbp.currency == "GBP" and only_gbp.cheapest() == "gamma"
    with pytest.raises(ConfigurationError, match="ISO 4217"):
        quote(Message(UK_MOBILE, "Hello"), [make(Gamma)], table=table, currency="euro")


def test_ties_keep_configured_order() -> None:
    same = PriceTable.from_text(
        "provider,country,prefix,network,price,unit\nalpha,GB,,,1,EUR\nbeta,GB,,,1,EUR\n"
    )
    result = quote(Message(UK_MOBILE, "Hi"), [make(Beta), make(Alpha)], table=same)
    assert result.cheapest() == "beta"


def test_rows_export_to_csv_and_json(table: PriceTable) -> None:
    message = Message([UK_MOBILE, FRANCE, "nope"], "Hello")
    result = quote(message, providers(), table=table, rates=RATES, currency="EUR")
    rows = list(result.rows())
    assert rows[0] == {
        "provider": "alpha",
        "country": "FR",
        "recipients": 1,
        "parts": 1,
        "price_per_part": "0.060",
        "total": "0.060",
        "unit": "EUR",
        "source": "table",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    assert out.getvalue().count("\n") == len(rows) + 1
    assert json.loads(json.dumps(rows)) == rows
    unroutable = list(result.unroutable_rows())
    assert {row["reason"] for row in unroutable} == {"invalid-number", "no-price"}


def test_provider_api_is_asked_once_per_country_and_parts(table: PriceTable) -> None:
    quoting = make(Quoting)
    message = Message([UK_MOBILE, UK_LANDLINE, FRANCE], "Hello")
    result = quote(message, [quoting, make(Alpha)], table=table, use_provider_api=True)
    assert len(quoting.calls) == 2
    assert all(len(call.to) == 1 for call in quoting.calls)
    rows = {(r.country, r.recipients): (r.total, r.source) for r in result["quoting"].rows}
    assert rows == {
        ("GB", 2): (Decimal("0.10"), PROVIDER_API),
        ("FR", 1): (Decimal("0.05"), PROVIDER_API),
    }
    assert result["alpha"].rows[0].source == TABLE
    assert "alpha: offers no quote operation; table prices used" in result.notes
    without_api = quote(message, [make(Quoting)], table=table)
    assert reasons(without_api, "quoting") == {"no-price": 3}


class Failing(Quoting):
    name: ClassVar[str] = "failing"
    capabilities: ClassVar[Capabilities] = Capabilities(quote=True)

    def quote(self, message: Message) -> Cost:
        raise ProviderError("no credit", provider=self.name, code="301")


def test_failed_provider_quote_is_unroutable_not_raised() -> None:
    result = quote(
        Message([UK_MOBILE, UK_LANDLINE], "Hi"), [make(Failing)], table=None, use_provider_api=True
    )
    assert reasons(result, "failing") == {"quote-failed": 2}
    assert "no credit" in result["failing"].unroutable[0].detail


def test_table_prices_drive_least_cost(table: PriceTable) -> None:
    alpha, beta, gamma = providers()
    prices = TablePrices(table, RATES, currency="EUR")
    message = Message([UK_MOBILE, UK_LANDLINE], "Hello")
    assert prices.price(alpha, message) == pytest.approx(0.075)
    assert prices.price(beta, message) == pytest.approx(0.072)
    assert prices.price(gamma, message) is None  # GBP is not EUR
    order = LeastCost(prices).order(message, [alpha, beta, gamma])
    assert [p.name for p in order] == ["beta", "alpha", "gamma"]
    assert prices.price(beta, Message(USA, "Hello")) is None
    assert prices.price(alpha, Message(UK_MOBILE, CYRILLIC * 50)) is None  # too long
    assert prices.price(gamma, Message(UK_MOBILE, CYRILLIC)) is None  # no unicode
    assert TablePrices(table).price(beta, Message(UK_MOBILE, "Hi")) == pytest.approx(1.2)


# -- national language tables ----------------------------------------------------------

TURKISH = (
    "Sayın müşterimiz, ağustos ayı faturanız düzenlenmiştir. Ödeme için son gün "
    "15 Eylül. Şubelerimizde ya da çağrı merkezimizde İşlem yapabilirsiniz."
)


def test_quote_counts_parts_with_the_routes_national_tables(table: PriceTable) -> None:
    plain = quote(Message(FRANCE, TURKISH), providers(), table=table, rates=RATES)
    assert [r.parts for r in plain["alpha"].rows] == [3]  # 144 UCS-2 units
    assert reasons(plain, "gamma") == {"no-unicode": 1}
    options = SendOptions(national_languages=("tr",))
    result = quote(Message(FRANCE, TURKISH, options=options), providers(), table=table)
    alpha = result["alpha"]
    assert [(r.parts, r.recipients) for r in alpha.rows] == [(1, 1)]
    assert alpha.total == Cost("0.060", "EUR")
    # 7-bit with the Turkish locking table: a GSM-only route no longer refuses it.
    assert reasons(result, "gamma") == {"no-price": 1}


def test_least_cost_prices_use_the_national_tables(table: PriceTable) -> None:
    alpha = providers()[0]
    prices = TablePrices(table, RATES, currency="EUR")
    long_text = TURKISH * 2  # 288 characters
    assert prices.price(alpha, Message(FRANCE, long_text)) is None  # 5 parts > 3
    options = SendOptions(national_languages=("tr",))
    # 288 septets with the Turkish IE: 2 parts of at most 149.
    assert prices.price(alpha, Message(FRANCE, long_text, options=options)) == pytest.approx(0.12)


def turkish_route(cls: type[Any]) -> Any:
    """A test provider whose account's route applies the Turkish tables (provider option)."""
    return cls(ProviderOptions(base_url="http://127.0.0.1:9", national_languages=["tr"]))


def test_a_routes_own_tables_count_for_that_provider_only(table: PriceTable) -> None:
    alpha, beta, gamma = turkish_route(Alpha), make(Beta), turkish_route(Gamma)
    assert (alpha.national_languages, beta.national_languages) == (("tr",), ())
    result = quote(Message([FRANCE, UK_MOBILE], TURKISH), [alpha, beta, gamma], table=table)
    assert [r.parts for r in result["alpha"].rows] == [1, 1]
    assert [r.parts for r in result["beta"].rows] == [3, 3]
    # Through its Turkish route the GSM-only provider can carry the text: priced for GB.
    assert [(r.country, r.parts) for r in result["gamma"].rows] == [("GB", 1)]
    assert reasons(result, "gamma") == {"no-price": 1}
    prices = TablePrices(table)
    assert prices.price(alpha, Message(FRANCE, TURKISH)) == pytest.approx(0.06)
    assert prices.price(make(Alpha), Message(FRANCE, TURKISH)) == pytest.approx(0.18)


def test_forced_gsm7_is_quoted_through_a_route_with_tables(table: PriceTable) -> None:
    options = SendOptions(encoding="GSM-7")
    message = Message(FRANCE, TURKISH, options=options)
    result = quote(message, [turkish_route(Alpha), make(Beta)], table=table)
    assert [r.parts for r in result["alpha"].rows] == [1]
    assert reasons(result, "beta") == {"encoding": 1}


def test_route_tables_are_checked_when_configured() -> None:
    with pytest.raises(ConfigurationError, match="'xx'"):
        Capabilities(national_languages=("tr", "xx"))
    with pytest.raises(ValueError, match="national_languages: unknown national language 'xx'"):
        ProviderOptions(base_url="http://127.0.0.1:9", national_languages=["xx"])
    assert Capabilities(national_languages="tr").as_dict()["national_languages"] == ["tr"]


# -- streaming -------------------------------------------------------------------------

# Bounded memory is shown two ways: the peak stays under a ceiling, and it does not grow
# with the batch (a quote of COUNT recipients peaks no higher than one of COUNT // 4, give
# or take a fixed margin). SMSBRIDGE_NIGHTLY=1 quotes the 200,000.
COUNT = 200_000 if os.environ.get("SMSBRIDGE_NIGHTLY") == "1" else 40_000
NAMES = ["Anna", "Luc", "Jürgen", "Sofía", "Mark", "Zoë", "Иван", "李"]


def recipients(count: int) -> Callable[[], Iterator[Recipient]]:
    def source() -> Iterator[Recipient]:
        # Calling codes of a single region: the test measures memory, not pattern matching.
        prefixes = ("+336120", "+4915123", "+346123")
        for i in range(count):
            number = f"{prefixes[i % 3]}{i % 100_000:05d}"
            yield Recipient(number, {"name": NAMES[i % len(NAMES)], "code": i % 1000})

    return source


def traced_quote(table: PriceTable, count: int) -> tuple[Quote, int, list[int]]:
    batch = Batch(recipients(count), template=Template("Hi {name}, your code is {code}."))
    seen: list[int] = []
    tracemalloc.start()
    try:
        result = quote(batch, providers(), table=table, rates=RATES, progress=seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, seen


@pytest.mark.slow
def test_streaming_quote_of_a_large_batch_stays_in_bounded_memory(table: PriceTable) -> None:
    _, small_peak, _ = traced_quote(table, COUNT // 4)
    result, peak, seen = traced_quote(table, COUNT)
    assert peak < 30 * 1024 * 1024
    # Four times the recipients, not four times the memory: no per-recipient state.
    assert peak < small_peak + 2 * 1024 * 1024, (small_peak, peak)
    assert result.recipients == COUNT
    assert seen[-1] == COUNT and len(seen) == COUNT // 10_000 + 1
    assert result["alpha"].recipients == COUNT
    assert result["beta"].recipients + result["beta"].unroutable_count == COUNT
    assert len(result["alpha"].rows) < 20  # counters, never a row per recipient
