"""What ``send_sms()`` does with a message, chosen by ``SMSBRIDGE["backend"]``.

* :class:`BridgeBackend` (the default) sends at once through an
  :class:`~smsbridge.SmsBridge`: written to the outbox, sent, the result returned.
* :class:`OutboxBackend` only writes to the outbox; ``manage.py smsbridge_worker`` (or
  the Celery drain task) sends. The web request never waits for a provider.
* :class:`LocmemBackend` sends nothing and appends each message to :data:`outbox`, as
  Django's locmem e-mail backend does with ``mail.outbox``: for tests.

Every backend prepares messages the same way the bridge does (numbers normalised to
E.164 with the configured region, repeats dropped, references given), so a number a
test accepts is one production accepts.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

import attrs

from smsbridge.bridge import SmsBridge, new_reference
from smsbridge.config import Config
from smsbridge.dispatch.prepare import prepare_message
from smsbridge.model import Message
from smsbridge.numbers import NumberNormaliser
from smsbridge.outbox.factory import open_store
from smsbridge.results import BatchResult, SendResult
from smsbridge.status import Status
from smsbridge.worker import enqueue

__all__ = ["BaseBackend", "BridgeBackend", "LocmemBackend", "OutboxBackend", "outbox"]

outbox: list[Message] = []
"""Messages :class:`LocmemBackend` recorded, oldest first. Cleared in place
(``outbox.clear()``), never rebound, so ``from ... import outbox`` stays valid."""


class BaseBackend:
    """A way of sending; subclasses implement :meth:`send_messages`.

    Args:
        config: The configuration ``settings.SMSBRIDGE`` describes.
    """

    requires_providers: ClassVar[bool] = True
    """Whether the settings must name providers (a backend that sends nothing needs none)."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def send_messages(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send (or queue, or record) messages.

        Args:
            messages: The messages.

        Returns:
            One result per recipient, message by message, each message's recipients in
            the order given (repeated numbers once).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (connections, the outbox)."""


def _referenced(message: Message) -> Message:
    """The message with a reference: the one the bridge would give it."""
    return message if message.reference else attrs.evolve(message, reference=new_reference())


def _results(
    message: Message, normalise: NumberNormaliser, status: Status, provider: str | None
) -> tuple[list[SendResult], bool]:
    """One result per given recipient, in order (a repeated number once), as
    ``prepare_message`` sees the message; and whether any recipient is valid."""
    assert message.reference is not None
    prepared = prepare_message(message, normalise, message.reference)
    items = {item.recipient: item for item in prepared.items}
    results: list[SendResult] = []
    for index, number in enumerate(message.to):
        if index in prepared.refused:
            results.append(prepared.refused[index])
            continue
        item = items.pop(normalise(number), None)
        if item is not None:  # None: a repeat of an earlier recipient
            results.append(
                SendResult(item.recipient, status, provider=provider, reference=item.reference)
            )
    return results, bool(prepared.items)


class BridgeBackend(BaseBackend):
    """Send at once through an :class:`~smsbridge.SmsBridge` built from the settings.

    The call returns when every recipient is settled or the configured ``max_wait``
    has passed (a later retry is then the worker's). One bridge serves the process and
    sends one call at a time; to take sending out of the request, use
    :class:`OutboxBackend`.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self._bridge: SmsBridge | None = None

    @property
    def bridge(self) -> SmsBridge:
        """The bridge, built on first use."""
        if self._bridge is None:
            self._bridge = self.config.build_bridge()
        return self._bridge

    def send_messages(self, messages: Sequence[Message]) -> list[SendResult]:
        """Send each message now; see :meth:`BaseBackend.send_messages`.

        Raises:
            SmsBridgeError: As :meth:`SmsBridge.send` raises (a request-level failure).
        """
        results: list[SendResult] = []
        with self._lock:
            for message in messages:
                outcome = self.bridge.send(message)
                if isinstance(outcome, BatchResult):
                    results.extend(outcome.results)
                else:
                    results.append(outcome)
        return results

    def close(self) -> None:
        """Close the bridge (its providers and outbox)."""
        with self._lock:
            if self._bridge is not None:
                self._bridge.close()
                self._bridge = None


class OutboxBackend(BaseBackend):
    """Write messages to the outbox (``SMSBRIDGE["store"]``) for workers to send.

    Results have status ``QUEUED`` and the item's reference (``smsbridge status REF``
    and :meth:`SmsBridge.status` follow it); a refused number's result says why.
    Writing the same referenced message again writes nothing.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._store = open_store(config.store)
        self._normalise = NumberNormaliser(config.region, config.strict_numbers)

    def send_messages(self, messages: Sequence[Message]) -> list[SendResult]:
        """Queue each message; see :meth:`BaseBackend.send_messages`.

        Raises:
            OutboxError: When the outbox cannot be written; earlier messages of the
                call are queued.
        """
        results: list[SendResult] = []
        for message in messages:
            given = _referenced(message)
            enqueue(
                self._store,
                given,
                region=self.config.region,
                strict_numbers=self.config.strict_numbers,
            )
            results.extend(_results(given, self._normalise, Status.QUEUED, None)[0])
        return results

    def close(self) -> None:
        """Close the outbox."""
        self._store.close()


class LocmemBackend(BaseBackend):
    """Send nothing: append each message to :data:`outbox` (for tests).

    Numbers are checked and normalised as for real, so an invalid one gets the same
    ``INVALID_NUMBER`` result; the recorded :class:`~smsbridge.Message` is the one
    given, with its reference filled in.
    """

    requires_providers: ClassVar[bool] = False

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._normalise = NumberNormaliser(config.region, config.strict_numbers)

    def send_messages(self, messages: Sequence[Message]) -> list[SendResult]:
        """Record each message; see :meth:`BaseBackend.send_messages`."""
        results: list[SendResult] = []
        for message in messages:
            given = _referenced(message)
            found, valid = _results(given, self._normalise, Status.ACCEPTED, "locmem")
            results.extend(found)
            if valid:
                outbox.append(given)
        return results
