"""The spec's message options against the emulator: checked before sending, honoured after.

Options (5.1, 5.2.6-5.2.9), binary messages (``binary``, ``udh``, ``data``), unknown and
raw options, and token (voucher) pay (6.5).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    Batch,
    ConfigurationError,
    Cost,
    InvalidMessageError,
    Message,
    ProviderError,
    SendOptions,
    SendResult,
    SmsBridge,
    Status,
    make_plugin_manager,
)
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_clickatell.features import (
    KNOWN_EXTRAS,
    RequiredFeature,
    binary_payload,
    wire_extras,
)

MakeEmulator = Callable[..., ClickatellEmulator]
MakeProvider = Callable[..., ClickatellProvider]
UK = "+447700900123"


def _send(provider: ClickatellProvider, body: str = "hi", **options: Any) -> Any:
    [result] = provider.send(Message(UK, body, options=SendOptions(**options)))
    return result


def _refused(provider: ClickatellProvider, body: str = "hi", **options: Any) -> InvalidMessageError:
    with pytest.raises(InvalidMessageError) as caught:
        _send(provider, body, **options)
    return caught.value


def _raw_send(provider: ClickatellProvider, **fields: str) -> str:
    """A sendmsg with exactly these fields, past every local check."""
    return provider.call("/http/sendmsg", [("to", "447700900123"), *fields.items()])


# -- unknown, scoped and raw options ------------------------------------------------------


def test_an_unknown_option_is_refused_by_name_before_anything_is_sent(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    error = _refused(provider, extra={"routng_group": 2})
    assert error.field == "extra.routng_group" and "routng_group" in str(error)
    assert error.provider == "clickatell"
    assert list(emulator.submissions) == []


def test_options_scoped_to_another_provider_or_the_bridge_are_skipped(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    extra = {"bulksms.routing_group": 2, "huawei_template_id": "t1", "clickatell.queue": 1}
    assert _send(provider, extra={**extra, "smsbridge_task_provider": "x"}).ok
    fields = emulator.submissions[0].fields
    assert fields["queue"] == "1" and "routing_group" not in fields
    error = _refused(provider, extra={"clickatell.routing_group": 2})
    assert error.field == "extra.clickatell.routing_group"


def test_raw_parameters_go_as_given_and_may_not_replace_ours(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    raw = {"clickatell": {"new_param": "x y"}, "bulksms": {"ignored": "1"}}
    assert _send(provider, raw=raw).ok
    fields = emulator.submissions[0].fields
    assert fields["new_param"] == "x y" and "ignored" not in fields
    error = _refused(provider, raw={"clickatell": {"to": "447700900999"}})
    assert error.field == "raw.clickatell.to"
    assert len(emulator.submissions) == 1


# -- deliv_time, req_feat, max_credits ---------------------------------------------------------


def test_deliv_time_holds_the_message_and_its_limits_are_the_specs(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    result = _send(provider, extra={"deliv_time": timedelta(hours=2)})
    assert result.status is Status.SCHEDULED
    assert emulator.submissions[0].fields["deliv_time"] == "120"
    assert emulator.messages[result.message_id].status == "011"
    for bad in (0, 10081, "soon", 1.5):
        assert _refused(provider, extra={"deliv_time": bad}).field == "extra.deliv_time"
    later = datetime.now(UTC) + timedelta(hours=1)
    error = _refused(provider, extra={"deliv_time": 60}, scheduled_at=later)
    assert "not both" in str(error)
    assert _raw_send(provider, text="hi", deliv_time="10081").startswith("ERR: 120")


def test_required_features_are_named_bits(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    wanted = RequiredFeature.FEAT_ALPHA | RequiredFeature.FEAT_DELIVACK | RequiredFeature.FEAT_NUMER
    assert _send(provider, extra={"req_feat": wanted}).ok
    assert emulator.submissions[0].fields["req_feat"] == "8240"  # the spec's own example
    for bad in (512, 0, -1, "alpha", True):
        assert _refused(provider, extra={"req_feat": bad}).field == "extra.req_feat"
    assert _raw_send(provider, text="hi", req_feat="512").startswith("ERR: 101")


def test_a_route_without_a_required_feature_fails_the_message(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    emulator = make_emulator(route_features=int(RequiredFeature.FEAT_TEXT))
    provider = make_provider(emulator)
    result = _send(provider, extra={"req_feat": RequiredFeature.FEAT_DELIVACK})
    assert result.ok  # an id first, as for max_credits
    report = provider.query(message_id=result.message_id)
    assert report.status is Status.FAILED_PERMANENT and report.provider_code == "009"


def test_max_credits_takes_the_profile_values_only(
    make_provider: MakeProvider, provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    assert _send(provider, extra={"max_credits": Decimal("1.5")}).ok
    assert emulator.submissions[0].fields["max_credits"] == "1.5"
    for bad in ("0.5", "4", "lots", 0.8, Decimal("sNaN"), "sNaN", "Infinity"):
        assert _refused(provider, extra={"max_credits": bad}).field == "extra.max_credits"
    assert _raw_send(provider, text="hi", max_credits="0.5").startswith("ERR: 101")
    assert _raw_send(provider, text="hi", max_credits="sNaN").startswith("ERR: 101")
    with pytest.raises(ConfigurationError, match="max_credits"):
        make_provider(emulator, max_credits="0.7")


# -- binary -------------------------------------------------------------------------------


def test_binary_bodies_are_hex_octets_split_in_134_octet_parts(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    payload = bytes(range(256)) + bytes(44)  # 300 octets: 134 + 134 + 32
    result = _send(provider, payload.hex(), extra={"binary": 1})
    assert result.ok and result.parts == 3
    [submission] = emulator.submissions
    assert submission.parts == 3 and submission.charge == 3
    assert submission.fields["binary"] == "1" and submission.fields["concat"] == "3"
    assert bytes.fromhex(submission.fields["text"]) == payload
    assert _send(provider, "00" * 140, extra={"binary": 1}).parts == 1
    assert provider.billable_parts("00" * 141, SendOptions(extra={"binary": 1}), country=None) == 2
    assert provider.quote(Message(UK, payload.hex(), options=SendOptions(extra={"binary": 1}))) == (
        Cost(3, "credits")
    )
    error = _refused(provider, "not hex", extra={"binary": 1})
    assert error.field == "body"


def test_a_manual_udh_sends_udh_and_data_in_one_part(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    wap_push = "0605040B8423F0"  # UDHL 6: port addressing to 2948
    result = _send(provider, "WAP push", extra={"udh": wap_push, "data": "AB" * 133})
    assert result.ok and result.parts == 1
    fields = emulator.submissions[0].fields
    assert (fields["udh"], fields["data"]) == (wap_push, "AB" * 133)
    assert "text" not in fields
    assert _refused(provider, extra={"udh": wap_push, "data": "AB" * 134}).field == "extra.udh"
    assert _refused(provider, extra={"udh": "0705040B8423F0", "data": "AB"}).field == "extra.udh"
    assert _refused(provider, extra={"udh": "XYZ"}).field == "extra.udh"
    assert _refused(provider, extra={"data": "AB"}).field == "extra.data"


def test_the_emulator_checks_binary_fields_as_the_spec_says(provider: ClickatellProvider) -> None:
    assert _raw_send(provider, udh="0605040B84", data="AB").startswith("ERR: 102")
    assert _raw_send(provider, udh="06050", data="AB").startswith("ERR: 102")
    assert _raw_send(provider, udh="0605040B8423F0", data="AB" * 134).startswith("ERR: 113")
    assert _raw_send(provider, text="zz", binary="1").startswith("ERR: 101")
    assert _raw_send(provider, text="00" * 141, binary="1").startswith("ERR: 113")  # concat 1
    assert _raw_send(provider, text="00" * 141, binary="1", concat="2").startswith("ID:")


# -- token pay ---------------------------------------------------------------------------------


def test_token_pay_spends_a_voucher_once(
    make_emulator: MakeEmulator, make_provider: MakeProvider
) -> None:
    voucher = "1234567890123456"
    emulator = make_emulator(balance=10, vouchers={voucher: 50})
    provider = make_provider(emulator)
    assert provider.token_pay(voucher) == "605"
    assert provider.balance() == Cost(60, "credits")
    with pytest.raises(ProviderError) as caught:
        provider.token_pay(voucher)
    assert caught.value.code == "101"
    with pytest.raises(InvalidMessageError) as refused:
        provider.token_pay("123456789012345X")
    assert refused.value.field == "token" and "123456789012345" not in str(refused.value.value)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20_000),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.text(max_size=12),
    st.timedeltas(),
    st.lists(st.integers(), max_size=2),
)


@given(st.dictionaries(st.sampled_from([*sorted(KNOWN_EXTRAS), "other"]), _VALUES, max_size=4))
def test_option_checks_return_wire_values_or_raise_typed(extra: dict[str, Any]) -> None:
    options = SendOptions(extra=extra)
    error: InvalidMessageError | None = None
    wire: dict[str, str] = {}
    try:
        wire = wire_extras(options, {})
        binary_payload("00AB", wire)
    except InvalidMessageError as exc:  # anything else fails the test
        error = exc
    if error is not None:
        assert error.field is not None and error.field.startswith(("extra.", "body"))
    assert all(isinstance(v, str) for v in wire.values())


def test_binary_batches(provider: ClickatellProvider, emulator: ClickatellEmulator) -> None:
    numbers = ["+447700900301", "+447700900302"]
    shared = Batch(numbers, body="00" * 200, options=SendOptions(extra={"binary": 1}))
    results = list(provider.send_batch(shared))
    assert [r.parts for r in results] == [2, 2] and all(r.ok for r in results)
    assert [s.command for s in emulator.submissions] == ["quicksend"]
    assert emulator.submissions[0].charge == 4
    manual = SendOptions(extra={"udh": "0605040B8423F0", "data": "AB" * 10})
    results = list(provider.send_batch(Batch(numbers, body="push", options=manual)))
    assert all(r.ok and r.parts == 1 for r in results)
    assert [s.command for s in emulator.submissions][1:] == ["sendmsg", "sendmsg"]
    assert emulator.submissions[1].fields["udh"] == "0605040B8423F0"


def test_options_survive_the_outbox(
    provider: ClickatellProvider, emulator: ClickatellEmulator
) -> None:
    extra = {
        "req_feat": RequiredFeature.FEAT_ALPHA | RequiredFeature.FEAT_DELIVACK,
        "deliv_time": timedelta(minutes=90),
        "max_credits": Decimal("2.5"),
        "binary": True,
    }
    options = SendOptions(extra=extra, raw={"clickatell": {"new_param": "v"}})
    bridge = SmsBridge(
        [provider], plugin_manager=make_plugin_manager(load_entry_points=False), store=":memory:"
    )
    with bridge:
        result = bridge.send(Message(UK, "0A0B0C", options=options))
    assert isinstance(result, SendResult) and result.status is Status.SCHEDULED
    fields = emulator.submissions[0].fields
    assert (fields["req_feat"], fields["deliv_time"], fields["max_credits"]) == (
        "8208",
        "90",
        "2.5",
    )
    assert (fields["binary"], fields["text"], fields["new_param"]) == ("1", "0A0B0C", "v")
