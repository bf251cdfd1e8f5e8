"""From what the senders report to the event hooks, built only for those who listen.

:class:`EventRelay` is the one object a bridge wires into its router: the router's
:class:`~smsbridge.router.hooks.SendHooks` call it for every request (before, failed,
answered) and its :attr:`~smsbridge.router.hooks.SendHooks.events` sink for decisions,
lookups and breaker changes. It calls the plugin manager's hooks, the three request
hooks as before and the observer hooks of :class:`~smsbridge.observe.specs.EventSpecs`
with values of :mod:`smsbridge.observe.events`. Every error text in those values goes
through a :class:`~smsbridge.credentials.Redactor` of the bridge's providers' secrets
first (answers are redacted once already by the HTTP client; a provider that does not
use it is covered here too).

Nothing is built for a hook nobody listens to: a plugin that defines ``observes(hook)``
and answers ``False`` (the logging plugin, while its logger is disabled) does not count.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from smsbridge.credentials import Redactor
from smsbridge.errors import ErrorInfo, SmsBridgeError
from smsbridge.observe.events import Attempt, BreakerChange, Failover, Reconciliation, Retry
from smsbridge.results import Cost, SendResult
from smsbridge.router.decide import Action, Decision, Found, LookupFailed, NotFound, Outcome

if TYPE_CHECKING:
    from smsbridge.model import Message
    from smsbridge.outbox.base import OutboxItem
    from smsbridge.provider import Provider
    from smsbridge.router.breaker import BreakerState

__all__ = ["EventRelay", "listens"]


def listens(caller: Any, name: str) -> bool:
    """Whether any plugin implementing hook ``name`` (``caller``) listens now.

    A plugin listens unless it defines ``observes(name)`` and that answers ``False``.
    """
    for impl in caller.get_hookimpls():
        observes = getattr(impl.plugin, "observes", None)
        if observes is None or observes(name):
            return True
    return False


class EventRelay:
    """Calls a plugin manager's event hooks for one bridge's requests and decisions.

    Args:
        hook: The plugin manager's hook relay (``manager.hook``).
        providers: The bridge's providers: their secrets are redacted from every text.
        clock: Wall-clock seconds, for when a request left.
    """

    def __init__(
        self,
        hook: Any,
        providers: Iterable[Provider] = (),
        *,
        clock: Any = time.time,
    ) -> None:
        self._hook = hook
        self._redact = Redactor([secret for p in providers for secret in p.secrets()])
        self._clock = clock
        self._local = threading.local()

    # -- request hooks ----------------------------------------------------------------

    def wants_messages(self) -> bool:
        """Whether anyone needs a request's message built (see ``SendHooks.listening``):
        the request hooks, or the observers of attempts, failovers and reconciliation."""
        hook = self._hook
        return (
            bool(hook.smsbridge_before_send.get_hookimpls())
            or bool(hook.smsbridge_send_failed.get_hookimpls())
            or listens(hook.smsbridge_attempt, "smsbridge_attempt")
            or listens(hook.smsbridge_failover, "smsbridge_failover")
            or listens(hook.smsbridge_reconcile, "smsbridge_reconcile")
        )

    def before_send(self, provider: Provider, message: Message) -> None:
        """A request is about to leave: note when, and call ``smsbridge_before_send``."""
        self._local.started = (
            provider.name,
            message.reference,
            self._clock(),
            time.perf_counter(),
        )
        self._hook.smsbridge_before_send(provider=provider.name, message=message)

    def send_failed(self, provider: Provider, message: Message, error: SmsBridgeError) -> None:
        """A request failed as a whole: ``smsbridge_send_failed``, then the attempt."""
        self._hook.smsbridge_send_failed(provider=provider.name, message=message, error=error)
        if not listens(self._hook.smsbridge_attempt, "smsbridge_attempt"):
            return
        started_at, duration, _ = self._elapsed(provider)
        attempt = Attempt(
            provider=provider.name,
            reference=message.reference,
            recipients=len(message.to),
            started_at=started_at,
            duration=duration,
            outcome="unknown" if error.outcome_unknown else "failed",
            error=self._clean(error.info()),
        )
        self._hook.smsbridge_attempt(attempt=attempt)

    def after_send(self, provider: Provider, results: list[SendResult]) -> None:
        """A request was answered: ``smsbridge_after_send``, then the attempt."""
        self._hook.smsbridge_after_send(provider=provider.name, results=results)
        if not listens(self._hook.smsbridge_attempt, "smsbridge_attempt"):
            return
        started_at, duration, reference = self._elapsed(provider)
        if duration is None:
            references = {r.reference for r in results}
            reference = references.pop() if len(references) == 1 else None
        attempt = Attempt(
            provider=provider.name,
            reference=reference,
            recipients=len(results),
            started_at=started_at,
            duration=duration,
            outcome="answered",
            statuses=Counter(r.status.value for r in results),
            parts=sum(r.parts or 0 for r in results),
            cost=_total(r.cost for r in results),
        )
        self._hook.smsbridge_attempt(attempt=attempt)

    def _elapsed(self, provider: Provider) -> tuple[float, float | None, str | None]:
        """When the request left, how long it took, and its message's reference."""
        started = getattr(self._local, "started", None)
        self._local.started = None
        if started is None or started[0] != provider.name:
            return self._clock(), None, None
        _, reference, wall, mark = started
        return wall, time.perf_counter() - mark, reference

    # -- the sink: decisions, lookups, breakers ---------------------------------------

    def attempting(self, provider: Provider, items: Sequence[OutboxItem]) -> None:
        """Failovers (an item's last attempt went elsewhere) and replays (an unknown
        item sent again to the provider that may hold it)."""
        hook = self._hook
        moved = listens(hook.smsbridge_failover, "smsbridge_failover")
        replayed = listens(hook.smsbridge_reconcile, "smsbridge_reconcile")
        if not (moved or replayed):
            return
        name = provider.name
        for item in items:
            last = item.provider
            if last is None or item.attempts == 0:
                continue
            if item.needs_reconciliation:
                if replayed and last == name:
                    step = Reconciliation(
                        provider=name,
                        reference=item.reference,
                        step="replay",
                        action="replay",
                        error=self._clean(item.last_error),
                    )
                    hook.smsbridge_reconcile(reconciliation=step)
            elif moved and last != name:
                failover = Failover(
                    reference=item.reference,
                    from_provider=last,
                    to_provider=name,
                    attempts=item.attempts,
                    error=self._clean(item.last_error),
                )
                hook.smsbridge_failover(failover=failover)

    def decided(
        self, provider: Provider, item: OutboxItem, decision: Decision, attempts: int, now: float
    ) -> None:
        """An unsettled decision: a retry, or an outcome left unknown."""
        hook = self._hook
        error = decision.error or item.last_error
        delay = max(decision.at - now, 0.0)
        if decision.action is Action.RETRY:
            if listens(hook.smsbridge_retry, "smsbridge_retry"):
                retry = Retry(
                    provider=provider.name,
                    reference=item.reference,
                    attempts=attempts,
                    delay=delay,
                    error=self._clean(error),
                    excluded=decision.exclude is not None,
                )
                hook.smsbridge_retry(retry=retry)
            return
        if listens(hook.smsbridge_reconcile, "smsbridge_reconcile"):
            step = Reconciliation(
                provider=provider.name,
                reference=item.reference,
                step="unknown" if decision.action is Action.RECONCILE else "parked",
                action="replay" if decision.replay else decision.action.value,
                delay=delay,
                error=self._clean(error),
            )
            hook.smsbridge_reconcile(reconciliation=step)

    def looked_up(
        self, provider: Provider, item: OutboxItem, outcome: Outcome, decision: Decision, now: float
    ) -> None:
        """A lookup by reference and what was decided from it."""
        hook = self._hook
        if not listens(hook.smsbridge_reconcile, "smsbridge_reconcile"):
            return
        found = {Found: "found", NotFound: "not-found", LookupFailed: "failed"}.get(type(outcome))
        status = decision.status or (outcome.status if isinstance(outcome, Found) else None)
        step = Reconciliation(
            provider=provider.name,
            reference=item.reference,
            step="lookup",
            action="replay" if decision.replay else decision.action.value,
            found=found,
            status=None if status is None else status.value,
            delay=None if decision.action is Action.FINISH else max(decision.at - now, 0.0),
            error=self._clean(decision.error),
        )
        hook.smsbridge_reconcile(reconciliation=step)

    def parked(self, item: OutboxItem, error: ErrorInfo, when: float, now: float) -> None:
        """An unknown item left for a later look."""
        hook = self._hook
        if not listens(hook.smsbridge_reconcile, "smsbridge_reconcile"):
            return
        step = Reconciliation(
            provider=item.provider or "",
            reference=item.reference,
            step="parked",
            action="park",
            delay=max(when - now, 0.0),
            error=self._clean(error),
        )
        hook.smsbridge_reconcile(reconciliation=step)

    def breaker_changed(self, provider: str, old: BreakerState, new: BreakerState) -> None:
        """A breaker changed state."""
        hook = self._hook
        if old.state == new.state or not listens(hook.smsbridge_breaker, "smsbridge_breaker"):
            return
        change = BreakerChange(
            provider=provider, old=old.state, new=new.state, failures=new.failures
        )
        hook.smsbridge_breaker(change=change)

    # -- helpers ----------------------------------------------------------------------

    def _clean(self, error: ErrorInfo | None) -> ErrorInfo | None:
        if error is None:
            return None
        text = self._redact(error.text)
        return error if text == error.text else attrs.evolve(error, text=text)


def _total(costs: Iterable[Cost | None]) -> Cost | None:
    """The sum of the costs given, when they share one unit; ``None`` otherwise."""
    total: Cost | None = None
    for cost in costs:
        if cost is None:
            continue
        if total is None:
            total = cost
        elif total.unit != cost.unit:
            return None
        else:
            total = total + cost
    return total
