"""Where a number goes: its E.164 form and ISO region, as a price table needs them.

Kept apart from the table because quotes, least-cost prices and the spend comparison all
locate numbers, and the fast path (a calling code with a single region needs no pattern
matching) is worth sharing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import phonenumbers

from smsbridge.errors import InvalidNumberError
from smsbridge.numbers import normalise

__all__ = ["locate", "region_of"]

# Country calling code -> its only region, for the codes that have one: most numbers
# then need no pattern matching to know their country.
_SINGLE_REGION: Final[Mapping[int, str]] = MappingProxyType(
    {
        code: regions[0]
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if len(regions) == 1 and regions[0] != "001"
    }
)


def locate(number: str, region: str | None = None) -> tuple[str, str | None]:
    """Normalise ``number`` as the bridge would before sending, and find its country.

    Args:
        number: The number as the user has it.
        region: Default region for national numbers.

    Returns:
        The E.164 number and its ISO region (``None`` for non-geographic numbers).

    Raises:
        InvalidNumberError: Exactly as :func:`smsbridge.normalise` raises it.
    """
    text = number.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or phonenumbers.is_possible_number_with_reason(parsed) not in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ):
        # Only a rejection takes the slow path: it raises with the bridge's own words.
        normalise(number, region)
        raise InvalidNumberError(  # pragma: no cover - normalise raised above
            f"{number!r} is not a valid phone number", field="to", value=number
        )
    code = parsed.country_code or 0  # parse() always sets it; the stubs allow None
    e164 = f"+{code}{phonenumbers.national_significant_number(parsed)}"
    return e164, _SINGLE_REGION.get(code) or _region(parsed)


def _region(parsed: phonenumbers.PhoneNumber) -> str | None:
    """The region of a parsed number whose calling code several regions may share."""
    found: str | None = phonenumbers.region_code_for_number(parsed)
    if found is None:
        # Possible but unassigned numbers (test ranges, new blocks) match no region's
        # patterns; the calling code's main region is the best guess a table can use.
        found = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return None if found in ("001", "ZZ") else found


def region_of(e164: str) -> str | None:
    """The ISO region of an E.164 number, or ``None`` when it has none (non-geographic)."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    return _SINGLE_REGION.get(parsed.country_code or 0) or _region(parsed)
