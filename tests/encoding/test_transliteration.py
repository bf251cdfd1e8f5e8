"""The opt-in GSM transliteration table and its use by segment()."""

from __future__ import annotations

import pytest

from smsbridge.encoding import GSM7, GSM_EQUIVALENTS, UCS2, segment, transliterate
from tests.strategies import GSM_DEFAULT, GSM_EXTENSION

GSM = set(GSM_DEFAULT + GSM_EXTENSION)


class TestTable:
    def test_no_gsm_character_is_replaced(self) -> None:
        assert not set(GSM_EQUIVALENTS) & GSM

    def test_every_replacement_is_gsm(self) -> None:
        for char, replacement in GSM_EQUIVALENTS.items():
            assert set(replacement) <= GSM, char

    def test_keys_are_single_characters(self) -> None:
        assert all(len(char) == 1 for char in GSM_EQUIVALENTS)

    def test_table_is_read_only(self) -> None:
        with pytest.raises(TypeError):
            GSM_EQUIVALENTS["x"] = "y"  # type: ignore[index]

    @pytest.mark.parametrize(
        ("chars", "replacement"),
        [
            ("‘’‚‛′", "'"),
            ("“”„‟″", '"'),
            ("«»", '"'),
            ("‐‑‒–—―", "-"),
            ("…", "..."),
            ("\u00a0\u2000\u2005\u200a\u202f\u205f\u3000", " "),
            ("\u200b\ufeff", ""),
            ("•", "*"),
            ("ç", "Ç"),
            ("áâã", "a"),
            ("êë", "e"),
            ("íîï", "i"),
            ("óôõ", "o"),
            ("úû", "u"),
            ("ÁÀÂÃ", "A"),
            ("ÈÊË", "E"),
            ("ÍÌÎÏ", "I"),
            ("ÓÒÔÕ", "O"),
            ("ÚÙÛ", "U"),
            ("ΑΒΕΗΙΚΜΝΟΡΤΥΧΖ", "ABEHIKMNOPTYXZ"),
        ],
    )
    def test_mapping(self, chars: str, replacement: str) -> None:
        if len(replacement) == len(chars) > 1:
            expected = list(replacement)
        else:
            expected = [replacement] * len(chars)
        assert [GSM_EQUIVALENTS[c] for c in chars] == expected

    @pytest.mark.parametrize("char", "éèùìòàäöñüÄÖÑÜÉÇÅåØøÆæßΔΩΣ")
    def test_gsm_letters_are_untouched(self, char: str) -> None:
        assert char not in GSM_EQUIVALENTS
        assert transliterate(char) == (char, ())


class TestTransliterate:
    def test_replaces_and_reports_distinct_pairs_in_order(self) -> None:
        text, replaced = transliterate("“Olá” – disse… “tchau”")
        assert text == '"Ola" - disse... "tchau"'
        assert replaced == (("“", '"'), ("á", "a"), ("”", '"'), ("–", "-"), ("…", "..."))

    def test_untouched_text_is_returned_as_is(self) -> None:
        original = "plain text"
        text, replaced = transliterate(original)
        assert text is original
        assert replaced == ()

    def test_zero_width_chars_are_removed(self) -> None:
        assert transliterate("a\u200bb\ufeff") == ("ab", (("\u200b", ""), ("\ufeff", "")))

    def test_chars_without_equivalent_stay(self) -> None:
        assert transliterate("“Привет”")[0] == '"Привет"'


class TestSegmentWithTransliteration:
    def test_covered_text_becomes_gsm(self) -> None:
        result = segment("It’s “fine” — really…", transliterate=True)
        assert result.encoding == GSM7
        assert result.text == 'It\'s "fine" - really...'
        assert "".join(result.parts) == result.text
        assert result.replaced == (("’", "'"), ("“", '"'), ("”", '"'), ("—", "-"), ("…", "..."))
        assert result.non_gsm == ()

    def test_without_the_flag_nothing_is_replaced(self) -> None:
        result = segment("It’s fine")
        assert result.encoding == UCS2
        assert result.text == "It’s fine"

    def test_gsm_text_is_left_alone(self) -> None:
        result = segment("Ça va? 5€", transliterate=True)
        assert (result.encoding, result.text, result.replaced) == (GSM7, "Ça va? 5€", ())

    def test_small_c_cedilla_becomes_capital(self) -> None:
        result = segment("Garçon", transliterate=True)
        assert (result.encoding, result.text) == (GSM7, "GarÇon")
        assert result.replaced == (("ç", "Ç"),)

    def test_uncovered_char_sends_the_original_as_ucs2(self) -> None:
        original = "“Привет” — ça va?"
        result = segment(original, transliterate=True)
        assert result.encoding == UCS2
        assert result.text is original
        assert result.replaced == ()
        assert "".join(result.parts) == original
        assert "П" in result.non_gsm

    def test_transliteration_can_save_parts(self) -> None:
        text = "“Quote” " * 20  # 160 chars
        assert segment(text).part_count == 3
        assert segment(text, transliterate=True).part_count == 1

    def test_length_change_is_segmented_on_the_new_text(self) -> None:
        result = segment("…" * 60, transliterate=True)
        assert result.text == "." * 180
        assert result.units_per_part == (153, 27)

    def test_text_that_vanishes_entirely(self) -> None:
        result = segment("\u200b\u200b", transliterate=True)
        assert (result.encoding, result.parts, result.text) == (GSM7, (), "")
        assert result.replaced == (("\u200b", ""),)

    def test_forced_gsm_with_transliteration(self) -> None:
        result = segment("“ok”", encoding="GSM-7", transliterate=True)
        assert result.text == '"ok"'

    def test_forced_gsm_names_the_uncovered_char_at_its_original_index(self) -> None:
        with pytest.raises(ValueError, match=r"'ж' \(U\+0436\) at index 5.*no transliteration"):
            segment("“ok” ж", encoding="GSM-7", transliterate=True)

    def test_forced_ucs2_skips_transliteration(self) -> None:
        result = segment("“ok”", encoding="UCS-2", transliterate=True)
        assert (result.encoding, result.text, result.replaced) == (UCS2, "“ok”", ())
