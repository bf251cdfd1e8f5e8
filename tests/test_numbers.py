"""Phone-number normalisation with phonenumbers, per-number errors, de-duplication."""

from __future__ import annotations

from collections.abc import Iterator

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
