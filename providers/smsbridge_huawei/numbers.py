"""Recipient import rules of Huawei's Group SMS Assistant, as a streaming function.

The platform normalises each number first, then removes invalid ones and duplicates:

* 11 digits starting with ``1`` is a Chinese mainland number: ``+86`` is prefixed;
* 13 digits starting with ``86``: ``+`` is prefixed;
* anything else without a leading ``+`` is invalid;
* numbers with ``+`` must be ``+{CC}{NDC}{SN}``, checked with ``phonenumbers``.

Duplicates (after normalisation) keep their first occurrence. The report reads like the
console's: "N imported, M duplicates and K invalid removed, not charged".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import attrs

from smsbridge import InvalidNumberError, NumberNormaliser

__all__ = ["ImportReport", "import_numbers", "normalise_number"]

_SEPARATORS_RE = re.compile(r"[\s\-().]")
_MAX_SAMPLES = 100


def normalise_number(number: str, *, strict: bool = False) -> str:
    """One number under the Group SMS Assistant rules, in E.164.

    Args:
        number: As imported (spaces, dashes, dots and parentheses are ignored).
        strict: Also require an assigned number (``phonenumbers.is_valid_number``).

    Raises:
        InvalidNumberError: Naming the number and the rule it breaks.
    """
    if not isinstance(number, str):
        raise InvalidNumberError(
            f"a phone number must be a str, not {type(number).__name__}",
            field="to",
            value=number,
            code="invalid-number",
        )
    text = _SEPARATORS_RE.sub("", number)
    if not text.startswith("+"):
        if not text.isascii() or not text.isdigit():
            reason = "not a number"
        elif len(text) == 11 and text.startswith("1"):
            text = "+86" + text
            reason = ""
        elif len(text) == 13 and text.startswith("86"):
            text = "+" + text
            reason = ""
        else:
            reason = (
                "without + a number must be 11 digits starting with 1 or 13 digits starting with 86"
            )
        if reason:
            raise InvalidNumberError(
                f"{number!r} is invalid: {reason}", field="to", value=number, code="invalid-number"
            )
    return NumberNormaliser(None, strict)(text)


@attrs.define
class ImportReport:
    """What an import kept and removed. Filled while the numbers are consumed.

    Attributes:
        imported: Numbers kept.
        duplicates: Numbers removed because the same number came earlier.
        invalid: Numbers removed as invalid.
        invalid_samples: ``(position, number, reason)`` of the first 100 invalid numbers
            (1-based positions), to show the user without keeping a million of them.
    """

    imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    invalid_samples: list[tuple[int, str, str]] = attrs.field(factory=list)

    @property
    def removed(self) -> int:
        """Numbers removed (and so not charged)."""
        return self.duplicates + self.invalid

    def summary(self) -> str:
        """The one-line import report."""
        return (
            f"{self.imported} imported, {self.duplicates} duplicates and {self.invalid} "
            "invalid removed, not charged"
        )

    def __str__(self) -> str:
        return self.summary()


def import_numbers(
    numbers: Iterable[str], *, strict: bool = False
) -> tuple[Iterator[str], ImportReport]:
    """Normalise, validate and de-duplicate numbers, streaming.

    The iterator yields each kept number once, in E.164, in input order; the report is
    updated as it is consumed, so read it after exhausting the iterator. Memory holds only
    the set of numbers already seen (as integers).

    Args:
        numbers: Any iterable of numbers as imported.
        strict: Also require numbers assigned in their numbering plan.

    Returns:
        ``(kept numbers, report)``.
    """
    report = ImportReport()

    def run() -> Iterator[str]:
        seen: set[int] = set()
        for position, number in enumerate(numbers, start=1):
            try:
                e164 = normalise_number(number, strict=strict)
            except InvalidNumberError as exc:
                report.invalid += 1
                if len(report.invalid_samples) < _MAX_SAMPLES:
                    report.invalid_samples.append((position, str(number), exc.message))
                continue
            key = int(e164[1:])
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            report.imported += 1
            yield e164

    return run(), report
