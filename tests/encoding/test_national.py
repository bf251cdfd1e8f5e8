"""National language shift tables: known code points, known strings, the UDH arithmetic.

Septet values are spelled out here from 3GPP TS 23.038 annex A, not read from the package,
so that the tests check the tables against the standard.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smsbridge import InvalidMessageError, SendOptions
from smsbridge.encoding import GSM7, UCS2, segment
from smsbridge.encoding.national import (
    NATIONAL_LANGUAGES,
    charset,
    decode_national,
    encode_national,
    resolve_languages,
)
from smsbridge.encoding.udh import septet_capacity, udh_octets
from tests.encoding.national_tables_doc import render

ESC = 0x1B

TURKISH = (
    "Sayın müşterimiz, ağustos ayı faturanız düzenlenmiştir. Ödeme için son gün "
    "15 Eylül. Şubelerimizde ya da çağrı merkezimizde İşlem yapabilirsiniz."
)
PORTUGUESE = (
    "Olá! A sua encomenda nº 4821 já está a caminho. Não se esqueça: a entrega é feita "
    "amanhã entre as 9h e as 13h. Obrigado pela preferência e até à próxima."
)
HINDI = "नमस्ते, आपका कोड 4821 है। कृपया इसे किसी के साथ साझा न करें।"


@pytest.mark.parametrize(
    ("char", "septet"),
    [("ı", 0x07), ("Ğ", 0x0B), ("ğ", 0x0C), ("Ş", 0x1C), ("ş", 0x1D), ("İ", 0x40), ("ç", 0x60)],
)
def test_turkish_locking_shift_positions(char: str, septet: int) -> None:
    assert encode_national(char, locking="tr") == bytes([septet])


@pytest.mark.parametrize(
    ("char", "code"),
    [("Ğ", 0x47), ("İ", 0x49), ("Ş", 0x53), ("ç", 0x63), ("€", 0x65), ("ğ", 0x67), ("ı", 0x69)],
)
def test_turkish_single_shift_positions(char: str, code: int) -> None:
    assert encode_national(char, single="tr") == bytes([ESC, code])


@pytest.mark.parametrize(
    ("char", "septet"), [("ê", 0x04), ("ç", 0x09), ("Ã", 0x5B), ("~", 0x60), ("ã", 0x7B)]
)
def test_portuguese_locking_shift_positions(char: str, septet: int) -> None:
    assert encode_national(char, locking="pt") == bytes([septet])


def test_portuguese_single_shift_has_the_cedilla_and_tildes() -> None:
    assert encode_national("çãõ", single="pt") == bytes([ESC, 0x09, ESC, 0x7B, ESC, 0x7C])


def test_spanish_has_a_single_shift_table_only() -> None:
    assert NATIONAL_LANGUAGES["es"].locking is None
    assert encode_national("ó", single="es") == bytes([ESC, 0x6F])
    with pytest.raises(ValueError, match="no locking shift table"):
        charset("es", None)


def test_hindi_text_encodes_to_known_septets() -> None:
    # न 0x2F, म 0x42, स 0x4C, ् (virama) 0x5F, त 0x27, े 0x59; । is ESC 0x19.
    assert encode_national("नमस्ते", locking="hi") == bytes([0x2F, 0x42, 0x4C, 0x5F, 0x27, 0x59])
    assert encode_national("।", locking="hi", single="hi") == bytes([ESC, 0x19])
    assert encode_national("4821, a", locking="hi") == b"4821, a"


def test_indian_locking_tables_keep_ascii_digits_and_punctuation() -> None:
    for code in ("bn", "gu", "hi", "kn", "ml", "or", "pa", "ta", "te", "ur"):
        table = NATIONAL_LANGUAGES[code].locking
        assert table is not None
        assert [table[s] for s in (0x0A, 0x0D, 0x20, 0x21, 0x2C, 0x2E, 0x3F)] == list(
            "\n\r !,.?"
        ), code
        assert "".join(table[s] for s in range(0x30, 0x3A)) == "0123456789"
        assert "".join(table[s] for s in range(0x61, 0x7B)) == "abcdefghijklmnopqrstuvwxyz"
        single = NATIONAL_LANGUAGES[code].single
        assert "".join(single[s] for s in range(0x41, 0x5B)) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        # Telugu's is the one table whose sources disagree on the euro sign (left out).
        assert single.get(0x65) == (None if code == "te" else "€")


def test_language_identifiers_follow_the_standard() -> None:
    ids = {code: lang.identifier for code, lang in NATIONAL_LANGUAGES.items()}
    assert ids == {
        "tr": 1,
        "es": 2,
        "pt": 3,
        "bn": 4,
        "gu": 5,
        "hi": 6,
        "kn": 7,
        "ml": 8,
        "or": 9,
        "pa": 10,
        "ta": 11,
        "te": 12,
        "ur": 13,
    }


def test_decoding_follows_the_receiver_rules() -> None:
    # ESC + a code the single shift table leaves empty shows the locking table's char.
    assert decode_national(bytes([ESC, 0x61]), locking="tr", single="tr") == "a"
    assert decode_national(bytes([ESC, ESC]), single="tr") == " "
    # An undefined locking position (Tamil 0x00) is U+FFFD, never an error.
    assert decode_national(bytes([0x00]), locking="ta") == "\ufffd"
    with pytest.raises(ValueError, match="no following code"):
        decode_national(bytes([0x41, ESC]), locking="tr")
    with pytest.raises(ValueError, match="0x80"):
        decode_national(bytes([0x80]), locking="tr")


def test_encoding_names_the_character_that_no_table_has() -> None:
    with pytest.raises(ValueError, match=r"'ж' \(U\+0436\) at index 2.*Turkish locking"):
        encode_national("abж", locking="tr")


@pytest.mark.parametrize(
    ("tables", "multipart", "udh", "septets"),
    [
        (0, False, 0, 160),
        (0, True, 6, 153),
        (1, False, 4, 155),
        (1, True, 9, 149),
        (2, False, 7, 152),
        (2, True, 12, 146),
    ],
)
def test_udh_arithmetic(tables: int, multipart: bool, udh: int, septets: int) -> None:
    assert udh_octets(tables, multipart) == udh
    assert septet_capacity(tables, multipart) == septets
    # The text must fit in the 140 octets left after the UDH, septet-aligned.
    assert udh + -(-(septets * 7) // 8) <= 140 < udh + -(-((septets + 1) * 7) // 8)


def test_tables_are_opt_in() -> None:
    assert segment(TURKISH).encoding == UCS2
    assert segment(TURKISH, national_languages=("es",)).encoding == UCS2
    result = segment(TURKISH, national_languages=("tr",))
    assert (result.encoding, result.locking_shift, result.single_shift) == (GSM7, "tr", None)
    assert result.part_count == 1 < segment(TURKISH).part_count
    assert result.units == len(TURKISH)
    assert (result.single_part_limit, result.udh_octets) == (155, 4)


def test_portuguese_uses_the_cheaper_pair() -> None:
    plain = segment(PORTUGUESE)
    assert (plain.encoding, plain.part_count) == (UCS2, 3)
    result = segment(PORTUGUESE, national_languages=("es", "pt"))
    assert result.encoding == GSM7
    assert result.part_count == 1
    assert result.text == PORTUGUESE and "".join(result.parts) == PORTUGUESE
    # 'º' exists only in the Portuguese locking table; with it every character is 1 septet.
    assert (result.locking_shift, result.single_shift) == ("pt", None)
    assert result.units == len(PORTUGUESE)


def test_hindi_needs_both_tables() -> None:
    result = segment(HINDI * 3, national_languages=("hi",))
    assert (result.locking_shift, result.single_shift) == ("hi", "hi")
    # IEI 0x25 locking shift, IEI 0x24 single shift, each of length 1, Hindi is id 6.
    assert result.shift_ies == bytes([0x25, 1, 6, 0x24, 1, 6])
    assert segment(HINDI * 3).shift_ies == b""
    assert result.part_limit == 146 and result.udh_octets == 12
    assert result.part_count < segment(HINDI * 3).part_count
    danda = (HINDI * 3).count("।")
    assert result.units == len(HINDI * 3) + danda


def test_a_tie_in_parts_keeps_the_encoding_without_tables() -> None:
    short = "Şifreniz: 4821"
    result = segment(short, national_languages=("tr",))
    assert (result.encoding, result.shift_tables) == (UCS2, 0)


def test_exactly_full_single_part_with_one_table() -> None:
    text = "ş" + "a" * 154
    assert segment(text, national_languages=("tr",)).part_count == 1
    longer = segment(text + "a", national_languages=("tr",))
    assert (longer.part_count, longer.units_per_part) == (2, (149, 7))


def test_a_single_shift_character_is_never_split() -> None:
    # 'è' is not in the Turkish locking table, so only the default alphabet with the
    # Turkish single shift table carries this text: ş costs ESC + code.
    text = "è" + "a" * 147 + "ş" + "b" * 100
    result = segment(text, national_languages=("tr",))
    assert (result.locking_shift, result.single_shift) == (None, "tr")
    assert result.units_per_part == (148, 102)
    assert result.parts[1].startswith("ş")


def test_plain_gsm_can_lose_to_a_locking_table() -> None:
    # '|' costs two septets in GSM-7 but one in the Portuguese locking table.
    text = "|" * 150
    assert segment(text).part_count == 2
    result = segment(text, national_languages=("pt",))
    assert (result.part_count, result.locking_shift, result.units) == (1, "pt", 150)


def test_forced_gsm7_uses_tables_even_without_saving() -> None:
    result = segment("ş", encoding="GSM-7", national_languages=("tr",))
    assert (result.encoding, result.locking_shift, result.units) == (GSM7, "tr", 1)
    with pytest.raises(ValueError, match="'ж'"):
        segment("ж", encoding="GSM-7", national_languages=("tr",))
    assert segment(TURKISH, encoding="UCS-2", national_languages=("tr",)).encoding == UCS2


def test_with_transliteration_tables_keep_the_text_unless_it_costs_parts() -> None:
    result = segment(TURKISH, transliterate=True, national_languages=("tr",))
    assert result.text == TURKISH and result.locking_shift == "tr"
    short = segment("Şifre: 1", transliterate=True, national_languages=("tr",))
    assert (short.text, short.locking_shift, short.replaced) == ("Şifre: 1", "tr", ())
    # 157 septets with the table's IE (2 parts) against 156 plain GSM-7 septets (1 part).
    cheaper = segment("ş" + "a" * 155, transliterate=True, national_languages=("tr",))
    assert (cheaper.text, cheaper.part_count, cheaper.shift_tables) == ("s" + "a" * 155, 1, 0)


def test_explain_names_the_tables_and_the_udh() -> None:
    text = segment(TURKISH, national_languages=("tr",)).explain()
    assert "Turkish locking shift (tr, id 1)" in text
    assert "4 octets" in text and "155 septets" in text


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown national language 'xx'"):
        segment("text", national_languages=("xx",))
    with pytest.raises(InvalidMessageError) as info:
        SendOptions(national_languages=("tr", "klingon"))
    assert info.value.field == "national_languages"
    assert resolve_languages(("tr", "es", "tr")) == ("tr", "es")
    assert SendOptions(national_languages="tr").national_languages == ("tr",)


def test_the_documented_tables_are_the_tables() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "national-tables.md"
    assert page.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m tests.encoding.national_tables_doc > docs/national-tables.md"
    )
