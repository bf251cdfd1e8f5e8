"""Providers whose answers quote the request back, credentials included: no spelling of a
credential may reach results, ``status()``, exceptions, logs or the outbox file.

Every bundled provider's emulator refuses with its own error format quoting the whole
request (:class:`~smsbridge.testing.EchoRequest`): query string and body as sent and
decoded, every header, a Basic ``Authorization`` decoded.
"""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from smsbridge import Message, Provider, SendOptions, SmsBridge, SmsBridgeError
from smsbridge.credentials import REDACTED, secret_forms
from smsbridge.testing import EchoRequest, Emulator, EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.emulator import SmsmodeEmulator

# Characters that URL-, JSON- and XML-encoding each spell differently.
PASSWORD = 'CANARY-pw/+&=;"<x> 42'
API_ID = "CANARY-api-77310"
USER = "CANARY-user@example"
APP_KEY = "CANARY-app-key-5521"
APP_SECRET = "CANARY-app-secret-9"
TOKEN = "CANARYtoken0123456789"

Build = Callable[[EmulatorFactory], tuple[Emulator, Provider, list[str]]]


def _clickatell(mode: str) -> Build:
    def build(factory: EmulatorFactory) -> tuple[Emulator, Provider, list[str]]:
        emulator = factory(ClickatellEmulator, api_id=API_ID, user=USER, password=PASSWORD)
        options = {**ClickatellProvider.emulator_options(emulator), "auth_mode": mode}
        return emulator, ClickatellProvider.from_options(**options), [API_ID, USER, PASSWORD]

    return build


def _bulksms(factory: EmulatorFactory) -> tuple[Emulator, Provider, list[str]]:
    emulator = factory(BulkSmsEmulator, username=USER, password=PASSWORD)
    options = BulkSmsProvider.emulator_options(emulator)
    return emulator, BulkSmsProvider.from_options(**options), [USER, PASSWORD]


def _huawei(factory: EmulatorFactory) -> tuple[Emulator, Provider, list[str]]:
    emulator = factory(HuaweiEmulator, app_key=APP_KEY, app_secret=APP_SECRET)
    emulator.register_template(TEMPLATE, "Code ${1}", region="INTL")
    options = HuaweiProvider.emulator_options(emulator)
    return emulator, HuaweiProvider.from_options(**options), [APP_KEY, APP_SECRET]


def _smsmode(factory: EmulatorFactory) -> tuple[Emulator, Provider, list[str]]:
    emulator = factory(SmsmodeEmulator, access_token=TOKEN)
    options = SmsmodeProvider.emulator_options(emulator)
    return emulator, SmsmodeProvider.from_options(**options), [TOKEN]


BUILDS: dict[str, Build] = {
    "clickatell-per-call": _clickatell("per_call"),
    "clickatell-session": _clickatell("session"),
    "bulksms": _bulksms,
    "huawei": _huawei,
    "smsmode": _smsmode,
}
NUMBER = {"smsmode": "+33612345678"}
#: Providers whose results keep the provider's own error text (BulkSMS keeps its code's).
KEEPS_TEXT = {"clickatell-per-call", "clickatell-session", "huawei", "smsmode"}
TEMPLATE = "tplecho000000000000000000000001"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _leaks(texts: str, secrets: list[str]) -> list[str]:
    return sorted({s for s in secrets for form in secret_forms(s) if form in texts})


def _leaks_bytes(data: bytes, secrets: list[str]) -> list[str]:
    found = set()
    for secret in secrets:
        for form in secret_forms(secret):
            for codec in ("utf-8", "latin-1", "utf-16-le"):
                try:
                    if form.encode(codec) in data:
                        found.add(secret)
                except UnicodeEncodeError:
                    continue
    return sorted(found)


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_an_echoed_request_leaves_no_secret_anywhere(
    name: str,
    smsbridge_emulator_factory: EmulatorFactory,
    tmp_path: pathlib.Path,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    emulator, provider, secrets = BUILDS[name](smsbridge_emulator_factory)
    rule = emulator.faults.add(EchoRequest())
    store = tmp_path / "outbox.sqlite3"
    number = NUMBER.get(name.split("-")[0], "+447700900123")
    texts: list[str] = []
    with SmsBridge([provider], store=store, max_wait=0.0) as bridge:
        try:
            options = SendOptions(
                extra={"huawei_template_id": TEMPLATE, "huawei_template_params": ["42"]}
            )
            message = Message(number, "hello", None, "echo-1", options=options)
            result: Any = bridge.send(message)
            texts += [repr(result), str(result)]
            error = getattr(result, "error", None)
            texts += [repr(error), str(getattr(error, "text", ""))]
        except SmsBridgeError as exc:
            texts += [str(exc), repr(exc), repr(vars(exc))]
        history = bridge.status("echo-1")
        assert history is not None
        texts += [repr(history), repr(history.item), *(repr(a) for a in history.attempts)]
    assert rule.fired >= 1
    everything = "\n".join(texts)
    if name in KEEPS_TEXT:
        # The echo did come back (redacted): not a test of an answer that said nothing.
        assert REDACTED in everything
    assert _leaks(everything, secrets) == []
    logs = "\n".join(r.getMessage() for r in debug_logs.records)
    logs += "\n".join(str(r.exc_info) for r in debug_logs.records if r.exc_info)
    assert _leaks(logs, secrets) == []
    files = sorted(tmp_path.glob("outbox.sqlite3*"))
    assert files
    for path in files:
        assert _leaks_bytes(path.read_bytes(), secrets) == [], path.name


def test_every_spelling_is_redacted_in_text_and_bytes() -> None:
    from smsbridge.credentials import Redactor

    redact = Redactor([PASSWORD])
    for form in secret_forms(PASSWORD):
        assert PASSWORD not in redact(f"x {form} y")
        assert form not in redact(f"x {form} y")
        assert form.encode() not in redact.redact_bytes(f"x {form} y".encode())
    # A Basic header's base64 carries the password at any offset.
    import base64

    for user in ("u", "us", "use"):
        header = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        assert _leaks(redact(f"Authorization: Basic {header}"), [PASSWORD]) == []
        assert REDACTED in redact(header)
    assert redact.redact_bytes(f"pw={PASSWORD}".encode("utf-16-le")) == (
        f"pw={REDACTED}".encode("utf-16-le")
    )
