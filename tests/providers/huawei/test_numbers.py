"""Group SMS Assistant import rules: +86 normalisation, invalid and duplicate removal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsbridge import InvalidNumberError
from smsbridge_huawei import import_numbers
from smsbridge_huawei.numbers import normalise_number


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("13112345678", "+8613112345678"),
        ("8613112345678", "+8613112345678"),
        ("+8613112345678", "+8613112345678"),
        ("131 1234-5678", "+8613112345678"),
        ("+2412000000", "+2412000000"),
        ("+44 7700 900123", "+447700900123"),
    ],
)
def test_normalisation(given: str, expected: str) -> None:
    assert normalise_number(given) == expected


@pytest.mark.parametrize(
    "given",
    ["23112345678", "1311234567", "1234123456789", "861311234567", "447700900123", "",
     "abc", "+99912345", "008613112345678"],
)  # fmt: skip
def test_invalid_numbers(given: str) -> None:
    with pytest.raises(InvalidNumberError):
        normalise_number(given)


def test_import_report_counts_and_streams() -> None:
    consumed: list[str] = []

    def source() -> Iterator[str]:
        for number in ["13112345678", "8613112345678", "+8613112345678", "23112345678",
                       "+447700900123", "131123456", "+447700900123", "13212345678"]:  # fmt: skip
            consumed.append(number)
            yield number

    numbers, report = import_numbers(source())
    assert consumed == []  # nothing read before the caller iterates
    first = next(numbers)
    assert first == "+8613112345678" and len(consumed) == 1
    rest = list(numbers)
    assert rest == ["+447700900123", "+8613212345678"]
    assert (report.imported, report.duplicates, report.invalid) == (3, 3, 2)
    assert report.summary() == "3 imported, 3 duplicates and 2 invalid removed, not charged"
    assert [p for p, _, _ in report.invalid_samples] == [4, 6]
