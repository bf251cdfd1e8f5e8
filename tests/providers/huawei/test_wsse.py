"""X-WSSE: the spec's test vector, header construction and strict parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsbridge import Secret
from smsbridge_huawei.wsse import (
    AUTHORIZATION,
    WsseError,
    created_stamp,
    digest_matches,
    parse_headers,
    password_digest,
    raw_password_digest,
    wsse_headers,
)

NONCE = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
CREATED = "2018-02-12T15:30:20Z"
SECRET = "appSecretExample"
OFFICIAL = (
    "MTZhYmExOWE2MzM1OTBkY2I3YTVhOTA3NDYzMTViNTZhN2IwNDg3NWQyZTM4ZmY3NjBkODBlZjAxNDBkNDkyYQ=="
)
RAW = "FquhmmM1kNy3pakHRjFbVqewSHXS44/3YNgO8BQNSSo="


def test_spec_test_vector_official_form() -> None:
    assert password_digest(NONCE, CREATED, SECRET) == OFFICIAL
    assert len(OFFICIAL) == 88


def test_spec_test_vector_raw_variant() -> None:
    assert raw_password_digest(NONCE, CREATED, SECRET) == RAW


def test_digest_matches_accepts_both_encodings_only() -> None:
    assert digest_matches(OFFICIAL, NONCE, CREATED, SECRET)
    assert digest_matches(RAW, NONCE, CREATED, SECRET)
    assert not digest_matches(OFFICIAL, NONCE, CREATED, "other")
    assert not digest_matches("16aba19a633590dcb7a5a90746315b56", NONCE, CREATED, SECRET)


def test_created_is_utc_whatever_the_local_zone() -> None:
    beijing = timezone(timedelta(hours=8))
    assert created_stamp(datetime(2018, 2, 12, 23, 30, 20, tzinfo=beijing)) == CREATED
    with pytest.raises(ValueError, match="timezone"):
        created_stamp(datetime(2018, 2, 12))


def test_headers_carry_the_vector_and_hide_the_key() -> None:
    now = datetime(2018, 2, 12, 15, 30, 20, tzinfo=UTC)
    headers = wsse_headers(Secret("ARBRz4b"), Secret(SECRET), now=now, nonce=NONCE)
    assert headers["Authorization"] == AUTHORIZATION
    token = headers["X-WSSE"]
    assert isinstance(token, Secret)
    assert "ARBRz4b" not in repr(headers)
    assert token.reveal() == (
        f'UsernameToken Username="ARBRz4b",PasswordDigest="{OFFICIAL}",'
        f'Nonce="{NONCE}",Created="{CREATED}"'
    )
    assert SECRET not in token.reveal()
    parsed = parse_headers(AUTHORIZATION, token.reveal())
    assert (parsed.username, parsed.digest, parsed.nonce, parsed.created) == (
        "ARBRz4b", OFFICIAL, NONCE, CREATED,
    )  # fmt: skip


def test_random_nonces_differ() -> None:
    now = datetime.now(UTC)
    first = wsse_headers(Secret("k"), Secret("s"), now=now)["X-WSSE"]
    second = wsse_headers(Secret("k"), Secret("s"), now=now)["X-WSSE"]
    assert isinstance(first, Secret) and isinstance(second, Secret)
    assert first.reveal() != second.reveal()


def test_comma_space_separators_are_accepted() -> None:
    token = parse_headers(
        'WSSE realm="SDP", profile="UsernameToken", type="Appkey"',
        f'UsernameToken Username="k", PasswordDigest="{OFFICIAL}", Nonce="{NONCE}", '
        f'Created="{CREATED}"',
    )
    assert token.username == "k"


GOOD_X = f'UsernameToken Username="k",PasswordDigest="d",Nonce="{NONCE}",Created="{CREATED}"'


@pytest.mark.parametrize(
    ("authorization", "x_wsse", "code"),
    [
        (None, GOOD_X, "E000001"),
        ('Basic realm="SDP"', GOOD_X, "E000008"),
        ('WSSE profile="UsernameToken",type="Appkey"', GOOD_X, "E000002"),
        ('WSSE realm="SDP",type="Appkey"', GOOD_X, "E000003"),
        ('WSSE realm="SDP",profile="UsernameToken"', GOOD_X, "E000007"),
        ('WSSE realm="X",profile="UsernameToken",type="Appkey"', GOOD_X, "E000004"),
        ('WSSE realm="SDP",profile="Token",type="Appkey"', GOOD_X, "E000005"),
        ('WSSE realm="SDP",profile="UsernameToken",type="AK"', GOOD_X, "E000006"),
        (AUTHORIZATION, None, "E000020"),
        (AUTHORIZATION, GOOD_X.replace('Username="k",', ""), "E000021"),
        (AUTHORIZATION, GOOD_X.replace(f'Nonce="{NONCE}",', ""), "E000022"),
        (AUTHORIZATION, GOOD_X.replace(f',Created="{CREATED}"', ""), "E000023"),
        (AUTHORIZATION, GOOD_X.replace('PasswordDigest="d",', ""), "E000024"),
        (AUTHORIZATION, GOOD_X.replace("UsernameToken ", "Token "), "E000025"),
    ],
)
def test_header_errors_have_the_platform_codes(
    authorization: str | None, x_wsse: str | None, code: str
) -> None:
    with pytest.raises(WsseError) as caught:
        parse_headers(authorization, x_wsse)
    assert caught.value.code == code
