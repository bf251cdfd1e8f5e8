"""GSM 03.38 tables and the septet codec."""

from __future__ import annotations

import pytest

from smsbridge.encoding import gsm0338
from smsbridge.encoding.gsm0338 import (
    DEFAULT_ALPHABET,
    EXTENSION_TABLE,
    GSM_CHARS,
    decode_septets,
    encode_septets,
    gsm_septets,
    is_gsm_char,
    pack_septets,
    unpack_septets,
)
from tests.strategies import GSM_DEFAULT, GSM_EXTENSION


def reference_pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Bit-string packing, written the slow obvious way to check the real one."""
    bits = "0" * fill_bits + "".join(format(s, "07b")[::-1] for s in septets)
    spare = -len(bits) % 8
    bits += format(0x0D, "07b")[::-1] if spare == 7 else "0" * spare
    return bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))


class TestTables:
    def test_default_alphabet_matches_the_standard_order(self) -> None:
        expected = {c: i if i < 0x1B else i + 1 for i, c in enumerate(GSM_DEFAULT)}
        assert dict(DEFAULT_ALPHABET) == expected

    def test_default_alphabet_has_127_characters_and_no_escape(self) -> None:
        assert len(DEFAULT_ALPHABET) == 127
        assert "\x1b" not in DEFAULT_ALPHABET
        assert 0x1B not in DEFAULT_ALPHABET.values()

    @pytest.mark.parametrize(
        ("char", "code"),
        [
            ("\f", 0x0A),
            ("^", 0x14),
            ("{", 0x28),
            ("}", 0x29),
            ("\\", 0x2F),
            ("[", 0x3C),
            ("~", 0x3D),
            ("]", 0x3E),
            ("|", 0x40),
            ("€", 0x65),
        ],
    )
    def test_extension_table(self, char: str, code: int) -> None:
        assert EXTENSION_TABLE[char] == code

    def test_extension_table_is_complete(self) -> None:
        assert set(EXTENSION_TABLE) == set(GSM_EXTENSION)

    def test_charset_is_default_plus_extension(self) -> None:
        assert set(GSM_DEFAULT) | set(GSM_EXTENSION) == GSM_CHARS
        assert len(GSM_CHARS) == 137

    @pytest.mark.parametrize(
        ("char", "expected"),
        [
            ("Ç", True),
            ("ç", False),
            ("\x1b", False),
            ("€", True),
            ("\f", True),
            ("`", False),
            ("\u03a9", True),  # GREEK CAPITAL LETTER OMEGA
            ("\u2126", False),  # OHM SIGN: looks the same, is another character
            ("ab", False),
            ("", False),
        ],
    )
    def test_is_gsm_char(self, char: str, expected: bool) -> None:
        assert is_gsm_char(char) is expected


class TestSeptets:
    def test_full_default_alphabet_round_trips(self) -> None:
        septets = encode_septets(GSM_DEFAULT)
        assert list(septets) == [i for i in range(128) if i != 0x1B]
        assert decode_septets(septets) == GSM_DEFAULT

    def test_extension_chars_are_escaped(self) -> None:
        septets = encode_septets(GSM_EXTENSION)
        assert septets == b"".join(b"\x1b" + bytes([EXTENSION_TABLE[c]]) for c in GSM_EXTENSION)
        assert decode_septets(septets) == GSM_EXTENSION

    def test_mixed_text_round_trips(self) -> None:
        text = "Total: 12€ [VAT] {x} ~ Ça va? ΔΩ\\ ^|\f"
        assert decode_septets(encode_septets(text)) == text

    @pytest.mark.parametrize(
        ("text", "index"), [("abç", 2), ("\x1b[0m", 0), ("ok 😀", 3), ("a`b", 1)]
    )
    def test_encode_rejects_non_gsm_and_names_the_character(self, text: str, index: int) -> None:
        with pytest.raises(ValueError, match=f"at index {index}") as info:
            encode_septets(text)
        assert repr(text[index]) in str(info.value)

    def test_gsm_septets_counts_extension_chars_twice(self) -> None:
        assert gsm_septets("") == 0
        assert gsm_septets("abc") == 3
        assert gsm_septets("a€b[") == 6
        assert gsm_septets("\f") == 2
        assert gsm_septets("ΔΩ{") == 4

    def test_gsm_septets_rejects_non_gsm(self) -> None:
        with pytest.raises(ValueError, match="index 1"):
            gsm_septets("aç")
        with pytest.raises(ValueError, match="index 2"):
            gsm_septets("[]ç")

    def test_escape_escape_decodes_to_space(self) -> None:
        assert decode_septets(b"A\x1b\x1bB") == "A B"

    def test_unknown_escape_falls_back_to_default_table(self) -> None:
        assert decode_septets(b"\x1b\x41") == "A"

    def test_trailing_escape_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="ESC"):
            decode_septets(b"abc\x1b")

    def test_non_septet_byte_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="0x80 at index 1"):
            decode_septets(b"a\x80")


class TestPacking:
    def test_known_vector(self) -> None:
        assert pack_septets(encode_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"

    def test_unpack_known_vector(self) -> None:
        packed = bytes.fromhex("E8329BFD4697D9EC37")
        assert decode_septets(unpack_septets(packed, 10)) == "hellohello"

    def test_seven_spare_bits_are_filled_with_cr(self) -> None:
        packed = pack_septets(encode_septets("1234567"))
        assert len(packed) == 7
        assert packed[-1] >> 1 == 0x0D
        assert decode_septets(unpack_septets(packed, 8)) == "1234567\r"
        assert decode_septets(unpack_septets(packed, 7)) == "1234567"

    @pytest.mark.parametrize("length", range(0, 20))
    @pytest.mark.parametrize("fill_bits", [0, 1, 6])
    def test_matches_reference_packing(self, length: int, fill_bits: int) -> None:
        septets = bytes((i * 37 + 11) % 128 for i in range(length))
        packed = pack_septets(septets, fill_bits=fill_bits)
        assert packed == reference_pack(septets, fill_bits)
        assert unpack_septets(packed, length, fill_bits=fill_bits) == septets

    def test_empty(self) -> None:
        assert pack_septets(b"") == b""
        assert unpack_septets(b"", 0) == b""

    def test_rejects_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="below 0x80"):
            pack_septets(b"\x80")
        with pytest.raises(ValueError, match="fill_bits"):
            pack_septets(b"a", fill_bits=7)
        with pytest.raises(ValueError, match="fill_bits"):
            unpack_septets(b"a", 1, fill_bits=-1)
        with pytest.raises(ValueError, match="cannot unpack 2 septets"):
            unpack_septets(b"\x41", 2)

    def test_module_exports(self) -> None:
        assert set(gsm0338.__all__) <= set(dir(gsm0338))
