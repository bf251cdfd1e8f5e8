"""Pure encoding and parsing: parts on the wire, addresses, receipts."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import InvalidMessageError, SmsBridgeError
from smsbridge_smpp import protocol as p
from smsbridge_smpp.emulator_conn import decode_text

LONG_GSM = "Your parcel is on its way [track it]. " * 8
LONG_UCS2 = "Привет, ваш код: 482913. " * 6


def _read_back(encoded: p.Encoded, *, packed: bool = False) -> str:
    """The text as the SMSC emulator reassembles it from the wire parts."""
    parts: dict[int, str] = {}
    for part in encoded.parts:
        pdu = SimpleNamespace(
            short_message=part.short_message,
            message_payload=part.tlvs.get("message_payload"),
            esm_class=part.esm_class,
            data_coding=encoded.data_coding,
            sar_msg_ref_num=part.tlvs.get("sar_msg_ref_num"),
            sar_total_segments=part.tlvs.get("sar_total_segments"),
            sar_segment_seqnum=part.tlvs.get("sar_segment_seqnum"),
        )
        _ref, _total, number, text = decode_text(pdu, packed=packed)
        parts[number] = text
    return "".join(parts[n] for n in sorted(parts))


def test_one_gsm_part_is_one_septet_per_octet() -> None:
    encoded = p.encode_text("Hello @ world")
    assert (encoded.encoding, encoded.data_coding, encoded.billed) == ("GSM-7", 0x00, 1)
    [part] = encoded.parts
    assert part.esm_class == 0
    assert part.short_message[:5] == b"Hello"
    assert part.short_message[6] == 0x00  # '@' is septet 0


@pytest.mark.parametrize("packed", [False, True])
def test_udh_parts_carry_reference_total_and_number(packed: bool) -> None:
    encoded = p.encode_text(LONG_GSM, reference=0x1234, packed=packed)
    assert encoded.billed == len(encoded.parts) > 1
    for number, part in enumerate(encoded.parts, start=1):
        assert part.esm_class == p.ESM_UDHI
        assert part.short_message[:6] == bytes((5, 0, 3, 0x34, len(encoded.parts), number))
        assert len(part.short_message) <= 140 if packed else len(part.short_message) <= 159
    assert _read_back(encoded, packed=packed) == LONG_GSM


def test_ucs2_parts() -> None:
    encoded = p.encode_text(LONG_UCS2)
    assert (encoded.encoding, encoded.data_coding) == ("UCS-2", 0x08)
    assert all(len(part.short_message) <= 140 for part in encoded.parts)
    assert _read_back(encoded) == LONG_UCS2


def test_latin1_only_where_configured_and_only_when_it_fits() -> None:
    text = "Ça coûte 5 € ? Non: ½ prix, très bien."  # € is GSM (escape) but ½ is not
    assert p.encode_text(text).encoding == "UCS-2"
    latin = "Prix: ½ tarif, très bien ¿vale?"
    encoded = p.encode_text(latin, latin1=True)
    assert (encoded.encoding, encoded.data_coding) == ("Latin-1", 0x03)
    assert _read_back(encoded) == latin
    assert p.encode_text(LONG_UCS2, latin1=True).encoding == "UCS-2"  # Cyrillic does not fit
    long_latin = "½ " * 100
    assert p.encode_text(long_latin, latin1=True).billed == 2  # 134 octets per part
    assert p.billed_parts(long_latin, encoding=None, transliterate=False, latin1=True) == 2
    assert p.billed_parts(long_latin, encoding=None, transliterate=False, latin1=False) == 3


def test_sar_parts() -> None:
    encoded = p.encode_text(LONG_GSM, concatenation="sar", reference=700)
    assert len(encoded.parts) > 1
    for number, part in enumerate(encoded.parts, start=1):
        assert part.esm_class == 0
        assert part.tlvs == {
            "sar_msg_ref_num": 700,
            "sar_total_segments": len(encoded.parts),
            "sar_segment_seqnum": number,
        }
    assert _read_back(encoded) == LONG_GSM


def test_payload_is_one_pdu_billed_as_its_parts() -> None:
    encoded = p.encode_text(LONG_UCS2, concatenation="payload")
    [part] = encoded.parts
    assert part.short_message == b""
    assert part.tlvs["message_payload"] == LONG_UCS2.encode("utf-16-be")
    assert encoded.billed > 1
    # A text that fits one part stays in short_message.
    assert p.encode_text("hi", concatenation="payload").parts[0].short_message == b"hi"


def test_refusals_name_the_field() -> None:
    with pytest.raises(InvalidMessageError) as too_many:
        p.encode_text(LONG_GSM, max_parts=1)
    assert too_many.value.field == "max_parts"
    with pytest.raises(InvalidMessageError) as forced:
        p.encode_text("Привет", encoding="GSM-7")
    assert forced.value.field == "encoding"
    with pytest.raises(InvalidMessageError) as mode:
        p.encode_text("hi", concatenation="carrier-pigeon")
    assert (mode.value.field, mode.value.value) == ("concatenation", "carrier-pigeon")


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("+447700900123", (1, 1, "447700900123")),
        ("447700900123", (1, 1, "447700900123")),
        ("12345", (0, 1, "12345")),
        ("Acme Ltd", (5, 0, "Acme Ltd")),
    ],
)
def test_sender_addresses(sender: str, expected: tuple[int, int, str]) -> None:
    assert p.sender_address(sender) == expected


def test_a_sender_that_fits_nothing_is_refused_by_name() -> None:
    with pytest.raises(InvalidMessageError) as refused:
        p.sender_address("A sender far too long")
    assert refused.value.field == "sender"


def test_receipt_text_round_trip() -> None:
    when = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
    receipt = p.parse_receipt(p.receipt_text("0a1b", "UNDELIV", err="042", when=when))
    assert (receipt.message_id, receipt.stat, receipt.err) == ("0a1b", "UNDELIV", "042")
    assert receipt.done_at == when
    assert "text" not in receipt.fields


def test_receipt_tlvs_win_over_the_text() -> None:
    text = b"id:111 sub:001 dlvrd:000 submit date:2612050830 done date:2612050830 stat:ENROUTE"
    receipt = p.parse_receipt(text, receipted_id="abc", message_state="DELIVRD")
    assert (receipt.message_id, receipt.stat) == ("abc", "DELIVRD")


@pytest.mark.parametrize(
    "text", [b"", b"hello", b"stat:DELIVRD", b"id:12 stat:", b"id:12 stat:DELIV-RD", b"x" * 2000]
)
def test_unreadable_receipts_are_typed_errors(text: bytes) -> None:
    with pytest.raises(SmsBridgeError):
        p.parse_receipt(text)


@given(st.binary(max_size=300))
def test_parse_receipt_returns_or_raises_typed(data: bytes) -> None:
    try:
        receipt = p.parse_receipt(data)
    except SmsBridgeError:
        return
    assert receipt.message_id and receipt.stat.isalpha()


@given(st.text(max_size=400))
def test_encode_text_returns_or_raises_typed(text: str) -> None:
    try:
        encoded = p.encode_text(text, max_parts=255)
    except SmsBridgeError:
        return
    assert encoded.parts
    assert all(len(part.short_message) <= 254 for part in encoded.parts)
