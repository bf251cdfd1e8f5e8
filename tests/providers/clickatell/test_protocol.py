"""Request builders and response parsers, without I/O; fuzz properties for each parser."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    Kind,
    MalformedResponseError,
    ProviderError,
    Scope,
    SendOptions,
    SmsBridgeError,
    Template,
    segment,
)
from smsbridge_clickatell import protocol as p
from smsbridge_clickatell.features import wire_extras


def test_unicode_hex_matches_the_spec_example() -> None:
    assert p.encode_unicode("ΩΨΘ") == "03A903A80398"
    assert p.encode_unicode("Hi ☺ é").lower() == "004800690020263a002000e9"
    assert p.decode_unicode("03a903a80398") == "ΩΨΘ"


@pytest.mark.parametrize("bad", ["03A", "zz00", "D800", "00G1"])
def test_decode_unicode_refuses_bad_hex(bad: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        p.decode_unicode(bad)


def test_wire_number() -> None:
    assert p.wire_number("+44 7700 900123") == "447700900123"
    assert p.wire_number("00447700900123") == "447700900123"


def test_client_message_id() -> None:
    assert p.client_message_id("abc123") == "abc123"
    derived = p.client_message_id("batch-ref-17")
    assert len(derived) == 32 and derived.isalnum()
    assert derived == p.client_message_id("batch-ref-17")
    assert derived != p.client_message_id("batch-ref-71")
    assert len(p.client_message_id("a" * 33)) == 32


def _fields(text: str, **kwargs: Any) -> dict[str, str]:
    options = kwargs.pop("options", SendOptions())
    fields = p.message_fields(
        segment(text),
        sender=kwargs.pop("sender", None),
        client_id=kwargs.pop("client_id", None),
        options=options,
        extras=wire_extras(options, kwargs.pop("defaults", {})),
        now=datetime(2024, 1, 1, tzinfo=UTC),
        **kwargs,
    )
    return dict(fields)


def test_fields_for_plain_text() -> None:
    assert _fields("hello", sender="ACME", client_id="r1") == {
        "text": "hello",
        "from": "ACME",
        "climsgid": "r1",
    }


def test_fields_for_unicode_multipart() -> None:
    fields = _fields("☺" * 100)
    assert fields["unicode"] == "1"
    assert fields["concat"] == "2"
    assert p.decode_unicode(fields["text"]) == "☺" * 100


def test_fields_for_options_and_extras() -> None:
    options = SendOptions(
        scheduled_at=datetime(2024, 1, 2, tzinfo=UTC),
        validity=timedelta(hours=2),
        callback_url="https://example.invalid/cb",
        extra={"mo": 1, "queue": 1, "bulksms.unrelated": "x", "req_feat": None},
    )
    fields = _fields("hi", options=options, defaults={"queue": 3, "escalate": 1})
    assert fields["scheduled_time"] == str(int(datetime(2024, 1, 2, tzinfo=UTC).timestamp()))
    assert fields["validity"] == "120"
    assert fields["callback"] == "7"
    assert (fields["mo"], fields["queue"], fields["escalate"]) == ("1", "1", "1")
    assert "unrelated" not in fields and "req_feat" not in fields


def test_validity_is_capped_and_past_schedules_dropped() -> None:
    options = SendOptions(scheduled_at=datetime(2023, 1, 1, tzinfo=UTC), validity=timedelta(days=3))
    fields = _fields("hi", options=options)
    assert fields["validity"] == "1440"
    assert "scheduled_time" not in fields


def test_batch_template_maps_named_placeholders_to_numbered_fields() -> None:
    text, names = p.batch_template(Template("Hi {name}, {{literal}} at {time}; bye {name}"))
    assert text == "Hi #field1#, {literal} at #field2#; bye #field1#"
    assert names == ("name", "time")


# -- response parsers -------------------------------------------------------------------


def test_parse_send_single() -> None:
    [line] = p.parse_send("ID: abc123\n", ["447700900123"])
    assert line is not None
    assert (line.message_id, line.destination) == ("abc123", "447700900123")


def test_parse_send_multi_with_spacing_quirks_and_errors() -> None:
    body = "ID: 111 To:27111\r\nID:222 To: 27222\nERR: 114, Cannot route message To: 27333\n"
    lines = p.parse_send(body, ["27111", "27222", "27333", "27444"])
    assert [x.message_id if x else None for x in lines] == ["111", "222", None, None]
    assert lines[2] is not None and (lines[2].code, lines[2].text) == (
        "114",
        "Cannot route message",
    )
    assert lines[3] is None  # not mentioned: outcome unknown


def test_parse_send_single_destination_error_is_a_line() -> None:
    [line] = p.parse_send("ERR: 105, Invalid destination address", ["12"])
    assert line is not None and line.code == "105"


@pytest.mark.parametrize(
    ("body", "scope", "kind"),
    [
        ("ERR: 001, Authentication failed", Scope.PROVIDER, Kind.PERMANENT),
        ("ERR: 101, Invalid or missing parameters", Scope.REQUEST, Kind.PERMANENT),
        ("ERR: 301, No credit left", Scope.PROVIDER, Kind.PERMANENT),
        ("ERR: 901, Internal error", Scope.PROVIDER, Kind.TRANSIENT),
    ],
)
def test_parse_send_request_errors_raise(body: str, scope: Scope, kind: Kind) -> None:
    with pytest.raises(ProviderError) as caught:
        p.parse_send(body, ["447700900123"])
    assert (caught.value.scope, caught.value.kind) == (scope, kind)
    assert caught.value.code == body[5:8]


def test_a_destination_error_without_to_for_several_destinations_raises() -> None:
    with pytest.raises(ProviderError):
        p.parse_send("ERR: 105, Invalid destination address", ["1", "2"])


def test_mt_limit_error_carries_retry_after() -> None:
    with pytest.raises(ProviderError) as caught:
        p.raise_for_error(f"ERR: 130, Maximum MT limit exceeded until {10**9 + 60}")
    assert caught.value.retry_after is not None
    assert caught.value.transient


@pytest.mark.parametrize(
    "body", ["", "OK", "ID:", "ID: 1 To: 2\nhello", "ERR: x, y", "ID: 1\nID: 2"]
)
def test_parse_send_garbage(body: str) -> None:
    with pytest.raises(MalformedResponseError):
        p.parse_send(body, ["1"])


def test_parse_other_answers() -> None:
    assert p.parse_ok("OK: 0123abcd") == "0123abcd"
    assert p.parse_ok("OK: ", "ping") == ""
    assert p.parse_status("ID: abc Status: 004") == ("abc", "004")
    assert p.parse_balance("Credit: 12.5") == Decimal("12.5")
    charge = p.parse_charge("cliMsgId: r1 charge: 0.3 apiMsgId: abc status: 004")
    assert (charge.message_id, charge.client_id, charge.charge, charge.status) == (
        "abc",
        "r1",
        Decimal("0.3"),
        "004",
    )
    assert p.parse_charge("apiMsgId:abc charge:1 status:3").status == "003"
    assert p.parse_coverage("OK: Supported. Charge: 0.8") == (True, Decimal("0.8"), "Supported.")
    routable, charge_, text = p.parse_coverage("ERR: This prefix is not currently supported.")
    assert (routable, charge_) == (False, None) and text.startswith("This prefix")
    with pytest.raises(ProviderError):
        p.parse_coverage("ERR: 001, Authentication failed")
    assert p.error_code("ERR: 3, Session ID expired") == "003"
    assert p.error_code("ID: 1") is None


PARSERS: list[Callable[[str], object]] = [
    lambda t: p.parse_send(t, ["447700900123"]),
    lambda t: p.parse_send(t, ["27111", "27222"]),
    p.parse_ok,
    lambda t: p.parse_id(t, "senditem"),
    p.parse_status,
    p.parse_charge,
    p.parse_balance,
    p.parse_coverage,
]

_tokens = st.sampled_from(
    ["ID:", "ERR:", "To:", "Status:", "OK:", "Credit:", "charge:", "apiMsgId:", " ", "\n",
     "\r\n", ",", "003", "114", "abc", "27111", "0.5", "-", "+"]
)  # fmt: skip
_bodies = st.one_of(st.text(max_size=300), st.lists(_tokens, max_size=30).map("".join))


@given(body=_bodies, which=st.integers(0, len(PARSERS) - 1))
def test_parsers_return_or_raise_typed_errors(body: str, which: int) -> None:
    with contextlib.suppress(SmsBridgeError):
        PARSERS[which](body)


@given(text=st.text(min_size=1, max_size=200))
def test_unicode_round_trip(text: str) -> None:
    try:
        encoded = p.encode_unicode(text)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be sent at all
    assert p.decode_unicode(encoded) == text
