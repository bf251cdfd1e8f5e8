"""SmsBridge's own duties: numbers, references, per-recipient failures, hooks.

Providers are exercised over loopback against their emulators in their own tests; here
an in-process provider records what the bridge hands it, so that the bridge's
contract (E.164 numbers, references set, invalid numbers never sent) is checked alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import smsbridge
from smsbridge import (
    Batch,
    BatchResult,
    Capabilities,
    Kind,
    Message,
    Provider,
    ProviderError,
    Recipient,
    Scope,
    SendResult,
    SmsBridge,
    Status,
    Template,
    make_plugin_manager,
)


class Recording(Provider):
    name = "recording"
    capabilities = Capabilities(max_recipients_per_request=100)

    def __init__(self, options: smsbridge.ProviderOptions) -> None:
        super().__init__(options)
        self.sent: list[Message] = []
        self.fail: ProviderError | None = None

    def send(self, message: Message) -> list[SendResult]:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return [
            SendResult(n, Status.ACCEPTED, provider=self.name, reference=message.reference)
            for n in message.to
        ]


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    @smsbridge.hookimpl
    def smsbridge_before_send(self, provider: str, message: Message) -> None:
        self.seen.append(("before", message.to))

    @smsbridge.hookimpl
    def smsbridge_after_send(self, provider: str, results: list[SendResult]) -> None:
        self.seen.append(("after", len(results)))

    @smsbridge.hookimpl
    def smsbridge_send_failed(self, provider: str, message: object, error: Exception) -> None:
        self.seen.append(("failed", type(error).__name__))


@pytest.fixture
def setup() -> Iterator[tuple[SmsBridge, Recording, Events]]:
    manager = make_plugin_manager(load_entry_points=False)
    events = Events()
    manager.register(events, name="events")
    provider = Recording.from_options(base_url="http://127.0.0.1:9")
    with SmsBridge([provider], region="GB", plugin_manager=manager, store=":memory:") as bridge:
        yield bridge, provider, events


def test_single_send_normalises_and_sets_reference(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, events = setup
    result = bridge.send(Message("07700 900123", "hello"))
    assert isinstance(result, SendResult)
    assert result.status is Status.ACCEPTED
    (sent,) = provider.sent
    assert sent.to == ("+447700900123",)
    assert sent.reference is not None and len(sent.reference) == 20
    assert result.reference == sent.reference
    assert events.seen == [("before", ("+447700900123",)), ("after", 1)]


def test_user_reference_is_kept(setup: tuple[SmsBridge, Recording, Events]) -> None:
    bridge, provider, _ = setup
    bridge.send(Message("+447700900123", "hello", reference="order-17"))
    assert provider.sent[0].reference == "order-17"


def test_a_reference_sent_again_is_not_sent_twice(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, _ = setup
    first = bridge.send(Message("+447700900123", "hello", reference="order-18"))
    again = bridge.send(Message("+447700900123", "hello", reference="order-18"))
    assert isinstance(first, SendResult) and isinstance(again, SendResult)
    assert (first.status, again.status) == (Status.ACCEPTED, Status.ACCEPTED)
    assert [m.reference for m in provider.sent] == ["order-18"]
    history = bridge.status("order-18")
    assert history is not None and len(history.attempts) == 1


def test_direct_forms_return_what_their_types_say(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, _ = setup
    one = bridge.send("07700 900123", "hello", reference="direct-1", sender="Shop")
    assert isinstance(one, SendResult) and one.reference == "direct-1"
    assert provider.sent[-1].sender == "Shop"
    # A list is "many" even with one number: the static type promises a BatchResult.
    listed = bridge.send(["07700 900124"], "hello")
    assert isinstance(listed, BatchResult) and len(listed.results) == 1
    many = bridge.send(("07700 900125", "07700 900126"), "hello")
    assert isinstance(many, BatchResult) and len(many.results) == 2
    with pytest.raises(TypeError):
        bridge.send(Message("07700 900123", "hello"), "again")  # type: ignore[call-overload]


def test_invalid_number_fails_alone(setup: tuple[SmsBridge, Recording, Events]) -> None:
    bridge, provider, _ = setup
    result = bridge.send(Message(["07700900123", "not-a-number", "+447700900124"], "hi"))
    assert isinstance(result, BatchResult)
    assert [r.status for r in result] == [Status.ACCEPTED, Status.INVALID_NUMBER, Status.ACCEPTED]
    assert result[1].recipient == "not-a-number"
    assert result[1].error is not None and result[1].error.code == "invalid-number"
    assert result[1].number_invalid
    # One request per recipient: this provider has no stored chunks to replay.
    assert [m.to for m in provider.sent] == [("+447700900123",), ("+447700900124",)]


def test_only_invalid_numbers_never_calls_provider(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, _ = setup
    result = bridge.send(Message("12", "hi"))
    assert isinstance(result, SendResult)
    assert result.status is Status.INVALID_NUMBER
    assert provider.sent == []


def test_provider_refusal_is_a_result_and_fires_hook(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, events = setup
    provider.fail = ProviderError("no credit", code="301", kind=Kind.PERMANENT)
    result = bridge.send(Message("+447700900123", "x"))
    assert isinstance(result, SendResult)
    assert result.status is Status.REJECTED
    assert result.error is not None
    assert result.error.code == "301"
    assert events.seen[-1] == ("failed", "ProviderError")


def test_request_scope_error_raises(setup: tuple[SmsBridge, Recording, Events]) -> None:
    bridge, provider, _ = setup
    provider.fail = ProviderError("bad parameter", code="101", scope=Scope.REQUEST)
    with pytest.raises(ProviderError):
        bridge.send(Message("+447700900123", "x"))


def test_batch_streams_results_with_per_recipient_failures(
    setup: tuple[SmsBridge, Recording, Events],
) -> None:
    bridge, provider, _ = setup
    batch = Batch(
        [
            Recipient("07700900123", {"name": "Ann"}),
            Recipient("bogus", {"name": "Bob"}),
            Recipient("+447700900123", {"name": "Dup"}),
            Recipient("+447700900125", {}),
            Recipient("+447700900126", {"name": "Eve"}, reference="mine"),
        ],
        template=Template("Hi {name}"),
        reference="camp1",
    )
    result = bridge.send_batch(batch)
    by_number = {r.recipient: r for r in result}
    assert by_number["+447700900123"].status is Status.ACCEPTED
    assert by_number["bogus"].status is Status.INVALID_NUMBER
    assert by_number["+447700900125"].status is Status.REJECTED
    assert by_number["+447700900125"].error is not None
    assert "'name'" in by_number["+447700900125"].error.text
    assert result.duplicates == 1
    assert len(result) == 4
    assert [m.body for m in provider.sent] == ["Hi Ann", "Hi Eve"]
    assert [m.reference for m in provider.sent] == ["camp1-1", "mine"]
    assert by_number["bogus"].reference == "camp1-2"


def test_bridge_needs_providers() -> None:
    with pytest.raises(smsbridge.ConfigurationError):
        SmsBridge([], store=":memory:")
