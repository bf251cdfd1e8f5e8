"""The substitution hint: UCS-2 forced only by characters with a GSM-7 equivalent."""

from __future__ import annotations

from decimal import Decimal

from smsbridge import Cost, Message, SendOptions, segment
from smsbridge.pricing import (
    CreditRates,
    PriceTable,
    ProviderSaving,
    Substitution,
    quote,
    substitution,
)
from smsbridge.pricing.hints import HintTally
from tests.pricing import SAMPLE_CSV, Alpha, Beta, make

# 100 characters with ’ and –: 2 UCS-2 parts as written, 1 GSM-7 part once replaced.
TEXT = (
    "We’re open 9–17 on Saturday. "
    + "See you soon at the shop, bring your card with you. "
    + "x" * 19
)


def test_text_is_two_ucs2_parts_but_one_gsm_part() -> None:
    assert len(TEXT) == 100
    assert segment(TEXT).part_count == 2
    assert segment(TEXT, transliterate=True).part_count == 1


def test_substitution_names_the_characters() -> None:
    found = substitution(TEXT)
    assert found == Substitution(2, 1, (("’", "'"), ("–", "-")))


def test_no_hint_when_not_applicable() -> None:
    assert substitution("Plain GSM text") is None
    assert substitution("Привет ’") is None  # Cyrillic has no equivalent: UCS-2 anyway
    assert substitution(TEXT, transliterate=True) is None  # already transliterated
    assert substitution(TEXT, encoding="UCS-2") is None  # the sender forced UCS-2


def test_quote_shows_parts_and_savings_per_provider() -> None:
    table = PriceTable.from_text(SAMPLE_CSV)
    rates = CreditRates({"beta": ("0.03", "EUR")})
    message = Message(["+447700900123", "+33612345678"], TEXT)
    result = quote(message, [make(Alpha), make(Beta)], table=table, rates=rates)
    hint = result.hint
    assert hint is not None
    assert hint.replaced == (("’", "'"), ("–", "-"))
    assert (hint.recipients, hint.parts, hint.parts_transliterated) == (2, 4, 2)
    assert hint.savings == (
        ProviderSaving("alpha", Cost("0.190", "EUR"), Cost("0.095", "EUR")),
        ProviderSaving("beta", Cost("0.132", "EUR"), Cost("0.066", "EUR")),
    )
    assert hint.savings[0].saving == Cost("0.095", "EUR")
    text = hint.explain()
    assert "'’' (U+2019)" in text and "4 parts -> 2 parts" in text
    assert "alpha: 0.190 EUR -> 0.095 EUR (saves 0.095 EUR)" in text


def test_quote_without_hint_when_transliteration_is_on() -> None:
    table = PriceTable.from_text(SAMPLE_CSV)
    message = Message("+447700900123", TEXT, options=SendOptions(transliterate=True))
    result = quote(message, [make(Alpha)], table=table)
    assert result.hint is None
    assert result["alpha"].total == Cost(Decimal("0.035"), "EUR")


def test_tally_is_empty_until_something_is_added() -> None:
    tally = HintTally()
    assert tally.hint() is None
    tally.add(Substitution(3, 2, (("…", "..."),)), count=10)
    tally.add(Substitution(2, 1, (("…", "..."), ("“", '"'))))
    hint = tally.hint()
    assert hint is not None
    assert (hint.recipients, hint.parts, hint.parts_transliterated) == (11, 32, 21)
    assert hint.replaced == (("…", "..."), ("“", '"'))
