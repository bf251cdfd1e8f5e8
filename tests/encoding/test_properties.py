"""Properties of segmentation over arbitrary text, checked against independent models.

The models here share no code with the engine: unit costs come from the character sets
spelled out in ``tests.strategies`` and from the code point value, and the minimal part
count comes from dynamic programming over all possible cut positions rather than from a
greedy fill.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smsbridge.encoding import (
    GSM7,
    GSM_EQUIVALENTS,
    UCS2,
    decode_septets,
    encode_septets,
    gsm_septets,
    pack_septets,
    segment,
    transliterate,
    unpack_septets,
)
from tests.strategies import (
    GSM_DEFAULT,
    GSM_EXTENSION,
    gsm_extension_heavy_text,
    gsm_text,
    sms_text,
    ucs2_text,
)

GSM = frozenset(GSM_DEFAULT + GSM_EXTENSION)
EXTENSION = frozenset(GSM_EXTENSION)
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def costs(text: str, encoding: str) -> list[int]:
    """Units per code point: extension chars cost 2 septets, astral chars 2 UTF-16 units."""
    if encoding == GSM7:
        return [2 if c in EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def minimal_parts(unit_costs: list[int], single: int, multi: int) -> int:
    """Fewest parts by dynamic programming over every cut position (no greedy choice)."""
    total = sum(unit_costs)
    if not unit_costs:
        return 0
    if total <= single:
        return 1
    infinity = len(unit_costs) + 1
    best = [0] + [infinity] * len(unit_costs)  # best[i]: fewest parts for the first i
    for end in range(1, len(unit_costs) + 1):
        size = 0
        for start in range(end - 1, -1, -1):
            size += unit_costs[start]
            if size > multi:
                break
            best[end] = min(best[end], best[start] + 1)
    return best[-1]


@given(sms_text())
@example("a" * 161)
@example("a" * 152 + "€" + "b")
@example("ж" * 66 + "\U0001f600" + "ж")
@example("")
def test_segmentation_invariants(text: str) -> None:
    result = segment(text)
    expected_encoding = GSM7 if set(text) <= GSM else UCS2
    assert result.encoding == expected_encoding
    assert result.text == text
    assert "".join(result.parts) == text
    assert all(result.parts)

    unit_costs = costs(text, result.encoding)
    assert result.units == sum(unit_costs)
    if result.encoding == UCS2:
        assert result.units == len(text.encode("utf-16-le")) // 2
    else:
        assert result.units == len(encode_septets(text))

    single, multi = LIMITS[result.encoding]
    limit = single if result.part_count == 1 else multi
    assert len(result.units_per_part) == result.part_count
    for part, units in zip(result.parts, result.units_per_part, strict=True):
        assert units == sum(costs(part, result.encoding))
        assert units <= limit
    assert result.part_count == minimal_parts(unit_costs, single, multi)


@given(sms_text())
def test_parts_are_filled_before_starting_the_next(text: str) -> None:
    result = segment(text)
    if result.part_count < 2:
        return
    _, multi = LIMITS[result.encoding]
    for units, following in zip(result.units_per_part, result.parts[1:], strict=False):
        # The next character did not fit: only a two-unit char may leave one unit free.
        assert units + costs(following[0], result.encoding)[0] > multi


@given(sms_text())
def test_non_gsm_lists_the_chars_that_forced_ucs2(text: str) -> None:
    result = segment(text)
    expected = tuple(dict.fromkeys(c for c in text if c not in GSM))
    assert result.non_gsm == expected
    assert (result.encoding == UCS2) == bool(expected)


@given(sms_text().filter(bool))
def test_remaining_is_exact(text: str) -> None:
    result = segment(text)
    filler = "a"
    assert segment(text + filler * result.remaining).part_count == result.part_count
    assert segment(text + filler * (result.remaining + 1)).part_count == result.part_count + 1


@given(sms_text())
def test_forced_ucs2_always_works(text: str) -> None:
    result = segment(text, encoding="UCS-2")
    assert result.encoding == UCS2
    assert "".join(result.parts) == text
    assert result.units == len(text.encode("utf-16-le")) // 2
    assert result.part_count == minimal_parts(costs(text, UCS2), 70, 67)


@given(ucs2_text())
def test_forced_gsm_rejects_the_first_non_gsm_char(text: str) -> None:
    index = next(i for i, c in enumerate(text) if c not in GSM)
    with pytest.raises(ValueError, match=f"at index {index} "):
        segment(text, encoding="GSM-7")


coverable_char = st.sampled_from(sorted(GSM_EQUIVALENTS))


@given(st.text(st.one_of(st.sampled_from(sorted(GSM)), coverable_char), max_size=400))
def test_transliteration_of_covered_text_is_gsm(text: str) -> None:
    result = segment(text, transliterate=True)
    converted, replaced = transliterate(text)
    assert set(converted) <= GSM
    assert result.encoding == GSM7
    assert result.text == converted
    assert "".join(result.parts) == converted
    present = tuple(dict.fromkeys(c for c in text if c in GSM_EQUIVALENTS))
    assert replaced == tuple((c, GSM_EQUIVALENTS[c]) for c in present)
    assert result.replaced == (replaced if set(text) - GSM else ())
    assert result.part_count == minimal_parts(costs(converted, GSM7), 160, 153)


@given(ucs2_text())
def test_transliteration_never_half_applies(text: str) -> None:
    result = segment(text, transliterate=True)
    if result.encoding == UCS2:
        assert result.text == text
        assert result.replaced == ()
    else:
        assert all(c in GSM or c in GSM_EQUIVALENTS for c in text)


@given(gsm_text())
def test_septet_codec_round_trips(text: str) -> None:
    septets = encode_septets(text)
    assert len(septets) == gsm_septets(text) == segment(text).units
    assert decode_septets(septets) == text


@given(gsm_extension_heavy_text(), st.integers(min_value=0, max_value=6))
def test_packing_round_trips(text: str, fill_bits: int) -> None:
    septets = encode_septets(text)
    packed = pack_septets(septets, fill_bits=fill_bits)
    assert len(packed) == (7 * len(septets) + fill_bits + 7) // 8
    assert unpack_septets(packed, len(septets), fill_bits=fill_bits) == septets
