"""A Starlette application that sends one-time codes and receives their delivery reports.

Run it with ``python examples/asgi_app.py`` (``pip install 'smsbridge[asgi]' starlette``).
It needs no account: it starts the Clickatell emulator on 127.0.0.1, serves the app with
uvicorn on a free port, and plays the user's browser asking for three codes at once.

* ``POST /codes/{number}`` awaits :class:`smsbridge.aio.AsyncSmsBridge` ``send``: the
  event loop keeps serving other requests while the outbox is written and the provider
  answers.
* ``/reports`` is :class:`smsbridge.reports.AsgiReceiver`, mounted as it is. The emulator
  posts its delivery callbacks there (``/reports/clickatell/<token>``, the token being
  the route's secret), and they land in the same outbox.

It prints each code's recipient, its status when sent, and its status once the report
came in (``delivered``). FastAPI mounts the receiver the same way (``app.mount``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import urllib3
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from smsbridge.aio import AsyncSmsBridge
from smsbridge.outbox import SqliteStore
from smsbridge.reports import AsgiReceiver, ReportReceiver, TokenAuth, new_token
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

NUMBERS = ("07700 900123", "07700 900456", "07700 900789")


def build_app(provider: ClickatellProvider, outbox: Path, token: str) -> Starlette:
    """The application: a code-sending route and the report receiver, one outbox.

    Args:
        provider: The provider codes go through.
        outbox: The outbox file.
        token: The secret path segment of the report route.

    Returns:
        The Starlette application (the bridge opens and closes with its lifespan).
    """
    store = SqliteStore(outbox)  # one outbox: codes are written, reports recorded in it
    bridge = AsyncSmsBridge([provider], store=store, region="GB")
    reports = ReportReceiver([provider], store=store, auth={"clickatell": TokenAuth(token)})

    async def send_code(request: Request) -> JSONResponse:
        number = request.path_params["number"]
        result = await bridge.send(number, "Your code is 482913. It expires in 10 minutes.")
        return JSONResponse(
            {"to": result.recipient, "status": result.status.value, "ref": result.reference}
        )

    async def show(request: Request) -> JSONResponse:
        history = await bridge.status(request.path_params["reference"])
        if history is None:
            return JSONResponse({"error": "unknown reference"}, status_code=404)
        status = history.item.status
        return JSONResponse({"status": status.value if status is not None else "unknown"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with bridge:
            yield
        store.close()

    return Starlette(
        routes=[
            Route("/codes/{number}", send_code, methods=["POST"]),
            Route("/codes/status/{reference}", show),
            Mount("/reports", app=AsgiReceiver(reports)),
        ],
        lifespan=lifespan,
    )


def call(method: str, url: str) -> dict[str, Any]:
    """One request of the user's browser (blocking, so it runs on a thread)."""
    response = urllib3.request(method, url, timeout=30)
    answer: dict[str, Any] = json.loads(response.data)
    return answer


async def main() -> int:
    """Serve the app, ask for three codes at once, wait for their reports."""
    token = new_token()
    with ClickatellEmulator() as emulator, tempfile.TemporaryDirectory() as folder:
        options = ClickatellProvider.emulator_options(emulator)
        provider = ClickatellProvider.from_options(**options, callback=7)
        app = build_app(provider, Path(folder) / "outbox.sqlite3", token)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # No access log: the report route's path carries its token.
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if serving.done():  # it could not start: say why
                serving.result()
                return 1
            await asyncio.sleep(0.01)
        emulator.callback_url = f"{base}/reports/clickatell/{token}"
        sent = await asyncio.gather(
            *(asyncio.to_thread(call, "POST", f"{base}/codes/{n}") for n in NUMBERS)
        )
        emulator.tick()  # to the network, then to the handsets: the emulator posts reports
        emulator.tick()
        await asyncio.to_thread(emulator.wait_for_callbacks, 30)
        finals = await asyncio.gather(
            *(asyncio.to_thread(call, "GET", f"{base}/codes/status/{s['ref']}") for s in sent)
        )
        server.should_exit = True
        await serving
    for first, final in zip(sent, finals, strict=True):
        print(f"{first['to']:<16} sent: {first['status']:<10} report: {final['status']}")
    return 0 if all(final["status"] == "delivered" for final in finals) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
