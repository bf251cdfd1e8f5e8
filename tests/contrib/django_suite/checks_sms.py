"""Test cases as a Django project would write them (``SimpleTestCase``), for Django's
own runner. Named ``checks_*`` so that pytest does not collect them itself."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.test import SimpleTestCase, override_settings

from smsbridge import Status
from smsbridge.contrib.django import outbox, send_sms
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator


class LocmemTests(SimpleTestCase):
    """The test settings' locmem backend records instead of sending."""

    def setUp(self) -> None:
        outbox.clear()

    def test_a_code_is_recorded(self) -> None:
        result = send_sms("07700 900123", "Your code is 482913")
        assert result.status is Status.ACCEPTED
        assert [m.body for m in outbox] == ["Your code is 482913"]

    def test_each_test_starts_with_an_empty_outbox(self) -> None:
        assert outbox == []


class EmulatorTests(SimpleTestCase):
    """``override_settings`` points the app at a provider's emulator for one test."""

    emulator: ClickatellEmulator
    folder: tempfile.TemporaryDirectory[str]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.emulator = ClickatellEmulator().start()
        cls.folder = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.emulator.stop()
        cls.folder.cleanup()
        super().tearDownClass()

    def test_a_code_reaches_the_emulator(self) -> None:
        settings = {
            "region": "GB",
            "store": Path(self.folder.name) / "outbox.sqlite3",
            "providers": {"clickatell": ClickatellProvider.emulator_options(self.emulator)},
        }
        with override_settings(SMSBRIDGE=settings):
            result = send_sms("07700 900123", "Your code is 482913")
        assert result.ok, result
        assert self.emulator.submissions.accepted_recipients()["+447700900123"] == 1
