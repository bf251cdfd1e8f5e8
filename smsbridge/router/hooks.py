"""The event hooks around each request, wired once for every sending path.

:class:`SendHooks` carries the three observers an application (through its plugins)
sees: before a request leaves, when it fails as a whole, and with its results. The
router owns one; the durable dispatcher calls it, so a plugin hears about each request
exactly once whichever path sent it.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from smsbridge.errors import SmsBridgeError
from smsbridge.model import Message
from smsbridge.observe.sink import NO_EVENTS, EventSink
from smsbridge.provider import Provider
from smsbridge.results import SendResult

__all__ = ["AttemptHook", "FailureHook", "ResultsHook", "SendHooks"]

AttemptHook = Callable[[Provider, Message], None]
FailureHook = Callable[[Provider, Message, SmsBridgeError], None]
ResultsHook = Callable[[Provider, list[SendResult]], None]


@attrs.frozen(kw_only=True)
class SendHooks:
    """Observers of requests; any of them may be absent.

    Args:
        on_attempt: Called before each request leaves, with the provider and the
            request's message (all its recipients).
        on_failure: Called when a request fails as a whole, with the error.
        on_results: Called with the per-recipient results of each answered request.
        listening: Whether anyone listens to ``on_attempt``/``on_failure`` now (e.g.
            whether any plugin implements them); ``None``: whenever they are set.
        events: Told of failovers, decisions, lookups and breaker changes (see
            :mod:`smsbridge.observe.sink`); silent by default.
    """

    on_attempt: AttemptHook | None = None
    on_failure: FailureHook | None = None
    on_results: ResultsHook | None = None
    listening: Callable[[], bool] | None = None
    events: EventSink = NO_EVENTS

    @property
    def wants_messages(self) -> bool:
        """Whether anyone needs the request's message built (it costs a tuple of every
        recipient of a large request)."""
        if self.on_attempt is None and self.on_failure is None:
            return False
        return self.listening is None or self.listening()

    def before_send(self, provider: Provider, message: Message) -> None:
        """Tell the observers a request is about to leave."""
        if self.on_attempt is not None:
            self.on_attempt(provider, message)

    def send_failed(self, provider: Provider, message: Message, error: SmsBridgeError) -> None:
        """Tell the observers a request failed as a whole."""
        if self.on_failure is not None:
            self.on_failure(provider, message, error)

    def after_send(self, provider: Provider, results: list[SendResult]) -> None:
        """Hand the observers a request's results."""
        if self.on_results is not None:
            self.on_results(provider, results)
