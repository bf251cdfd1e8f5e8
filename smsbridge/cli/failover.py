"""What each provider did during one command: sent, failed, failed over, breaker state.

A primary that runs out of credit opens its breaker, every later message goes to the
backup, and the breaker stays open in the outbox for the commands after it. The result
table alone shows none of that, so ``send``, ``batch`` and ``resume`` watch the requests
through the event hooks (:class:`ProviderWatch`, a plugin of the command's own plugin
manager: it only observes) and read each provider's breaker from the outbox at the end.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from smsbridge.errors import SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox.base import BreakerState, BreakerStore, OutboxError
from smsbridge.plugins import LoadedPlugins, hookimpl, make_plugin_manager
from smsbridge.results import SendResult

__all__ = [
    "ProviderWatch",
    "breaker_dict",
    "breaker_text",
    "notable",
    "provider_lines",
    "provider_rows",
    "watched_plugin_manager",
]

_CLOSED = BreakerState()


class ProviderWatch:
    """Counts, per provider, the recipients it took and failed, and who took over.

    A recipient is "failed over from A to B" when A failed it (the request failed as a
    whole, or A refused that recipient) and B then took it. Recipients are told apart
    by number, which is unique within one command's messages (duplicates are dropped
    before sending). Hooks may fire from the dispatcher's threads, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.moved: Counter[tuple[str, str]] = Counter()
        self.seen: dict[str, None] = {}
        self._failed_at: dict[str, str] = {}

    @hookimpl
    def smsbridge_send_failed(self, provider: str, message: object, error: SmsBridgeError) -> None:
        """A request failed as a whole: each of its recipients failed at ``provider``."""
        del error  # the per-recipient results say why; here only the count matters
        recipients = message.to if isinstance(message, Message) else ()
        with self._lock:
            self.seen.setdefault(provider)
            self.failed[provider] += len(recipients)
            for number in recipients:
                self._failed_at[number] = provider

    @hookimpl
    def smsbridge_after_send(self, provider: str, results: list[SendResult]) -> None:
        """Count each recipient taken or refused, and a take-over of an earlier failure."""
        with self._lock:
            self.seen.setdefault(provider)
            for result in results:
                if result.status.is_success:
                    self.sent[provider] += 1
                    before = self._failed_at.pop(result.recipient, None)
                    if before is not None and before != provider:
                        self.moved[before, provider] += 1
                else:
                    self.failed[provider] += 1
                    self._failed_at[result.recipient] = provider

    def snapshot(
        self,
    ) -> tuple[list[str], Counter[str], Counter[str], list[tuple[tuple[str, str], int]]]:
        """Copies of what was counted: providers seen, sent, failed, and take-overs
        ``((from, to), recipients)`` sorted by provider names."""
        with self._lock:
            return (
                list(self.seen),
                Counter(self.sent),
                Counter(self.failed),
                sorted(self.moved.items()),
            )


def watched_plugin_manager() -> tuple[LoadedPlugins, ProviderWatch]:
    """A plugin manager with every installed plugin plus a fresh :class:`ProviderWatch`.

    Each command builds its own, so nothing global is changed (tests run commands
    in-process one after another).
    """
    manager = make_plugin_manager()
    watch = ProviderWatch()
    manager.register(watch, name="smsbridge-cli-watch")
    return manager, watch


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def breaker_dict(state: BreakerState | None) -> dict[str, Any] | None:
    """A stored breaker as JSON-ready data (``opened_at`` in ISO 8601, UTC)."""
    if state is None:
        return None
    return {"state": state.state, "failures": state.failures, "opened_at": _iso(state.opened_at)}


def _breaker(store: BreakerStore | None, name: str) -> BreakerState | None:
    if store is None:
        return None
    try:
        return store.get_breaker(name)
    except OutboxError:
        return None  # the outbox failed: the command reports that itself


def provider_rows(
    watch: ProviderWatch, store: BreakerStore | None, names: Iterable[str]
) -> list[dict[str, Any]]:
    """One entry per provider: the configured ones in order, then any other seen.

    Each has ``provider``, ``sent``, ``failed``, ``failed_over_to`` and
    ``failed_over_from`` (provider → recipients) and ``breaker`` (``state``,
    ``failures``, ``opened_at``; ``None`` when the outbox could not be read).
    """
    seen, sent, failed, moved = watch.snapshot()
    rows = []
    for name in dict.fromkeys([*names, *seen]):
        rows.append(
            {
                "provider": name,
                "sent": sent[name],
                "failed": failed[name],
                "failed_over_to": {b: n for (a, b), n in moved if a == name},
                "failed_over_from": {a: n for (a, b), n in moved if b == name},
                "breaker": breaker_dict(_breaker(store, name)),
            }
        )
    return rows


def notable(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether anything went wrong with a provider (worth a table after one send)."""
    return any(row["failed"] or row["failed_over_to"] or _open(row["breaker"]) for row in rows)


def _open(breaker: dict[str, Any] | None) -> bool:
    return breaker is not None and breaker["state"] != _CLOSED.state


def _local(iso: str | None) -> str:
    if iso is None:
        return "?"
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def _moves(row: dict[str, Any]) -> str | None:
    parts = [f"{n:,} to {b}" for b, n in row["failed_over_to"].items()]
    parts += [f"{n:,} from {a}" for a, n in row["failed_over_from"].items()]
    return ", ".join(parts) or None


def breaker_text(breaker: dict[str, Any] | None) -> str:
    """``closed``, or ``open since <local time> (N failures)``; ``unknown`` for ``None``."""
    if breaker is None:
        return "unknown"
    if breaker["state"] == _CLOSED.state:
        return "closed"
    state = breaker["state"].replace("_", "-")
    return f"{state} since {_local(breaker['opened_at'])} ({breaker['failures']} failures)"


def provider_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The provider table as text lines, then one line per open breaker saying what it
    means and how to reset it."""
    from smsbridge.cli.output import render_table

    table = render_table(
        ("provider", "sent", "failed", "failed over", "breaker"),
        (
            [row["provider"], f"{row['sent']:,}", f"{row['failed']:,}", _moves(row),
             breaker_text(row["breaker"])]
            for row in rows
        ),
    )  # fmt: skip
    lines = table.splitlines()
    for row in rows:
        if _open(row["breaker"]):
            lines.append(
                f"breaker of {row['provider']} is open: it gets no messages until a probe "
                "succeeds (the other providers take them); once the cause is fixed, "
                f"`smsbridge breakers reset {row['provider']}` closes it"
            )
    return lines
