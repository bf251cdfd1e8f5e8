"""Phone-number normalisation with phonenumbers, per-number errors, de-duplication."""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import InvalidNumberError, NumberNormaliser, normalise, normalise_many


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 7700 900123", None, "+447700900123"),
        ("0044 7700 900123", None, "+447700900123"),
        ("07700 900123", "GB", "+447700900123"),
        ("(202) 555-0143", "us", "+12025550143"),
        ("+86 138 0013 8000", None, "+8613800138000"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_normalise(raw: str, region: str | None, expected: str) -> None:
    assert normalise(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("hello", "not a phone number"),
        ("07700 900123", "country calling code"),
        ("+44 12", "too short"),
        ("+999 123456789", "country calling code"),
        ("+44 7700 900123 45678 9", "too long"),
    ],
)
def test_invalid_numbers_name_value_and_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumberError) as info:
        normalise(raw)
    assert info.value.field == "to"
    assert info.value.value == raw
    assert reason in str(info.value)


def test_strict_requires_assigned_number() -> None:
    # +44 1632 960xxx is reserved for drama: possible length, not a valid assignment.
    assert normalise("+441632960001") == "+441632960001"
    with pytest.raises(InvalidNumberError, match="assigned"):
        normalise("+441632960001", strict=True)


def test_normalise_many_dedupes_after_normalisation_and_reports() -> None:
    kept, report = normalise_many(
        ["+447700900123", "07700900123", "nonsense", "0044 7700 900123", "+33612345678", ""],
        "GB",
    )
    assert kept == ["+447700900123", "+33612345678"]
    assert report.imported == 2
    assert report.duplicates == 2
    assert [(pos, num) for pos, num, _ in report.invalid] == [(3, "nonsense"), (6, "")]
    assert report.summary() == "2 imported, 2 duplicates and 2 invalid removed"


def test_unique_streams() -> None:
    normaliser = NumberNormaliser("GB")

    def numbers() -> Iterator[str]:
        yield "+447700900123"
        raise AssertionError("consumed too far")

    stream = normaliser.unique(numbers())
    assert next(stream) == "+447700900123"


@given(st.text(max_size=30))
def test_normalise_returns_e164_or_raises_typed_error(text: str) -> None:
    try:
        result = normalise(text, "GB")
    except InvalidNumberError:
        return
    assert result.startswith("+") and result[1:].isdigit()


def full_parse_verdict(text: str) -> str:
    """What phonenumbers' full parse makes of ``text``: its E.164 form, or why not."""
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return "unparseable"
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return f"impossible {possible}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@given(
    st.one_of(
        st.tuples(st.sampled_from(_CODES), st.text("0123456789", min_size=0, max_size=16)).map(
            lambda pair: f"+{pair[0]}{pair[1]}"
        ),
        st.text("0123456789", min_size=3, max_size=18).map(lambda digits: "+" + digits),
    )
)
def test_plain_e164_shortcut_agrees_with_the_full_parse(text: str) -> None:
    # The shortcut for plain +<digits> numbers must give exactly the full parse's answer.
    verdict = full_parse_verdict(text)
    try:
        got = normalise(text)
    except InvalidNumberError:
        assert verdict != text
    else:
        assert got == verdict


@pytest.mark.parametrize(
    "text",
    ["+4407700900123", "+12025550143", "+112025550143", "+390612345678", "+80012345678"],
)
def test_plain_e164_numbers_with_national_prefixes_or_zeros(text: str) -> None:
    assert normalise(text) == full_parse_verdict(text)


def test_numbers_possible_only_locally_are_refused() -> None:
    # GB 07700 is an exchange-local length: no gateway can reach it without its area code.
    with pytest.raises(InvalidNumberError, match="local number") as caught:
        normalise("07700", region="GB")
    assert caught.value.value == "07700"
    with pytest.raises(InvalidNumberError):
        normalise("+4407700")
