"""A one-file Django project sending one-time codes with smsbridge.

Run it with ``python examples/django_otp.py`` (needs ``pip install 'smsbridge[django]'``).
It needs no account: it starts the Clickatell emulator on 127.0.0.1 and points
``settings.SMSBRIDGE`` at it, exactly as it would point it at the real service.

What happens, over real sockets:

1. the site is served on a loopback port; a client posts phone numbers to ``/codes``;
2. the view calls ``send_sms()``; with the outbox backend that writes the code to the
   outbox and answers at once, without waiting for the provider;
3. ``manage.py smsbridge_worker --until-idle`` (called in-process) sends the codes;
4. the emulator posts delivery reports to the site's report view, which records them.

It prints each number with the status the view answered and the final status.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from smsbridge.outbox.factory import open_store
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

PHONES = ("07700 900123", "07700 900456", "+44 7700 900789")
REPORT_TOKEN = secrets.token_urlsafe(24)


@csrf_exempt
def send_code(request: HttpRequest) -> JsonResponse:
    """Send a fresh code to the posted ``phone``; answer with its status and reference."""
    from smsbridge.contrib.django import send_sms

    code = f"{secrets.randbelow(1_000_000):06d}"
    result = send_sms(request.POST["phone"], f"Your code is {code}. It expires in 10 minutes.")
    return JsonResponse({"status": result.status.value, "reference": result.reference})


urlpatterns = [
    path("codes", send_code),
    path("sms/reports/", include("smsbridge.contrib.django.urls")),
]


def configure(emulator: ClickatellEmulator, folder: Path) -> None:
    """Django settings for this file's site, with ``SMSBRIDGE`` on the emulator."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["smsbridge.contrib.django"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        DATABASES={},
        SMSBRIDGE={
            "region": "GB",
            "store": folder / "outbox.sqlite3",
            "backend": "smsbridge.contrib.django.backends.OutboxBackend",
            # callback=7 asks Clickatell for delivery reports on every status change.
            "providers": {
                "clickatell": {**ClickatellProvider.emulator_options(emulator), "callback": 7}
            },
            "receiver": {"auth": {"clickatell": {"token": REPORT_TOKEN}}},
        },
    )
    django.setup()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def main() -> int:
    """Serve the site, post the numbers, run the worker, wait for the reports."""
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    with ClickatellEmulator() as emulator, tempfile.TemporaryDirectory() as folder:
        configure(emulator, Path(folder))
        server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_Quiet)
        site = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            emulator.callback_url = f"{site}/sms/reports/clickatell/{REPORT_TOKEN}"
            answers = []
            for phone in PHONES:
                body = urlencode({"phone": phone}).encode()
                with urlopen(f"{site}/codes", data=body, timeout=10) as response:  # noqa: S310
                    answers.append(json.load(response))
            call_command("smsbridge_worker", "--until-idle", "--timeout", "60", verbosity=0)
            for _ in range(3):  # each tick moves every message one status on
                emulator.tick()
                emulator.wait_for_callbacks(10.0)
        finally:
            server.shutdown()
            thread.join(10)
            server.server_close()
        store = open_store(Path(folder) / "outbox.sqlite3")
        try:
            finals = [store.get(answer["reference"]) for answer in answers]
        finally:
            store.close()
    ok = True
    for phone, answer, item in zip(PHONES, answers, finals, strict=True):
        final = "missing" if item is None or item.status is None else item.status.value
        ok = ok and final == "delivered"
        print(f"{phone:<16} view answered {answer['status']:<7} final {final}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
