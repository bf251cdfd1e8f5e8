"""AsyncSmsBridge: the synchronous bridge's results, awaited without blocking the loop.

An in-process provider that blocks until the test releases it shows the loop keeps
running while a request is out: the release comes from a coroutine on that same loop,
so a bridge that blocked the loop would never see it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import pytest

from smsbridge import (
    Batch,
    BatchResult,
    Capabilities,
    Kind,
    Message,
    Provider,
    ProviderError,
    ProviderOptions,
    Scope,
    SendResult,
    Status,
    Template,
)
from smsbridge.aio import AsyncSmsBridge
from smsbridge.errors import ConfigurationError, InvalidMessageError
from smsbridge.outbox import ItemState, NewItem
from smsbridge.pricing import PriceTable

RELEASE_TIMEOUT = 10.0


class Held(Provider):
    """Accepts every message, each request waiting until :attr:`release` is set."""

    name: ClassVar[str] = "held"
    capabilities: ClassVar[Capabilities] = Capabilities(max_recipients_per_request=100)

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.sent: list[Message] = []
        self.fail: ProviderError | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> list[SendResult]:
        self.entered.set()
        if not self.release.wait(RELEASE_TIMEOUT):
            raise AssertionError("never released: the event loop was blocked")
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append(message)
        return [
            SendResult(n, Status.ACCEPTED, provider=self.name, reference=message.reference)
            for n in message.to
        ]


async def entered(provider: Held) -> None:
    """Wait until a request reached the provider (bounded: fails, never hangs)."""
    for _ in range(int(RELEASE_TIMEOUT / 0.001)):
        if provider.entered.is_set():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("no request reached the provider")


def held() -> Held:
    return Held.from_options(base_url="http://127.0.0.1:9")


def run(factory: Callable[[AsyncSmsBridge, Held], Coroutine[Any, Any, None]]) -> None:
    """Run ``factory(bridge, provider)`` on a fresh loop with a fresh in-memory bridge."""

    async def main() -> None:
        provider = held()
        async with AsyncSmsBridge([provider], store=":memory:", region="GB") as bridge:
            await factory(bridge, provider)

    asyncio.run(main())


def test_send_returns_the_synchronous_result() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        result = await bridge.send("07700 900123", "Your code is 4829", reference="otp-1")
        assert isinstance(result, SendResult)
        assert result.status is Status.ACCEPTED
        assert (result.recipient, result.reference) == ("+447700900123", "otp-1")
        assert [m.to for m in provider.sent] == [("+447700900123",)]
        history = await bridge.status("otp-1")
        assert history is not None and history.item.state is ItemState.DONE
        assert await bridge.status("nobody") is None

    run(scenario)


def test_the_loop_runs_while_a_request_is_out() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        provider.release.clear()
        task = asyncio.create_task(bridge.send("+447700900001", "hello"))
        await entered(provider)  # the request is out, in a worker thread
        assert not task.done()
        provider.release.set()  # only reachable because the loop is free
        result = await task
        assert result.status is Status.ACCEPTED

    run(scenario)


def test_a_list_gives_a_batch_result_with_invalid_numbers_unsent() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        result = await bridge.send(["07700 900001", "nonsense", "+447700900001"], "hi")
        assert isinstance(result, BatchResult)
        assert [r.status for r in result] == [Status.ACCEPTED, Status.INVALID_NUMBER]
        assert result.duplicates == 1
        assert sorted(n for m in provider.sent for n in m.to) == ["+447700900001"]

    run(scenario)


def test_send_batch_and_the_async_iterator_agree() -> None:
    template = Template("Hi {name}")
    people = [
        {"to": "07700 900001", "name": "Ann"},
        {"to": "bad", "name": "Bob"},
        {"to": "07700 900002", "name": "Cy"},
    ]

    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        collected = await bridge.send_batch(Batch(people, template=template, reference="b1"))
        streamed = [r async for r in bridge.iter_send_batch(Batch(people, template=template))]
        for results in (list(collected), streamed):
            assert [r.status for r in results] == [
                Status.ACCEPTED,
                Status.INVALID_NUMBER,
                Status.ACCEPTED,
            ]
        bodies = sorted(m.body for m in provider.sent)
        assert bodies == ["Hi Ann", "Hi Ann", "Hi Cy", "Hi Cy"]
        again = await bridge.send_batch(Batch(people, template=template, reference="b1"))
        assert again.duplicates == 0 and len(provider.sent) == 4  # nothing sent twice
        assert [r.status for r in again] == [r.status for r in collected]

    run(scenario)


def test_a_batch_window_is_worked_by_the_settler() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        bridge.bridge.batch_window = 2
        numbers = [f"+4477009000{i:02d}" for i in range(5)]
        results = [r async for r in bridge.iter_send_batch(Batch(numbers, body="x"))]
        assert [r.status for r in results] == [Status.ACCEPTED] * 5
        assert sorted(n for m in provider.sent for n in m.to) == numbers

    run(scenario)


def test_a_request_scope_refusal_raises_as_the_synchronous_bridge_does() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        provider.fail = ProviderError(
            "sender id not allowed", scope=Scope.REQUEST, kind=Kind.PERMANENT, code="X"
        )
        with pytest.raises(ProviderError, match="sender id not allowed"):
            await bridge.send("+447700900001", "hi")

    run(scenario)


def test_resume_sends_what_the_outbox_holds() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        items = [
            NewItem(reference=f"left-{i}", recipient=f"+44770090010{i}", body="left")
            for i in range(3)
        ]
        bridge.bridge.store.add(items, now=bridge.bridge.dispatcher.clock())
        summary = await bridge.resume(timeout=10, patience=1)
        assert summary.complete
        assert summary.settled == {Status.ACCEPTED: 3}
        assert sorted(n for m in provider.sent for n in m.to) == [i.recipient for i in items]

    run(scenario)


def test_resume_waits_for_a_send_in_its_first_request() -> None:
    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        provider.release.clear()
        send = asyncio.create_task(bridge.send("+447700900001", "first", reference="r1"))
        await entered(provider)
        resume = asyncio.create_task(bridge.resume(timeout=10, patience=1))
        await asyncio.sleep(0.05)
        # resume would drop the lease of the request still out; it waits instead.
        assert not resume.done()
        provider.release.set()
        assert (await send).status is Status.ACCEPTED
        summary = await resume
        assert summary.settled == {Status.ACCEPTED: 1}
        assert len(provider.sent) == 1  # not reconciled, not sent again

    run(scenario)


def test_quote_prices_the_providers_and_sends_nothing() -> None:
    table = PriceTable.from_text("provider,country,prefix,network,price,unit\nheld,GB,,,0.04,EUR\n")

    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        quote = await bridge.quote(Message("07700 900123", "hello"), table=table)
        assert [p.provider for p in quote.providers] == ["held"]
        assert provider.sent == []

    run(scenario)


def test_a_closed_bridge_refuses_work_and_closing_twice_is_fine() -> None:
    async def main() -> None:
        bridge = AsyncSmsBridge([held()], store=":memory:")
        await bridge.close()
        await bridge.close()
        with pytest.raises(RuntimeError, match="closed"):
            await bridge.send("+447700900001", "hi")

    asyncio.run(main())


def test_bad_arguments_are_refused_before_anything_is_written() -> None:
    with pytest.raises(ConfigurationError, match="threads"):
        AsyncSmsBridge([held()], store=":memory:", threads=0)

    async def scenario(bridge: AsyncSmsBridge, provider: Held) -> None:
        with pytest.raises(TypeError, match="body"):
            await bridge.send("+447700900001")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="takes no body"):
            await bridge.send(Message("+447700900001", "x"), "y")  # type: ignore[call-overload]
        with pytest.raises(InvalidMessageError, match="body"):
            await bridge.send("+447700900001", "")  # built on a worker thread, raised here
        assert sum(bridge.bridge.store.counts().values()) == 0

    run(scenario)


def test_many_concurrent_sends_share_a_few_threads() -> None:
    async def main() -> None:
        provider = held()
        async with AsyncSmsBridge([provider], store=":memory:", threads=4) as bridge:
            before = threading.active_count()
            peak = before
            provider.release.clear()
            sends = [
                asyncio.create_task(bridge.send(f"+4477009{i:05d}", f"code {i}"))
                for i in range(200)
            ]
            for _ in range(20):
                await asyncio.sleep(0.005)
                peak = max(peak, threading.active_count())
            provider.release.set()
            results = await asyncio.gather(*sends)
            peak = max(peak, threading.active_count())
        assert {r.status for r in results} == {Status.ACCEPTED}
        assert len(provider.sent) == 200
        # The 4 workers and the lease renewer; never a thread per waiting send.
        assert peak <= before + 4 + 2

    asyncio.run(main())
