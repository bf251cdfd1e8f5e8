"""Request builders, response and report parsers, extend mapping; parser fuzzing."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import MalformedResponseError, SmsBridgeError, Status
from smsbridge_huawei.protocol import (
    Group,
    batch_send_fields,
    diff_send_body,
    extend_for,
    parse_send_response,
    parse_status_report,
)


def test_batch_fields_encode_params_as_a_json_string() -> None:
    fields = batch_send_fields(
        channel="csms1",
        numbers=["+8613112345678", "+447700900123"],
        template_id="t1",
        params=["3", "人民公园正门"],
        signature="华为云",
        status_callback="https://x/report",
        extend="ref-1",
    )
    assert dict(fields) == {
        "from": "csms1",
        "to": "+8613112345678,+447700900123",
        "templateId": "t1",
        "templateParas": '["3", "人民公园正门"]',
        "signature": "华为云",
        "statusCallback": "https://x/report",
        "extend": "ref-1",
    }
    assert json.loads(dict(fields)["templateParas"]) == ["3", "人民公园正门"]


def test_batch_fields_omit_empty_optionals() -> None:
    fields = dict(batch_send_fields(channel="c", numbers=["+1"], template_id="t", params=[]))
    assert set(fields) == {"from", "to", "templateId"}


def test_diff_body_uses_arrays() -> None:
    body = diff_send_body(
        channel="c",
        groups=[Group(["+1", "+2"], "t", ["a"]), Group(["+3"], "t", ["b"], "sig")],
        status_callback="https://x",
        extend="e",
    )
    assert body == {
        "from": "c",
        "statusCallback": "https://x",
        "extend": "e",
        "smsContent": [
            {"to": ["+1", "+2"], "templateId": "t", "templateParas": ["a"]},
            {"to": ["+3"], "templateId": "t", "templateParas": ["b"], "signature": "sig"},
        ],
    }


def test_extend_keeps_fitting_references_and_maps_others_deterministically() -> None:
    assert extend_for("batch-1:7") == "batch-1:7"
    long = "x" * 200
    mapped = extend_for(long)
    assert mapped == extend_for(long)
    assert mapped.startswith("h-") and len(mapped) == 42
    assert extend_for("a{b}") != "a{b}"
    assert "{" not in extend_for("a{b}")


def test_success_response_parses_every_number() -> None:
    body = {
        "code": "000000",
        "description": "Success",
        "result": [
            {
                "originTo": "+8618612345678",
                "createTime": "2018-08-06T11:59:50Z",
                "from": "1069",
                "smsMsgId": "4b4b34e7-1a9e-42ac-b309-d10997148905_85496076",
                "status": "000000",
                "countryId": "CN",
                "total": 2,
            },
            {"originTo": "+447700900123", "status": "E200028", "total": 0},
        ],
    }
    parsed = parse_send_response(json.dumps(body).encode())
    assert parsed.ok
    assert parsed.results is not None
    first, second = parsed.results
    assert first.message_id and first.message_id.endswith("_85496076")
    assert first.total == 2 and first.country == "CN"
    assert first.created is not None and first.created.year == 2018
    assert second.total is None  # 0 is not trusted


def test_error_response_has_no_results() -> None:
    parsed = parse_send_response(b'{"code":"E000503","description":"bad"}')
    assert not parsed.ok and parsed.results is None and parsed.code == "E000503"


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>", b"[]", b'{"description":"x"}', b'{"code":"000000","result":{}}',
     b'{"code":"000000","result":[{"status":"000000"}]}', b'{"code":1.5}'],
)  # fmt: skip
def test_malformed_responses_raise_typed_errors(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        parse_send_response(body)


def test_status_report_per_part() -> None:
    body = (
        b"sequence=2&total=3&orgCode=000&updateTime=2018-04-13T06%3A31%3A46Z&source=2"
        b"&smsMsgId=b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6&status=DELIVRD"
        b"&extend=ref-9&to=%2B8613112345678"
    )
    report = parse_status_report(body)
    assert report.status is Status.DELIVERED
    assert report.message_id == "b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"
    assert (report.part, report.parts) == (2, 3)
    assert report.reference == "ref-9" and report.recipient == "+8613112345678"
    assert report.occurred_at is not None and report.occurred_at.hour == 6
    assert report.error is None


def test_status_report_defaults_and_failure_info() -> None:
    report = parse_status_report(b"smsMsgId=m_1&status=UNDELIV&statusDesc=gone&to=13112345678")
    assert (report.part, report.parts) == (1, 1)
    assert report.status is Status.FAILED_PERMANENT
    assert report.error is not None and report.error.code == "UNDELIV"
    assert report.provider_text == "gone"
    assert report.recipient == "+8613112345678"


@pytest.mark.parametrize(
    "body",
    [b"", b"status=DELIVRD", b"smsMsgId=x", b"smsMsgId=x&status=DELIVRD&total=a",
     b"smsMsgId=x&status=DELIVRD&total=1&sequence=2", b"\xff\xfe", b"a=b=c&&"],
)  # fmt: skip
def test_malformed_reports_raise_typed_errors(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        parse_status_report(body)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_entry = st.fixed_dictionaries(
    {},
    optional={
        "originTo": _json_values | st.text(max_size=22),
        "status": _json_values | st.sampled_from(["000000", "E200041"]),
        "smsMsgId": _json_values,
        "createTime": _json_values,
        "total": _json_values,
    },
)
_responses = st.fixed_dictionaries(
    {},
    optional={
        "code": _json_values | st.sampled_from(["000000", "E000510"]),
        "description": _json_values,
        "result": st.lists(_entry, max_size=4) | _json_values,
    },
).map(lambda d: json.dumps(d).encode())


@given(st.binary(max_size=300) | _responses)
def test_send_parser_returns_or_raises_smsbridge_error(body: bytes) -> None:
    with contextlib.suppress(SmsBridgeError):
        parse_send_response(body)


_report_fields = st.dictionaries(
    st.sampled_from(["smsMsgId", "status", "total", "sequence", "updateTime", "to", "extend",
                     "statusDesc", "x"]),
    st.text(max_size=12),
)  # fmt: skip


@given(st.binary(max_size=300) | _report_fields.map(lambda d: urlencode(d).encode()))
def test_report_parser_returns_or_raises_smsbridge_error(body: bytes) -> None:
    with contextlib.suppress(SmsBridgeError):
        parse_status_report(body)
