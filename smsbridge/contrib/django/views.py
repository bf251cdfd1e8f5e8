"""Delivery reports as a Django view: the WSGI receiver's parsing, answers and checks.

The view hands the request to :meth:`smsbridge.reports.ReportReceiver.handle`, so a
callback gets exactly the answers ``smsbridge serve-reports`` gives (401/403 before the
body is read, 413 over the size cap, 400 for what the parser refuses, 409, 503...), and
the reports are recorded in the outbox and announced to the ``smsbridge_delivery_report``
hook. Routes and authentication come from ``SMSBRIDGE["receiver"]``, the
``[receiver]`` section of ``smsbridge.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from smsbridge.config import Problem
from smsbridge.contrib.django.conf import SETTING, SettingsError, cached, get_config
from smsbridge.outbox.factory import open_store
from smsbridge.reports import ReportReceiver

__all__ = ["delivery_report", "get_receiver", "report_view"]

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade"})


def _build() -> tuple[ReportReceiver, Callable[[], None]]:
    config = get_config()
    if config.receiver is None:
        problem = Problem(0, "receiver", "is not set: add 'receiver': {'auth': {NAME: ...}}")
        raise SettingsError(SETTING, [problem])
    store = open_store(config.store)
    try:
        receiver, providers = config.build_receiver(store=store)
    except BaseException:
        store.close()
        raise

    def close() -> None:
        for provider in providers:
            provider.close()
        store.close()

    return receiver, close


def get_receiver() -> ReportReceiver:
    """The receiver ``SMSBRIDGE["receiver"]`` describes, kept for the process.

    Raises:
        SettingsError: When there is no ``receiver`` entry or it has problems.
    """
    built: tuple[ReportReceiver, Callable[[], None]] = cached("receiver", _build)
    return built[0]


def report_view(
    receiver: ReportReceiver | Callable[[], ReportReceiver],
) -> Callable[..., HttpResponse]:
    """A view serving ``receiver`` (or the receiver a callable returns, on each call).

    Mount it with the two routes :mod:`smsbridge.contrib.django.urls` declares, or
    your own that pass ``provider`` and, for token routes, ``token``.
    """

    @csrf_exempt
    def view(request: HttpRequest, provider: str, token: str | None = None) -> HttpResponse:
        chosen = receiver if isinstance(receiver, ReportReceiver) else receiver()
        environ: dict[str, Any] = dict(request.META)
        environ["PATH_INFO"] = f"/{provider}" + ("" if token is None else f"/{token}")
        environ["REQUEST_METHOD"] = request.method or "GET"
        # The request itself is the stream: it reads from the socket (WSGI or ASGI), or
        # from the body a middleware already read.
        environ["wsgi.input"] = request
        status, headers, body = chosen.handle(environ)
        response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                response[name] = value
        return response

    return view


delivery_report = report_view(get_receiver)
"""The view for ``SMSBRIDGE["receiver"]``; :mod:`smsbridge.contrib.django.urls` routes it."""
