"""Segmentation rules at their exact boundaries, and the Segmentation API."""

from __future__ import annotations

import attrs
import pytest

from smsbridge import encoding
from smsbridge.encoding import (
    GSM7,
    GSM7_MULTI_LIMIT,
    GSM7_SINGLE_LIMIT,
    UCS2,
    UCS2_MULTI_LIMIT,
    UCS2_SINGLE_LIMIT,
    Segmentation,
    segment,
)

EMOJI = "\U0001f600"  # 😀, a surrogate pair in UTF-16


def shape(text: str, **kwargs: object) -> tuple[str, int, tuple[int, ...], tuple[int, ...]]:
    """(encoding, units, units per part, characters per part) of a segmentation."""
    result = segment(text, **kwargs)  # type: ignore[arg-type]
    assert "".join(result.parts) == result.text
    return result.encoding, result.units, result.units_per_part, tuple(map(len, result.parts))


class TestLimits:
    def test_constants(self) -> None:
        assert (GSM7_SINGLE_LIMIT, GSM7_MULTI_LIMIT) == (160, 153)
        assert (UCS2_SINGLE_LIMIT, UCS2_MULTI_LIMIT) == (70, 67)
        assert (GSM7, UCS2) == ("GSM-7", "UCS-2")

    def test_160_gsm_chars_fit_one_part(self) -> None:
        assert shape("a" * 160) == (GSM7, 160, (160,), (160,))

    def test_161_gsm_chars_need_153_plus_8(self) -> None:
        assert shape("a" * 161) == (GSM7, 161, (153, 8), (153, 8))

    def test_exact_multiples_of_153(self) -> None:
        assert shape("a" * 306) == (GSM7, 306, (153, 153), (153, 153))
        assert shape("a" * 307) == (GSM7, 307, (153, 153, 1), (153, 153, 1))
        assert shape("a" * 459)[2] == (153, 153, 153)

    def test_extension_char_makes_159_chars_161_septets(self) -> None:
        assert shape("a" * 159 + "€") == (GSM7, 161, (153, 8), (153, 7))

    def test_158_chars_plus_extension_fit_one_part(self) -> None:
        assert shape("a" * 158 + "€") == (GSM7, 160, (160,), (159,))

    def test_extension_char_at_septet_153_moves_to_next_part(self) -> None:
        # 152 septets leave one septet: the two-septet '[' must not be split.
        assert shape("a" * 152 + "[" + "b" * 10) == (GSM7, 164, (152, 12), (152, 11))

    def test_extension_char_ending_exactly_at_153_stays(self) -> None:
        assert shape("a" * 151 + "[" + "b" * 10) == (GSM7, 163, (153, 10), (152, 10))

    def test_extension_boundary_in_a_later_part(self) -> None:
        text = "a" * 153 + "a" * 152 + "}" + "z"
        assert shape(text) == (GSM7, 308, (153, 152, 3), (153, 152, 2))

    def test_form_feed_costs_two_septets(self) -> None:
        assert shape("\f") == (GSM7, 2, (2,), (1,))
        assert shape("a" * 159 + "\f")[2] == (153, 8)

    def test_every_extension_char_costs_two(self) -> None:
        assert segment("^{}\\[~]|€\f").units == 20

    def test_70_ucs2_units_fit_one_part(self) -> None:
        assert shape("ж" * 70) == (UCS2, 70, (70,), (70,))

    def test_71_ucs2_units_need_67_plus_4(self) -> None:
        assert shape("ж" * 71) == (UCS2, 71, (67, 4), (67, 4))

    def test_emoji_counts_two_units(self) -> None:
        assert shape(EMOJI) == (UCS2, 2, (2,), (1,))
        assert shape("ж" * 68 + EMOJI) == (UCS2, 70, (70,), (69,))
        assert shape("ж" * 69 + EMOJI) == (UCS2, 71, (67, 4), (67, 3))

    def test_emoji_at_unit_67_moves_to_next_part(self) -> None:
        # 66 units leave one: the surrogate pair must not be split.
        assert shape("ж" * 66 + EMOJI + "ж" * 10) == (UCS2, 78, (66, 12), (66, 11))

    def test_emoji_ending_exactly_at_67_stays(self) -> None:
        assert shape("ж" * 65 + EMOJI + "ж" * 10) == (UCS2, 77, (67, 10), (66, 10))

    def test_all_emoji_text(self) -> None:
        assert shape(EMOJI * 36) == (UCS2, 72, (66, 6), (33, 3))

    def test_grapheme_clusters_may_be_split(self) -> None:
        # A family emoji is several code points joined by ZWJ; parts only respect code
        # points, as handsets do.
        family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
        text = "ж" * 64 + family
        result = segment(text)
        assert result.units_per_part == (67, 5)
        assert result.parts[0].endswith("\U0001f468\u200d")


class TestEncodingChoice:
    def test_small_c_cedilla_forces_ucs2(self) -> None:
        result = segment("Garçon")
        assert result.encoding == UCS2
        assert result.non_gsm == ("ç",)

    def test_capital_c_cedilla_is_gsm(self) -> None:
        assert segment("GARÇON").encoding == GSM7

    def test_literal_escape_forces_ucs2(self) -> None:
        result = segment("\x1b[1mbold\x1b[0m")
        assert result.encoding == UCS2
        assert result.non_gsm == ("\x1b",)

    def test_non_gsm_lists_distinct_chars_in_order(self) -> None:
        result = segment("ça “va” ça?")
        assert result.non_gsm == ("ç", "“", "”")

    def test_gsm_text_has_no_non_gsm(self) -> None:
        assert segment("Grüße, Δ = 5€").non_gsm == ()

    @pytest.mark.parametrize(
        "text",
        ["ΔΦΓΛΩΠΨΣΘΞ", "ΔΦΓ [x] €", "Θ" * 200 + "€" * 3, "£¥§¿¡ÄÖÑÜäöñüàèéùìòØøÅåÆæßÉ"],
    )
    def test_gsm_text_beyond_ascii(self, text: str) -> None:
        assert segment(text).encoding == GSM7

    @pytest.mark.parametrize("char", ["\x80", "\u2126", "ê", "`", "\x00", "\x7f"])
    def test_near_misses_force_ucs2(self, char: str) -> None:
        assert segment("price 5€ " + char).encoding == UCS2
        assert segment("x" * 40 + char).encoding == UCS2

    def test_non_gsm_char_after_a_long_gsm_prefix(self) -> None:
        result = segment("a" * 300 + "€" + "ж")
        assert result.encoding == UCS2
        assert result.non_gsm == ("ж",)


class TestForcedEncoding:
    @pytest.mark.parametrize("name", ["UCS-2", "ucs2", "Ucs-2", "UTF-16", "utf-16"])
    def test_ucs2_aliases(self, name: str) -> None:
        result = segment("hello", encoding=name)
        assert result.encoding == UCS2
        assert result.units == 5
        assert result.non_gsm == ()

    @pytest.mark.parametrize("name", ["GSM-7", "gsm7", "Gsm-7", "GSM7"])
    def test_gsm_aliases(self, name: str) -> None:
        assert segment("hello €", encoding=name).units == 8

    def test_forced_ucs2_on_long_gsm_text(self) -> None:
        assert shape("a" * 71, encoding="UCS-2") == (UCS2, 71, (67, 4), (67, 4))
        assert shape("€" * 71, encoding="UCS-2") == (UCS2, 71, (67, 4), (67, 4))

    def test_forced_gsm_on_non_gsm_names_char_and_index(self) -> None:
        with pytest.raises(ValueError, match=r"'ç' \(U\+00E7\) at index 3"):
            segment("Garçon", encoding="GSM-7")

    def test_forced_gsm_on_escape_char(self) -> None:
        with pytest.raises(ValueError, match="index 0"):
            segment("\x1b", encoding="gsm7")

    def test_unknown_encoding(self) -> None:
        with pytest.raises(ValueError, match="'latin-1'"):
            segment("hello", encoding="latin-1")


class TestEmptyText:
    def test_empty_text(self) -> None:
        result = segment("")
        assert result.encoding == GSM7
        assert result.parts == ()
        assert result.units == 0
        assert result.part_count == 0
        assert result.units_per_part == ()
        assert not result.is_multipart
        assert result.remaining == 160

    def test_empty_text_forced_ucs2(self) -> None:
        result = segment("", encoding="ucs2")
        assert (result.encoding, result.parts, result.units) == (UCS2, (), 0)


class TestSegmentationObject:
    def test_is_frozen_attrs_with_slots(self) -> None:
        result = segment("hi")
        assert attrs.has(Segmentation)
        assert not hasattr(result, "__dict__")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            result.units = 3  # type: ignore[misc]

    def test_equals_a_directly_built_instance(self) -> None:
        built = Segmentation(GSM7, 2, ("hi",), (2,), "hi")
        assert segment("hi") == built
        assert hash(segment("hi")) == hash(built)
        assert repr(segment("hi")) == repr(built)

    def test_convenience_properties_single_part(self) -> None:
        result = segment("a" * 150)
        assert result.part_count == 1
        assert not result.is_multipart
        assert result.remaining == 10
        assert result.part_limit == 160
        assert (result.single_part_limit, result.multipart_limit) == (160, 153)

    def test_convenience_properties_multipart(self) -> None:
        result = segment("ж" * 100)
        assert result.part_count == 2
        assert result.is_multipart
        assert result.units_per_part == (67, 33)
        assert result.remaining == 34
        assert result.part_limit == 67

    def test_remaining_counts_from_the_last_part(self) -> None:
        result = segment("a" * 152 + "€" + "a" * 10)
        assert result.units_per_part == (152, 12)
        assert result.remaining == 141

    def test_text_is_the_input_without_transliteration(self) -> None:
        text = "“quoted”"
        assert segment(text).text is text
        assert segment(text).replaced == ()


class TestExplain:
    def test_gsm(self) -> None:
        text = segment("Hello").explain()
        assert "GSM-7" in text
        assert "5 septets in 1 part" in text
        assert "limit 160" in text

    def test_multipart_gsm(self) -> None:
        text = segment("a" * 161).explain()
        assert "161 septets in 2 parts (153 + 8)" in text
        assert "153" in text

    def test_ucs2_names_the_characters(self) -> None:
        text = segment("Привет").explain()
        assert "UCS-2" in text
        assert "'П' (U+041F)" in text
        assert "6 UTF-16 code units" in text

    def test_ucs2_hint_when_transliteration_would_help(self) -> None:
        assert "transliterate=True" in segment("“Hi” – bye…").explain()

    def test_ucs2_partial_transliteration(self) -> None:
        assert "no GSM equivalent" in segment("“Привет”").explain()

    def test_forced_ucs2(self) -> None:
        assert "requested" in segment("abc", encoding="ucs2").explain()

    def test_transliterated(self) -> None:
        text = segment("“Hi”", transliterate=True).explain()
        assert "Transliterated" in text
        assert "U+201C" in text

    def test_many_non_gsm_chars_are_summarised(self) -> None:
        assert "and 20 more" in segment("".join(map(chr, range(0x410, 0x42E)))).explain()

    def test_empty(self) -> None:
        assert "0 parts" in segment("").explain()


def test_package_exports() -> None:
    for name in encoding.__all__:
        assert hasattr(encoding, name)
    for name in ("segment", "Segmentation", "GSM7", "UCS2", "is_gsm_char", "gsm_septets"):
        assert name in encoding.__all__
    assert "transliterate" in encoding.__all__


def test_lone_surrogates_are_segmented_per_code_point() -> None:
    text = "ж" * 66 + "\ud83d" + "ж" * 10
    assert shape(text) == (UCS2, 77, (67, 10), (67, 10))


def test_separate_surrogate_code_points_are_kept_together() -> None:
    # A high and a low surrogate as two code points form a real pair on the wire.
    text = "ж" * 66 + "\ud83d\ude00" + "ж" * 10
    assert shape(text) == (UCS2, 78, (66, 12), (66, 12))


def test_short_text_with_a_lone_surrogate() -> None:
    result = segment("a\udc00")
    assert (result.encoding, result.units, result.parts) == (UCS2, 2, ("a\udc00",))
    assert result.non_gsm == ("\udc00",)
