"""Per-row settings against the document: a bad row is refused alone, before sending.

The emulator does what the document says the gateway does with the same values (ignores
or truncates them and sends anyway), which is why the provider must refuse them first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import Batch, InvalidMessageError, Message, SendOptions, Status
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.options import BulkSmsOptions
from smsbridge_bulksms.planning import Planner
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_bulksms.rules import KNOWN_EXTRAS, extras_for

from .conftest import PASSWORD

GOOD = "+447700900600"
BAD = "+447700900601"
OTHER = "+447700900602"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_PLANNER = Planner(BulkSmsOptions(username="u", password="p"), None, "bulksms")


def _row(number: str, sender: str | None = None, **extra: Any) -> Message:
    return Message(number, "hello", sender, options=SendOptions(extra=extra))


@pytest.mark.parametrize(
    ("sender", "extra", "field"),
    [
        (None, {"routing_group": 5}, "extra.routing_group"),
        (None, {"msg_class": 7}, "extra.msg_class"),
        (None, {"source_id": "x" * 40}, "extra.source_id"),
        (None, {"source_id": "tab\there"}, "extra.source_id"),
        ("Shop", {"repliable": 1}, "extra.repliable"),
        (None, {"repliable": "yes"}, "extra.repliable"),
        (None, {"dca": "16bit"}, "extra.dca"),
        (None, {"want_report": 2}, "extra.want_report"),
        (None, {"want_report": Decimal("sNaN")}, "extra.want_report"),
        (None, {"routng_group": 2}, "extra.routng_group"),
        (None, {7: 2}, "extra.7"),
    ],
)
def test_a_row_breaking_a_rule_is_refused_alone(
    provider: BulkSmsProvider,
    emulator: BulkSmsEmulator,
    sender: str | None,
    extra: dict[str, Any],
    field: str,
) -> None:
    bad = Message(BAD, "hello", sender, options=SendOptions(extra=extra))
    rows = [_row(GOOD), bad, _row(OTHER)]
    results = {r.recipient: r for r in provider.send_messages(rows)}
    assert {n: r.status for n, r in results.items()} == {
        GOOD: Status.ACCEPTED,
        BAD: Status.REJECTED,
        OTHER: Status.ACCEPTED,
    }
    refused = results[BAD]
    assert refused.attempts == 0 and refused.error is not None
    assert field.rsplit(".", 1)[-1] in refused.error.text
    assert [m.msisdn for m in emulator.messages] == ["447700900600", "447700900602"]
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(bad)
    assert caught.value.field == field


def test_the_documented_values_go_through(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    row = _row(GOOD, None, routing_group="3", msg_class=0, source_id="x" * 20, repliable=True)
    [result] = provider.send_messages([row])
    assert result.ok
    [message] = emulator.messages
    assert (message.routing_group, message.msg_class, message.repliable) == ("3", "0", "1")
    assert message.source_id == "x" * 20


def test_a_batch_with_a_bad_setting_refuses_each_recipient(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    batch = Batch([GOOD, BAD], body="hi", options=SendOptions(extra={"msg_class": 1}))
    results = list(provider.send_batch(batch))
    assert [r.status for r in results] == [Status.REJECTED, Status.REJECTED]
    assert list(emulator.submissions) == []


def test_scoped_and_raw_options(provider: BulkSmsProvider, emulator: BulkSmsEmulator) -> None:
    options = SendOptions(
        extra={"bulksms.routing_group": 1, "clickatell.req_feat": 16},
        raw={"bulksms": {"new_flag": "1"}, "clickatell": {"other": "x"}},
    )
    [result] = provider.send_messages([Message(GOOD, "hi", options=options)])
    assert result.ok
    form = emulator.submissions[0].fields
    assert form["new_flag"] == "1" and "other" not in form and "req_feat" not in form
    assert emulator.messages[0].routing_group == "1"
    bad = SendOptions(raw={"bulksms": {"routing_group": "9"}})
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(Message(GOOD, "hi", options=bad))
    assert caught.value.field == "raw.bulksms.routing_group"


def test_8bit_bodies_are_hex_octets_in_one_part(
    provider: BulkSmsProvider, emulator: BulkSmsEmulator
) -> None:
    wap = "0605040B8423F0" + "AB" * 133  # 140 octets, header included
    [result] = provider.send(Message(GOOD, wap.lower(), options=SendOptions(extra={"dca": "8bit"})))
    assert result.ok and result.parts == 1
    body = emulator.requests[-1].request.body.decode("ascii")
    form = dict(parse_qsl(body, encoding="iso-8859-1"))
    assert (form["dca"], form["message"]) == ("8bit", wap)
    assert emulator.messages[0].parts == 1
    assert emulator.messages[0].text.encode("iso-8859-1") == bytes.fromhex(wap)
    eight = SendOptions(extra={"dca": "8bit"})
    assert provider.billable_parts("00" * 140, eight, country=None) == 1
    for body in ("AB" * 141, "not hex", "ABC"):
        with pytest.raises(InvalidMessageError) as caught:
            provider.send(Message(GOOD, body, options=eight))
        assert caught.value.field == "body"


def test_the_emulator_ignores_invalid_values_as_the_document_says(
    emulator: BulkSmsEmulator,
) -> None:
    csv = (
        "msisdn,message,sender,msg_class,routing_group,source_id,repliable\n"
        '"447700900600","hi","Shop","7","5","' + "s" * 40 + '","1"\n'
    )
    form = {"username": emulator.username, "password": PASSWORD, "batch_data": csv}
    url = f"{emulator.url}/eapi/submission/send_batch/1/1.0"
    answer = urllib3.request("POST", url, body=urlencode(form).encode(), headers=_FORM)
    assert answer.data.decode().startswith("0|")
    [message] = emulator.messages
    assert (message.msg_class, message.routing_group, message.sender) == (None, None, None)
    assert message.source_id == "s" * 20 and message.repliable == "1"


@given(
    st.dictionaries(
        st.sampled_from([*sorted(KNOWN_EXTRAS), "other", "bulksms.msg_class"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-3, 30),
            st.text(max_size=25),
            st.decimals(allow_nan=True),
        ),
        max_size=4,
    ),
    st.sampled_from([None, "Shop"]),
)
def test_setting_checks_return_wire_values_or_raise_typed(
    extra: dict[str, Any], sender: str | None
) -> None:
    error: InvalidMessageError | None = None
    wire: dict[str, str] = {}
    options = SendOptions(extra=extra)
    _PLANNER.params_for(options)  # groups rows: never raises
    try:
        wire = extras_for(sender, options)
    except InvalidMessageError as exc:  # anything else fails the test
        error = exc
    if error is not None:
        assert error.field is not None and error.field.startswith("extra.")
    assert all(isinstance(v, str) for v in wire.values())
    assert len(wire.get("source_id", "")) <= 20
