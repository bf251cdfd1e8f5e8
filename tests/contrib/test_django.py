"""The Django app with Django's own test machinery: ``override_settings``, the test
client, ``call_command`` and the system checks; sending to the emulators over sockets.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import Client, override_settings

from smsbridge import Status
from smsbridge.contrib.django import SettingsError, get_backend, outbox, send_sms
from smsbridge.contrib.django.backends import BridgeBackend
from smsbridge.errors import ConfigurationError
from smsbridge.outbox import SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

pytestmark = pytest.mark.usefixtures("django_configured")

OUTBOX_BACKEND = "smsbridge.contrib.django.backends.OutboxBackend"
TOKEN = "django-report-token-0123456789"


def _settings(tmp_path: Path, emulator: ClickatellEmulator, **extra: Any) -> dict[str, Any]:
    options = ClickatellProvider.emulator_options(emulator)
    return {
        "region": "GB",
        "store": tmp_path / "outbox.sqlite3",
        "routing": {"retry": {"max_attempts": 2, "base": 0.01, "cap": 0.05}},
        "providers": {"clickatell": {**options, **extra.pop("options", {})}},
        **extra,
    }


def _accepted(emulator: ClickatellEmulator) -> Counter[str]:
    return emulator.submissions.accepted_recipients()


def test_send_sms_sends_once_per_reference(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    with override_settings(SMSBRIDGE=_settings(tmp_path, emulator)):
        assert isinstance(get_backend(), BridgeBackend)  # the default
        first = send_sms("07700 900123", "Your code is 482913", reference="otp-1")
        again = send_sms("07700 900123", "Your code is 482913", reference="otp-1")
    assert first.ok, first
    assert (first.provider, first.recipient) == ("clickatell", "+447700900123")
    assert again.message_id == first.message_id
    assert sum(_accepted(emulator).values()) == 1


def test_send_sms_to_several_numbers_keeps_going_past_an_invalid_one(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    numbers = ["07700 900123", "not a number", "+33 6 12 34 56 78", "07700900123"]
    with override_settings(SMSBRIDGE=_settings(tmp_path, emulator)):
        results = send_sms(numbers, "Your parcel arrives today")
    assert [r.status.is_success for r in results] == [True, False, True]
    assert results[1].status is Status.INVALID_NUMBER
    assert results[1].recipient == "not a number"
    assert sum(_accepted(emulator).values()) == 2


def test_outbox_backend_queues_and_the_worker_command_sends(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    numbers = [f"07700 9001{i:02d}" for i in range(5)]
    with override_settings(SMSBRIDGE=_settings(tmp_path, emulator, backend=OUTBOX_BACKEND)):
        queued = send_sms(numbers, "Reminder: dentist at 9:30", reference="reminders-7")
        again = send_sms(numbers, "Reminder: dentist at 9:30", reference="reminders-7")
        assert [r.status for r in queued] == [Status.QUEUED] * 5
        assert [r.reference for r in again] == [r.reference for r in queued]
        assert not emulator.submissions.snapshot()  # nothing sent by the web request
        out = StringIO()
        call_command("smsbridge_worker", "--until-idle", "--timeout", "60", stdout=out)
    assert sum(_accepted(emulator).values()) == 5
    assert len(_accepted(emulator)) == 5
    assert "worker stopped: 5 claimed" in out.getvalue()
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        for result in queued:
            assert result.reference is not None
            item = store.get(result.reference)
            assert item is not None and item.status is not None and item.status.is_success


def test_locmem_backend_records_messages_and_needs_no_provider() -> None:
    outbox.clear()
    result = send_sms("07700 900123", "Your code is 111111")
    refused = send_sms("12", "Your code is 222222")
    assert result.status is Status.ACCEPTED and result.recipient == "+447700900123"
    assert refused.status is Status.INVALID_NUMBER
    assert [m.body for m in outbox] == ["Your code is 111111"]  # the refused one is not
    assert outbox[0].reference == result.reference


def test_settings_problems_are_listed_with_their_keys_and_no_secret(tmp_path: Path) -> None:
    bad = {
        "regoin": "GB",
        "providers": {
            "clickatell": {
                "api_id": "3456789",
                "user": "someone",
                "password": "hunter2-not-to-be-shown",
                "timeout": "soon",
            }
        },
    }
    with override_settings(SMSBRIDGE=bad):
        with pytest.raises(SettingsError) as caught:
            send_sms("07700 900123", "hello")
        with pytest.raises(SystemCheckError) as checked:
            call_command("check")
    error = caught.value
    assert isinstance(error, ImproperlyConfigured) and isinstance(error, ConfigurationError)
    assert "SMSBRIDGE['regoin']" in str(error) and "did you mean 'region'" in str(error)
    assert "SMSBRIDGE['providers']['clickatell']['timeout']" in str(error)
    assert "smsbridge.E001" in str(checked.value)
    for text in (str(error), str(checked.value), repr(error)):
        assert "hunter2" not in text


def test_missing_settings_and_environment_variables_are_named() -> None:
    with override_settings(SMSBRIDGE=None), pytest.raises(SettingsError, match="is not set"):
        send_sms("07700 900123", "hello")
    unset = {"providers": {"clickatell": {"api_id_env": "SMSBRIDGE_TEST_UNSET_VAR_X"}}}
    with override_settings(SMSBRIDGE=unset), pytest.raises(SettingsError) as caught:
        send_sms("07700 900123", "hello")
    assert "SMSBRIDGE_TEST_UNSET_VAR_X" in str(caught.value)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def served_site() -> Iterator[str]:
    """The test project's WSGI application on a loopback port."""
    from django.core.wsgi import get_wsgi_application

    server: WSGIServer = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def test_report_view_records_the_emulators_callbacks(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory, served_site: str
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    emulator.callback_url = f"{served_site}/sms/reports/clickatell/{TOKEN}"
    receiver = {"auth": {"clickatell": {"token": TOKEN}}}
    site = _settings(tmp_path, emulator, options={"callback": 7}, receiver=receiver)
    with override_settings(SMSBRIDGE=site):
        results = send_sms(["07700 900301", "07700 900302"], "Your table is ready")
        for _ in range(3):
            emulator.tick()
            assert emulator.wait_for_callbacks(10.0)
    assert emulator.callbacks.snapshot()
    assert all(c.status == 200 for c in emulator.callbacks.snapshot())
    with SqliteStore(tmp_path / "outbox.sqlite3") as store:
        for result in results:
            assert result.reference is not None
            item = store.get(result.reference)
            assert item is not None and item.status is Status.DELIVERED


def test_report_view_answers_as_the_receiver_does(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    receiver = {"auth": {"clickatell": {"token": TOKEN}}}
    client = Client()
    with override_settings(SMSBRIDGE=_settings(tmp_path, emulator, receiver=receiver)):
        wrong = client.post("/sms/reports/clickatell/not-the-token-at-all", {"apiMsgId": "x"})
        missing = client.post("/sms/reports/clickatell", {"apiMsgId": "x"})
        unknown = client.post(f"/sms/reports/bulksms/{TOKEN}", {"apiMsgId": "x"})
        garbage = client.post(f"/sms/reports/clickatell/{TOKEN}", {"nonsense": "1"})
    assert (wrong.status_code, missing.status_code, unknown.status_code) == (403, 401, 404)
    assert garbage.status_code == 400
    with (
        override_settings(SMSBRIDGE=_settings(tmp_path, emulator)),
        pytest.raises(SettingsError, match="receiver"),
    ):
        client.post(f"/sms/reports/clickatell/{TOKEN}", {"apiMsgId": "x"})


def test_worker_command_refuses_bad_options_and_settings(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="must be positive"):
        call_command("smsbridge_worker", "--concurrency", "0")
    with pytest.raises(CommandError, match="--rate 'clickatell'"):
        call_command("smsbridge_worker", "--rate", "clickatell", "--until-idle")
    bad = {"providers": {"clickatell": {"api_id": "1", "user": "u", "password": "p"}},
           "routing": {"policy": "fastest"}}  # fmt: skip
    with override_settings(SMSBRIDGE=bad), pytest.raises(CommandError, match="fastest"):
        call_command("smsbridge_worker", "--until-idle")
