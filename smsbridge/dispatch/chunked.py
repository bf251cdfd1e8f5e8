"""Grouped requests through providers that build stored chunks (BulkSMS).

Not public: :class:`~smsbridge.dispatch.Dispatcher` mixes this in. A chunk is saved in
the outbox (``save_chunk``) before its attempt is recorded, so an attempt whose outcome
is unknown -- a lost answer, a crash mid-request -- is settled by rebuilding the chunk
from its items with the id it was first sent with, checking the bytes are identical, and
sending it again: the gateway answers a repeat of the same id with the original result
instead of sending twice. A chunk that cannot be rebuilt byte for byte is never resent;
its items stay UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from smsbridge.errors import SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox.base import Chunk, OutboxItem
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.decide import Delivery

from .chunking import ChunkingProvider, StoreAllocator, as_chunking
from .decisions import ROWS_KEY
from .items import item_message
from .outcomes import INTERRUPTED, NO_PROVIDER, NOT_REBUILT
from .requests import Requests

__all__ = ["ChunkSender"]


class ChunkSender(Requests):
    """Sending and replaying stored chunks, and grouped rows (``send_rows``)."""

    def _install_allocators(self) -> None:
        """Give every chunking provider ids from the outbox's durable counter.

        The provider object is changed in place: its ``allocator`` becomes a
        :class:`StoreAllocator` over this store's ``"<name>:stop_dup_id"`` counter.
        """
        for provider in self.router.providers:
            chunking = as_chunking(provider)
            if chunking is None:
                continue
            current = chunking.allocator
            if isinstance(current, StoreAllocator) and current.store is self.store:
                continue
            chunking.allocator = StoreAllocator(self.store, f"{provider.name}:stop_dup_id")

    @staticmethod
    def _allocator(chunking: ChunkingProvider) -> StoreAllocator:
        allocator = chunking.allocator
        if not isinstance(allocator, StoreAllocator):
            raise SmsBridgeError(f"{chunking.name}'s allocator was replaced after set-up")
        return allocator

    def _send_chunks(
        self,
        provider: Provider,
        items: Sequence[OutboxItem],
        messages: Sequence[Message] | None = None,
    ) -> None:
        """Plan ``items`` (whose messages ``messages`` are, when already built) into
        chunks, save each, then send it as one request."""
        chunking = as_chunking(provider)
        assert chunking is not None
        if self._open(provider.name):
            self._replan(items)
            return
        by_reference = {item.reference: item for item in items}
        allocator = self._allocator(chunking)
        with allocator.recording() as ids:
            if messages is None:
                messages = [item_message(item) for item in items]
            planned = list(chunking.plan_messages(messages))
        refused = [p for p in planned if isinstance(p, SendResult)]
        if refused:
            held = [by_reference[r.reference] for r in refused if r.reference in by_reference]
            self._record(held, provider, refused, self.clock())
        chunks = [p for p in planned if not isinstance(p, SendResult)]
        for chunk, value in zip(chunks, ids, strict=True):
            references = [str(member.reference) for member in chunk.recipients]
            key = f"{provider.name}:{value}:{references[0]}"
            self.store.save_chunk(key, provider.name, chunk.body, references, now=self.clock())
            members = [by_reference[r] for r in references]
            self._request(provider, members, _sender(chunking, chunk))

    def _send_rows(
        self,
        provider: Provider,
        items: Sequence[OutboxItem],
        messages: Sequence[Message] | None = None,
    ) -> None:
        """Send items whose request keys are equal as one ``send_rows`` request."""
        if self._open(provider.name):
            self._replan(items)
            return
        if len(items) == 1:
            self._send_single(provider, items[0])
            return
        if messages is None:
            messages = [item_message(item) for item in items]
        rows = list(messages)
        if provider.capabilities.shared_row_reference:
            # The rows go out under the first row's reference: remember which rows a
            # lookup by it answers for, before the request leaves.
            references = [item.reference for item in items]
            key = f"{provider.name}:{ROWS_KEY}:{references[0]}"
            self.store.save_chunk(key, provider.name, b"", references, now=self.clock())
        self._request(provider, items, lambda: provider.send_rows(rows))

    def _replan(self, items: Sequence[OutboxItem]) -> None:
        # The breaker opened since the round was planned: plan these again.
        now = self.clock()
        for item in items:
            self.store.retry_later(
                item.reference,
                owner=self.owner,
                error=NO_PROVIDER,
                next_attempt_at=now,
                now=now,
            )

    def _replay(self, provider: Provider, items: Sequence[OutboxItem]) -> None:
        """Settle items whose chunk may have reached ``provider``: resend the same bytes."""
        chunking = as_chunking(provider)
        assert chunking is not None
        by_key: dict[str, list[OutboxItem]] = {}
        for item in items:
            key = self.store.chunk_of(item.reference)
            if key is None or not key.startswith(f"{provider.name}:"):
                self._unchunked(item)
                continue
            by_key.setdefault(key, []).append(item)
        for key, members in by_key.items():
            stored = self.store.load_chunk(key)
            if stored is None:
                for item in members:
                    self._unchunked(item)
                continue
            self._replay_chunk(chunking, provider, key, stored, members)

    def _unchunked(self, item: OutboxItem) -> None:
        # No stored request to replay: only the generic rules (look up, at-least-once,
        # or UNKNOWN) may act, never a fresh request with a new id.
        if self.router.delivery is Delivery.AT_LEAST_ONCE:
            self._reconcile(item)
        else:
            self._park(item, item.last_error or INTERRUPTED)

    def _replay_chunk(
        self,
        chunking: ChunkingProvider,
        provider: Provider,
        key: str,
        stored: Chunk,
        members: Sequence[OutboxItem],
    ) -> None:
        now = self.clock()
        live = [m for m in members if not self.router.retry.exhausted(m.attempts)]
        for item in members:
            if item not in live:
                self._park(item, item.last_error or INTERRUPTED)
        if not live:
            return
        if not self.breakers.allows(provider.name):
            for item in live:
                self._park(item, item.last_error or INTERRUPTED,
                           self._breaker_wait(item, item_message(item), now))  # fmt: skip
            return
        rebuilt = self._rebuild(chunking, key, stored)
        if rebuilt is None:
            for item in live:
                self._park(item, NOT_REBUILT)
            return
        self._request(provider, live, _sender(chunking, rebuilt))

    def _rebuild(self, chunking: ChunkingProvider, key: str, stored: Chunk) -> Any | None:
        """The chunk rebuilt from its items with its first id, if byte-identical."""
        messages = []
        for reference in stored.references:
            item = self.store.get(reference)
            if item is None:
                return None
            messages.append(item_message(item))
        value = int(key.split(":", 2)[1])
        with self._allocator(chunking).replaying(value):
            planned = list(chunking.plan_messages(messages))
        for chunk in planned:
            if not isinstance(chunk, SendResult) and bytes(chunk.body) == stored.payload:
                return chunk
        return None


def _sender(chunking: ChunkingProvider, chunk: Any) -> Callable[[], list[SendResult]]:
    return lambda: chunking.send_chunk(chunk)
