"""Every provider response parser and every callback parser, fed arbitrary bytes: each
returns a result or raises a :class:`~smsbridge.SmsBridgeError`, nothing else, no hang.

The parsers are imported from the providers' public modules, so a renamed parser breaks
this file instead of silently dropping out of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import Provider, SmsBridgeError
from smsbridge.plugins import make_plugin_manager
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms import parsers as bulksms
from smsbridge_clickatell import protocol as clickatell
from smsbridge_clickatell.callbacks import parse_callback as clickatell_callback
from smsbridge_huawei import protocol as huawei

# Text parsers take the decoded body, as the providers hand it over.
TEXT_PARSERS: dict[str, Callable[[str], object]] = {
    "clickatell.parse_ok": clickatell.parse_ok,
    "clickatell.parse_send": lambda t: clickatell.parse_send(t, ["447700900123", "4477009"]),
    "clickatell.parse_id": lambda t: clickatell.parse_id(t, "startbatch"),
    "clickatell.parse_status": clickatell.parse_status,
    "clickatell.parse_charge": clickatell.parse_charge,
    "clickatell.parse_balance": clickatell.parse_balance,
    "clickatell.parse_coverage": clickatell.parse_coverage,
    "clickatell.raise_for_error": clickatell.raise_for_error,
    "bulksms.parse_submission": bulksms.parse_submission,
    "bulksms.parse_credits": bulksms.parse_credits,
    "bulksms.parse_quote": bulksms.parse_quote,
    "bulksms.parse_report": bulksms.parse_report,
}
BYTES_PARSERS: dict[str, Callable[[bytes], object]] = {
    "huawei.parse_send_response": huawei.parse_send_response,
    "huawei.parse_status_report": huawei.parse_status_report,
    "clickatell.callback(POST)": lambda b: clickatell_callback(
        method="POST", query={}, headers={}, body=b
    ),
}
QUERY_PARSERS: dict[str, Callable[[dict[str, str]], object]] = {
    "bulksms.parse_callback_query": bulksms.parse_callback_query,
    "clickatell.callback(GET)": lambda q: clickatell_callback(
        method="GET", query=q, headers={}, body=b""
    ),
}

# Bytes that look a little like the protocols reach deeper than uniform noise.
_TOKENS = st.sampled_from([
    b"ID: ", b"ERR: ", b"OK: ", b"Status: ", b"charge: ", b"|", b"0|", b"\n", b"To: ",
    b"<", b">", b"<?xml version='1.0'?>", b"<!DOCTYPE x [", b"&", b";", b"=", b"{", b"}",
    b'"result":[', b'"code":"000000"', b"smsMsgId=", b"status=", b"total=", b"sequence=",
    b"\xff", b"\x00", b"9" * 30, b"apiMsgId", b"data=",
])  # fmt: skip
BODIES = st.one_of(st.binary(max_size=512), st.lists(_TOKENS, max_size=40).map(b"".join))
QUERIES = st.dictionaries(
    st.sampled_from(["msisdn", "batch_id", "status", "apiMsgId", "data", "completed_time", "x"]),
    st.text(max_size=40),
    max_size=6,
)


def _contained(call: Callable[[], object]) -> None:
    with contextlib.suppress(SmsBridgeError):
        call()


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@given(body=BODIES)
def test_text_parsers(name: str, body: bytes) -> None:
    _contained(lambda: TEXT_PARSERS[name](body.decode("utf-8", "replace")))


@pytest.mark.parametrize("name", sorted(BYTES_PARSERS))
@given(body=BODIES)
def test_bytes_parsers(name: str, body: bytes) -> None:
    _contained(lambda: BYTES_PARSERS[name](body))


@pytest.mark.parametrize("name", sorted(QUERY_PARSERS))
@given(query=QUERIES)
def test_query_parsers(name: str, query: dict[str, str]) -> None:
    _contained(lambda: QUERY_PARSERS[name](query))


def _installed() -> dict[str, type[Provider]]:
    manager = make_plugin_manager()
    return {info.name: info.cls for info in manager.registry.infos()}


INSTALLED = _installed()


@pytest.fixture(scope="module")
def installed() -> Iterator[dict[str, Provider]]:
    """Every installed provider, configured against its own emulator."""
    built: dict[str, Provider] = {}
    with EmulatorFactory() as factory:
        for name, cls in INSTALLED.items():
            emulator_class = cls.emulator_class()
            assert emulator_class is not None, f"{name} ships no emulator"
            built[name] = cls.from_options(**cls.emulator_options(factory(emulator_class)))
        yield built
        for provider in built.values():
            provider.close()


@pytest.mark.parametrize("name", sorted(INSTALLED))
@given(method=st.sampled_from(["GET", "POST"]), query=QUERIES, body=BODIES)
def test_every_installed_providers_callback_parser(
    installed: dict[str, Provider], name: str, method: str, query: dict[str, str], body: bytes
) -> None:
    provider = installed[name]
    _contained(
        lambda: provider.parse_callback(
            method=method,
            query=query,
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=body,
        )
    )
