"""Canary credentials and phone numbers through the main paths with DEBUG logging: none
may show up, raw or URL-encoded, in logs, reprs, exception texts or results."""

from __future__ import annotations

import asyncio
import logging
import socket
from urllib.parse import quote, quote_plus

import pytest
import uvicorn

from smsbridge import Message, SendOptions, SmsBridgeError
from smsbridge.aio import AsyncSmsBridge
from smsbridge.outbox import NewItem, SqliteStore
from smsbridge.reports import AsgiReceiver, Poller, ReportReceiver, ReportServer, TokenAuth
from smsbridge.testing import CallbackPlan, EmulatorFactory
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

API_ID = "CANARY-api-9931"
USER = "CANARY user@x"
PASSWORD = "CANARY-pass/w+rd&=1"
TOKEN = "CANARY-receiver-token-0042"
NUMBERS = ["+447700900777", "+447700900778"]
CREDENTIALS = [API_ID, USER, PASSWORD, TOKEN]


def _forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), value.lstrip("+")}


def test_no_canary_leaks(
    smsbridge_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    emulator = smsbridge_emulator_factory(
        ClickatellEmulator,
        api_id=API_ID,
        user=USER,
        password=PASSWORD,
        callback_plan=CallbackPlan(duplicate_fraction=1.0, shuffle=True),
        final_status={NUMBERS[1].lstrip("+"): "005"},
    )
    options = {**ClickatellProvider.emulator_options(emulator), "callback": 7}
    with SqliteStore(":memory:") as store, ClickatellProvider.from_options(**options) as provider:
        receiver = ReportReceiver([provider], store=store, auth={"clickatell": TokenAuth(TOKEN)})
        with ReportServer(receiver) as server:
            emulator.callback_url = f"{server.url}/clickatell/{TOKEN}"
            store.add(
                [NewItem(reference=f"c{i}", recipient=n, body="hi") for i, n in enumerate(NUMBERS)],
                now=1.0,
            )
            store.claim("w", limit=2, now=1.0, lease_seconds=60)
            for i, number in enumerate(NUMBERS):
                store.begin_attempt(f"c{i}", owner="w", provider="clickatell", now=1.0)
                results = provider.send(Message(number, "hi", None, f"c{i}"))
                store.finish(f"c{i}", owner="w", result=results[0], now=1.0)
                texts += [repr(r) for r in results]
            poller = Poller([provider], store, older_than=0, clock=lambda: 10.0)
            texts.append(repr(poller.poll_once()))
            assert emulator.wait_for_callbacks(10.0)
            assert emulator.wait_for_callbacks(10.0)
            texts += [repr(receiver), repr(server), repr(provider), repr(provider.options)]
            for i in range(len(NUMBERS)):
                history = store.history(f"c{i}")
                assert history is not None
                texts += [repr(r) for r in history.reports]
    bad = {**options, "password": "wrong-" + PASSWORD}
    with ClickatellProvider.from_options(**bad) as failing:
        with pytest.raises(SmsBridgeError) as caught:
            failing.send(Message(NUMBERS[0], "hi", None, "c9", options=SendOptions()))
        texts += [str(caught.value), repr(caught.value)]
    # The emulator's callback thread plays the provider, whose own logs are not ours.
    ours = [r for r in caplog.records if r.threadName != "smsbridge-emulator-callbacks"]
    logs = "\n".join(r.getMessage() for r in ours)
    logs += "\n".join(str(r.exc_info) for r in ours if r.exc_info)
    everything = "\n".join(texts)
    for secret in CREDENTIALS:
        for form in _forms(secret):
            assert form not in logs, secret
            assert form not in everything, secret
    for number in NUMBERS:
        for form in _forms(number):
            assert form not in logs, number
            assert form not in "\n".join(texts[-2:]), number


def test_no_canary_leaks_through_the_async_bridge_and_the_asgi_receiver(
    smsbridge_emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = smsbridge_emulator_factory(
        ClickatellEmulator, api_id=API_ID, user=USER, password=PASSWORD
    )
    options = {**ClickatellProvider.emulator_options(emulator), "callback": 7}
    texts: list[str] = []

    async def main() -> None:
        with SqliteStore(":memory:") as store:
            provider = ClickatellProvider.from_options(**options)
            receiver = ReportReceiver(
                [provider], store=store, auth={"clickatell": TokenAuth(TOKEN)}
            )
            app = AsgiReceiver(receiver)
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            # uvicorn's access log prints paths (tokens): off, as docs/reports.md asks.
            config = uvicorn.Config(app, log_level="debug", access_log=False)
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            for _ in range(1000):  # bounded: a server that cannot start fails the test
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.01)
            assert server.started
            emulator.callback_url = f"http://127.0.0.1:{sock.getsockname()[1]}/clickatell/{TOKEN}"
            async with AsyncSmsBridge([provider], store=store) as bridge:
                results = [
                    await bridge.send(n, "hi", reference=f"a{i}") for i, n in enumerate(NUMBERS)
                ]
                emulator.tick()
                await asyncio.to_thread(emulator.wait_for_callbacks, 10.0)
                texts.extend(repr(r) for r in results)
                texts.extend([repr(bridge), repr(app), repr(await bridge.status("a0"))])
            server.should_exit = True
            await serving

    asyncio.run(main())
    assert emulator.callbacks and all(c.status == 200 for c in emulator.callbacks)
    ours = [r for r in caplog.records if r.threadName != "smsbridge-emulator-callbacks"]
    logs = "\n".join(r.getMessage() for r in ours)
    everything = "\n".join(texts)
    for secret in CREDENTIALS:
        for form in _forms(secret):
            assert form not in logs, secret
            assert form not in everything, secret
