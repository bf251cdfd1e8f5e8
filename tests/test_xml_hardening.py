"""Hostile XML in delivery callbacks: entity expansion, external entities and DTDs are
refused quickly, with bounded memory and without any outbound connection."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import urllib3

from smsbridge import MalformedResponseError
from smsbridge.reports import ReportReceiver, ReportServer, TokenAuth
from smsbridge.testing import EmulatorFactory, LoopbackEmulator
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.callbacks import parse_callback

TOKEN = "xml-hardening-token-0001"
FIELDS = "<apiMsgId>abc123</apiMsgId><status>004</status>"
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE callback [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + f"]><callback>{FIELDS}<x>&lol9;</x></callback>"
)
QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE callback [<!ENTITY a "'
    + "a" * 50_000
    + f'">]><callback>{FIELDS}<x>'
    + "&a;" * 1_000
    + "</x></callback>"
)


def _external_entity(url: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE callback [<!ENTITY ext SYSTEM "{url}/entity">]>'
        f"<callback>{FIELDS}<x>&ext;</x></callback>"
    )


def _external_dtd(url: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE callback SYSTEM "{url}/evil.dtd">'
        f"<callback>{FIELDS}</callback>"
    )


def _internal_dtd() -> str:
    return (
        '<?xml version="1.0"?><!DOCTYPE callback [<!ELEMENT callback ANY>]>'
        f"<callback>{FIELDS}</callback>"
    )


@pytest.fixture
def outside(smsbridge_emulator_factory: EmulatorFactory) -> LoopbackEmulator:
    """A server the parser must never contact."""
    return smsbridge_emulator_factory(LoopbackEmulator)


def _refused(xml: str) -> None:
    with pytest.raises(MalformedResponseError):
        parse_callback(method="POST", query={}, headers={}, body=urlencode({"data": xml}).encode())
    with pytest.raises(MalformedResponseError):
        parse_callback(method="GET", query={"data": xml}, headers={}, body=b"")


@pytest.mark.parametrize("name", ["laughs", "quadratic", "entity", "dtd"])
def test_expansion_and_external_references_are_refused(
    name: str, outside: LoopbackEmulator
) -> None:
    xml = {
        "laughs": LAUGHS,
        "quadratic": QUADRATIC,
        "entity": _external_entity(outside.url),
        "dtd": _external_dtd(outside.url),
    }[name]
    _refused(xml)
    assert len(outside.requests) == 0


def test_a_document_type_declaration_is_refused_outright() -> None:
    # No callback form needs a DTD; allowing one leaves room for parser tricks.
    _refused(_internal_dtd())


def test_oversized_body_is_refused_before_parsing() -> None:
    body = urlencode({"data": "<callback>" + "x" * 70_000 + "</callback>"}).encode()
    with pytest.raises(MalformedResponseError, match="too large"):
        parse_callback(method="POST", query={}, headers={}, body=body)


@pytest.fixture
def served() -> Iterator[str]:
    with ClickatellProvider.from_options(
        base_url="http://127.0.0.1:9", api_id="1", user="u", password="p"
    ) as provider:
        receiver = ReportReceiver(
            [provider], store=None, auth={"clickatell": TokenAuth(TOKEN)}, max_body_bytes=4096
        )
        with ReportServer(receiver) as server:
            yield f"{server.url}/clickatell/{TOKEN}"


def test_receiver_answers_hostile_xml_with_400_and_caps_bodies(
    served: str, outside: LoopbackEmulator
) -> None:
    pool = urllib3.PoolManager(retries=False, timeout=5.0)
    try:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for xml in (LAUGHS[:3000], _external_entity(outside.url), _external_dtd(outside.url)):
            body = urlencode({"data": xml})
            assert pool.request("POST", served, body=body, headers=form).status == 400
        big = urlencode({"data": QUADRATIC})
        assert pool.request("POST", served, body=big, headers=form).status == 413
    finally:
        pool.clear()
    assert len(outside.requests) == 0
