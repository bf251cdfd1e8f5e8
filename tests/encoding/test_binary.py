"""8-bit segmentation: 140 octets in one SMS, 134 per part once a concatenation header
rides along (3GPP TS 23.040), and a caller's own header sharing each part."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from smsbridge import check_udh, parse_hex, segment_binary
from smsbridge.encoding import OCTETS_MULTI, OCTETS_SINGLE
from tests.strategies import binary_payload, user_data_header


@pytest.mark.parametrize(
    ("size", "parts"), [(1, 1), (140, 1), (141, 2), (268, 2), (269, 3), (134 * 35, 35)]
)
def test_part_counts_at_the_boundaries(size: int, parts: int) -> None:
    seg = segment_binary(bytes(size))
    assert seg.part_count == parts and seg.encoding == "8-bit"
    assert (OCTETS_SINGLE, OCTETS_MULTI) == (140, 134)


@given(binary_payload())
def test_parts_rebuild_the_payload_and_each_fits_its_sms(data: bytes) -> None:
    seg = segment_binary(data)
    assert b"".join(seg.parts) == data
    if len(data) <= OCTETS_SINGLE:
        assert seg.parts == (data,)
    else:
        # 1 UDHL octet + the 5-octet concatenation element + the payload: 140 at most.
        assert all(1 + 5 + len(part) <= OCTETS_SINGLE for part in seg.parts)
        assert seg.part_count == math.ceil(len(data) / OCTETS_MULTI)


@given(binary_payload(600), user_data_header())
def test_a_callers_header_shares_every_part(data: bytes, udh: bytes) -> None:
    seg = segment_binary(data, udh=udh)
    assert b"".join(seg.parts) == data and seg.udh == udh
    if len(udh) + len(data) <= OCTETS_SINGLE:
        assert seg.part_count == 1
    else:
        # The caller's elements and the concatenation element under one UDHL octet.
        assert all(len(udh) + 5 + len(part) <= OCTETS_SINGLE for part in seg.parts)


def test_bad_payloads_and_headers_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one octet"):
        segment_binary(b"")
    with pytest.raises(ValueError, match="UDHL"):
        segment_binary(b"x", udh=bytes.fromhex("0705040B8423F0"))
    with pytest.raises(ValueError, match="UDHL"):
        check_udh(b"")
    with pytest.raises(ValueError, match="no room"):
        segment_binary(b"x", udh=bytes([139]) + bytes(139))
    with pytest.raises(ValueError, match="255"):
        segment_binary(bytes(134 * 256))
    assert parse_hex("0aFF") == b"\x0a\xff"
    for bad in ("0", "zz", "0a ff", "+0a"):
        with pytest.raises(ValueError, match="hex"):
            parse_hex(bad)
