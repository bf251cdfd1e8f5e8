"""Status callbacks: every documented form parsed, and the emulator's own pushes."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    Cost,
    MalformedResponseError,
    Message,
    ProviderError,
    SendOptions,
    SmsBridgeError,
    Status,
)
from smsbridge.reports.receiver import _query
from smsbridge.testing import EmulatorFactory, LoopbackEmulator
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.callbacks import parse_callback
from smsbridge_clickatell.emulator import ClickatellEmulator

# The spec's HTTP GET example (5.2.5).
SPEC_QUERY = {
    "api_id": "12345",
    "apiMsgId": "996f364775e24b8432f45d77da8eca47",
    "cliMsgId": "abc123",
    "timestamp": "1218007814",
    "to": "279995631564",
    "from": "27833001171",
    "status": "003",
    "charge": "0.300000",
}
XML = (
    '<?xml version="1.0"?><callback><apiMsgId>996411ad91fa211e7d17bc873aa4a41d</apiMsgId>'
    "<cliMsgId></cliMsgId><timestamp>1218008129</timestamp><to>279995631564</to>"
    "<from>27833001171</from><charge>0.300000</charge><status>004</status></callback>"
)
SOAP = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><SOAP-ENV:Envelope '
    'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tns="mt_callback">'
    '<SOAP-ENV:Body><tns:mt_callback xmlns:tns="mt_callback">'
    '<api_id xsi:type="xsd:int">1234</api_id>'
    '<apimsgid xsi:type="xsd:string">2e838df2ee3ea418272ae05aaf84ce5d</apimsgid>'
    '<climsgid xsi:type="xsd:string">abc123</climsgid>'
    '<to xsi:type="xsd:string">27999123456</to><from xsi:type="xsd:string">27999000224</from>'
    '<timestamp xsi:type="xsd:int">1213690834</timestamp>'
    '<status xsi:type="xsd:int">003</status><charge xsi:type="xsd:float">0.300000</charge>'
    "</tns:mt_callback></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def test_http_get_callback() -> None:
    [report] = parse_callback(method="GET", query=SPEC_QUERY, headers={}, body=b"")
    assert report.message_id == "996f364775e24b8432f45d77da8eca47"
    assert (report.status, report.provider_code) == (Status.SENT, "003")
    assert report.reference == "abc123" and report.recipient == "+279995631564"
    assert report.occurred_at == datetime.fromtimestamp(1218007814, UTC)
    assert report.cost == Cost(Decimal("0.3"), "credits")
    assert "api_id" not in report.raw


def test_http_post_callback() -> None:
    body = urlencode({**SPEC_QUERY, "status": "007"}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    [report] = parse_callback(method="POST", query={}, headers=headers, body=body)
    assert report.status is Status.FAILED_TEMPORARY and report.error is not None


def test_xml_get_and_soap_post_callbacks() -> None:
    [xml] = parse_callback(method="GET", query={"data": XML}, headers={}, body=b"")
    assert (xml.status, xml.reference) == (Status.DELIVERED, None)
    body = urlencode({"data": SOAP}).encode()
    [soap] = parse_callback(method="POST", query={}, headers={}, body=body)
    assert soap.message_id == "2e838df2ee3ea418272ae05aaf84ce5d"
    assert (soap.status, soap.reference) == (Status.SENT, "abc123")
    [raw] = parse_callback(
        method="POST", query={}, headers={"content-type": "text/xml"}, body=SOAP.encode()
    )
    assert raw.message_id == soap.message_id


def test_soap_callbacks_are_decoded_as_their_declared_iso_8859_1() -> None:
    # A sender id with letters ISO-8859-1 has and UTF-8 would write differently.
    soap = SOAP.replace(">27999000224<", ">Caf\u00e9 M\u00fcller<").encode("iso-8859-1")
    assert b"Caf\xe9" in soap  # one octet per letter: not UTF-8
    headers = {"content-type": "text/xml; charset=ISO-8859-1"}
    [raw] = parse_callback(method="POST", query={}, headers=headers, body=soap)
    form = urlencode({"data": soap}).encode("ascii")
    [posted] = parse_callback(method="POST", query={}, headers={}, body=form)
    assert raw.raw["from"] == posted.raw["from"] == "Caf\u00e9 M\u00fcller"
    assert posted.message_id == "2e838df2ee3ea418272ae05aaf84ce5d"
    # A GET reaches the parser through the receiver's query decoding.
    query = _query(urlencode({"data": soap}))
    assert query is not None
    [got] = parse_callback(method="GET", query=query, headers={}, body=b"")
    assert got.raw["from"] == "Caf\u00e9 M\u00fcller"
    # A form value outside the XML that is not UTF-8 is refused, typed.
    with pytest.raises(MalformedResponseError):
        parse_callback(method="POST", query={}, headers={}, body=b"apiMsgId=ab&status=4&from=%E9")


def test_hostile_xml_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><callback>&a;</callback>'
    with pytest.raises(SmsBridgeError):
        parse_callback(method="GET", query={"data": bomb}, headers={}, body=b"")


def test_callback_for_another_api_id_is_refused(provider: ClickatellProvider) -> None:
    with pytest.raises(ProviderError):
        provider.parse_callback(method="GET", query=SPEC_QUERY, headers={}, body=b"")


@given(
    query=st.dictionaries(
        st.sampled_from(["apiMsgId", "status", "to", "timestamp", "charge", "data", "x"]),
        st.text(max_size=40),
    ),
    body=st.binary(max_size=200),
    method=st.sampled_from(["GET", "POST"]),
)
def test_callback_parser_returns_or_raises_typed(
    query: dict[str, str], body: bytes, method: str
) -> None:
    with contextlib.suppress(SmsBridgeError):
        parse_callback(method=method, query=query, headers={}, body=body)


def test_emulator_pushes_status_callbacks(
    smsbridge_emulator_factory: EmulatorFactory,
    make_emulator: object,
    make_provider: object,
) -> None:
    receiver = smsbridge_emulator_factory(LoopbackEmulator)
    emulator: ClickatellEmulator = make_emulator(callback_url=f"{receiver.url}/cb")  # type: ignore[operator]
    provider: ClickatellProvider = make_provider(emulator)  # type: ignore[operator]
    options = SendOptions(callback_url="https://app.example/cb")
    [result] = provider.send(Message("+447700900123", "hello", reference="cb1", options=options))
    assert emulator.submissions[0].fields["callback"] == "7"
    emulator.tick()
    emulator.tick()
    assert emulator.wait_for_callbacks()
    reports = []
    for record in receiver.requests:
        request = record.request
        reports.extend(
            provider.parse_callback(
                method=request.method, query={}, headers=request.headers, body=request.body
            )
        )
    assert [(r.message_id, r.status) for r in reports] == [
        (result.message_id, Status.SENT),
        (result.message_id, Status.DELIVERED),
    ]
    assert all(r.reference == "cb1" for r in reports)
