"""Properties of national language segmentation, checked against independent models.

The part count is checked against a dynamic programme over cut positions for every pair
of tables the allowed languages offer, with per-character costs taken from the codec;
the codec itself is checked against the standard in ``test_national.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smsbridge.encoding import GSM7, UCS2, pack_septets, segment, unpack_septets
from smsbridge.encoding.national import (
    NATIONAL_LANGUAGES,
    charset,
    decode_national,
    encode_national,
)
from tests.strategies import national_case

ESC = 0x1B
# Septets per part: (one part, each of several) by number of shift tables in the UDH.
CAPACITY = {1: (155, 149), 2: (152, 146)}


def pairs(codes: tuple[str, ...]) -> list[tuple[str | None, str | None]]:
    """Every pair of tables the languages offer, at least one of them national."""
    lockings = [None, *(c for c in codes if NATIONAL_LANGUAGES[c].locking is not None)]
    singles = [None, *codes]
    return [(lk, sg) for lk in lockings for sg in singles if (lk, sg) != (None, None)]


def costs(text: str, locking: str | None, single: str | None) -> list[int] | None:
    """Septets of each character with a pair of tables, or None if one cannot be sent."""
    chars = charset(locking, single)
    out = []
    for char in text:
        if char in chars.direct:
            out.append(1)
        elif char in chars.escaped:
            out.append(2)
        else:
            return None
    return out


def minimal_parts(unit_costs: list[int], single: int, multi: int) -> int:
    """Fewest parts over all cut positions.

    ``best[i]`` (fewest parts for the first i characters) never decreases with i, so the
    best last part is the longest one that fits: the earliest feasible start.
    """
    if not unit_costs:
        return 0
    if sum(unit_costs) <= single:
        return 1
    best = [0] * (len(unit_costs) + 1)
    start = window = 0
    for end in range(1, len(unit_costs) + 1):
        window += unit_costs[end - 1]
        while window > multi:
            window -= unit_costs[start]
            start += 1
        best[end] = best[start] + 1
    return best[-1]


@given(national_case())
@example((("tr",), "è" + "a" * 147 + "ş" + "b" * 100))
@example((("pt",), "|" * 150))
@example((("hi",), "।" * 76))
@example((("es",), ""))
def test_national_segmentation_is_optimal_and_lossless(case: tuple[tuple[str, ...], str]) -> None:
    codes, text = case
    result = segment(text, national_languages=codes)
    assert "".join(result.parts) == text and all(result.parts)
    baseline = segment(text)
    ucs2 = segment(text, encoding="UCS-2")
    # Never more parts than GSM-7 or UCS-2 would take.
    assert result.part_count <= baseline.part_count <= ucs2.part_count

    found = [
        minimal_parts(c, *CAPACITY[(lk is not None) + (sg is not None)])
        for lk, sg in pairs(codes)
        if (c := costs(text, lk, sg)) is not None
    ]
    assert result.part_count == min([baseline.part_count, *found])
    if result.shift_tables:
        # Tables are used only when they save a part, and the result names them.
        assert result.encoding == GSM7 and result.part_count < baseline.part_count
        lk, sg = result.locking_shift, result.single_shift
        septets = encode_national(text, locking=lk, single=sg)
        assert decode_national(septets, locking=lk, single=sg) == text
        assert result.units == len(septets)
        single, multi = CAPACITY[result.shift_tables]
        limit = multi if result.is_multipart else single
        pieces = [encode_national(p, locking=lk, single=sg) for p in result.parts]
        # Encoding part by part gives the same septets: no escape was cut in two.
        assert b"".join(pieces) == septets
        assert [len(p) for p in pieces] == list(result.units_per_part)
        assert all(len(p) <= limit for p in pieces)
        assert result.udh_octets == (1 + 3 * result.shift_tables + 5 * result.is_multipart)
    else:
        assert result == baseline


@given(national_case(), st.integers(min_value=0, max_value=6))
def test_codec_round_trips_through_packing(case: tuple[tuple[str, ...], str], fill: int) -> None:
    codes, text = case
    for locking, single in pairs(codes):
        try:
            septets = encode_national(text, locking=locking, single=single)
        except ValueError:
            continue
        unit_costs = costs(text, locking, single)
        assert unit_costs is not None and len(septets) == sum(unit_costs)
        assert max(septets, default=0) < 0x80
        packed = pack_septets(septets, fill_bits=fill)
        unpacked = unpack_septets(packed, len(septets), fill_bits=fill)
        assert decode_national(unpacked, locking=locking, single=single) == text


@given(national_case())
def test_forced_encodings_with_tables(case: tuple[tuple[str, ...], str]) -> None:
    codes, text = case
    assert segment(text, encoding="UCS-2", national_languages=codes).encoding == UCS2
    coverable = any(costs(text, lk, sg) is not None for lk, sg in [(None, None), *pairs(codes)])
    try:
        forced = segment(text, encoding="GSM-7", national_languages=codes)
    except ValueError:
        assert not coverable
    else:
        assert coverable and forced.encoding == GSM7
        lk, sg = forced.locking_shift, forced.single_shift
        assert (
            decode_national(encode_national(text, locking=lk, single=sg), locking=lk, single=sg)
            == text
        )


@given(national_case())
@example((("tr",), "Şifre: 1"))
@example((("tr",), "ş" + "a" * 155))
def test_with_transliteration_tables_never_cost_more(case: tuple[tuple[str, ...], str]) -> None:
    codes, text = case
    result = segment(text, transliterate=True, national_languages=codes)
    without = segment(text, transliterate=True)
    assert result.part_count <= without.part_count
    if result.shift_tables:
        # The tables carry the text as written, never a transliteration of it.
        assert result.text == text and result.replaced == ()
        assert result.part_count <= segment(text, encoding="UCS-2").part_count
    else:
        assert result == without


@given(
    st.binary(max_size=200),
    st.sampled_from([None, *(c for c, lang in NATIONAL_LANGUAGES.items() if lang.locking)]),
    st.sampled_from([None, *NATIONAL_LANGUAGES]),
)
def test_decoding_anything_gives_text_or_a_value_error(
    data: bytes, locking: str | None, single: str | None
) -> None:
    # Invalid input is a byte above 0x7F or a trailing lone ESC, and nothing else.
    bad = max(data, default=0) > 0x7F or (len(data) - len(data.rstrip(b"\x1b"))) % 2 == 1
    if bad:
        with pytest.raises(ValueError, match=r"septet|ESC"):
            decode_national(data, locking=locking, single=single)
    else:
        text = decode_national(data, locking=locking, single=single)
        assert isinstance(text, str) and len(text) <= len(data)
