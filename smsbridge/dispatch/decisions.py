"""The dispatcher acting on :func:`smsbridge.router.decide.decide`.

Not public: :class:`~smsbridge.dispatch.Dispatcher` mixes this in. The decisions are the
pure function's; this module gathers their inputs (attempt counts, when the request
left, the provider's facts), performs the one kind of I/O a decision can ask for at once
(a lookup by reference) and writes every decision to the store, the finished ones of a
request in one commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from smsbridge.errors import ErrorInfo, Scope, SmsBridgeError
from smsbridge.model import Message
from smsbridge.outbox.base import ItemState, OutboxItem, OutboxStore
from smsbridge.provider import Provider
from smsbridge.results import SendResult
from smsbridge.router.breaker import OPEN, BreakerBoard
from smsbridge.router.decide import (
    Action,
    Answered,
    Decision,
    Failed,
    Found,
    LookupFailed,
    NotFound,
    Outcome,
    ProviderFacts,
    Rules,
    Situation,
    decide,
)
from smsbridge.router.router import Router
from smsbridge.status import Status

from .items import item_message
from .outcomes import no_result_error

__all__ = ["Decisions"]

ROWS_KEY = "rows"
"""Middle part of the stored key of a request whose rows share one client reference."""


class Decisions:
    """Outcome handling shared by single, grouped and replayed requests."""

    router: Router
    store: OutboxStore
    owner: str
    clock: Callable[[], float]
    rand: Callable[[], float]
    unknown_recheck: float
    not_found: Callable[[SmsBridgeError], bool]
    breakers: BreakerBoard
    _provider_failed: Callable[[str], None]
    _facts: dict[str, ProviderFacts]
    _finished: threading.local
    """``outcomes``: a dict this thread's finishing fills (see ``add_and_send``)."""

    # -- inputs -----------------------------------------------------------------------

    def _rules(self) -> Rules:
        return Rules(
            retry=self.router.retry,
            delivery=self.router.delivery,
            unknown_recheck=self.unknown_recheck,
        )

    def _facts_of(self, provider: Provider) -> ProviderFacts:
        facts = self._facts.get(provider.name)
        if facts is None:
            facts = self._facts[provider.name] = self.router.facts(provider)
        return facts

    def _situation(
        self,
        item: OutboxItem,
        provider: Provider,
        attempts: int,
        started_at: float,
        *,
        others: bool = False,
    ) -> Situation:
        if others:
            # Only a provider-scope failure asks (once per request, not per row).
            message = item_message(item)
            others = any(p.name != provider.name for p in self._candidates(item, message))
        return Situation(
            now=self.clock(),
            attempts=attempts,
            started_at=started_at,
            others=others,
            jitter=self.rand(),
        )

    def _candidates(self, item: OutboxItem, message: Message) -> list[Provider]:
        """Usable providers in policy order; the one that just failed transiently last."""
        ordered = [
            p
            for p in self.router.policy.order(message, self.router.providers)
            if p.name not in item.excluded_providers and p.accepts(message)
        ]
        error = item.last_error
        if (
            item.state is ItemState.RETRY_WAIT
            and item.provider is not None
            and error is not None
            and error.scope is Scope.PROVIDER
        ):
            ordered.sort(key=lambda p: p.name == item.provider)
        return ordered

    # -- after a request --------------------------------------------------------------

    def _record(
        self,
        items: Sequence[OutboxItem],
        provider: Provider,
        results: Sequence[SendResult],
        started_at: float,
    ) -> None:
        """Match a request's results to its items and act on each one's decision."""
        by_reference = {r.reference: r for r in results if r.reference is not None}
        by_number = {r.recipient: r for r in results}
        pairs: list[tuple[OutboxItem, Outcome]] = []
        for item in items:
            result = by_reference.get(item.reference)
            if result is None or result.recipient != item.recipient:
                result = by_number.get(item.recipient)
            outcome: Outcome
            if result is None:
                outcome = Failed(no_result_error(), outcome_unknown=True)
            else:
                outcome = Answered(result)
            pairs.append((item, outcome))
        self._act(pairs, provider, started_at, attempted=True)

    def _failed(
        self,
        items: Sequence[OutboxItem],
        provider: Provider,
        exc: SmsBridgeError,
        started_at: float,
    ) -> None:
        """Act after a request-level failure of one request (one or many items)."""
        outcome = Failed(
            exc.info(), outcome_unknown=exc.outcome_unknown, retry_after=exc.retry_after
        )
        self._act([(item, outcome) for item in items], provider, started_at, attempted=True)

    def _act(
        self,
        pairs: Sequence[tuple[OutboxItem, Outcome]],
        provider: Provider,
        started_at: float,
        *,
        attempted: bool,
    ) -> None:
        """Decide for every item and write the decisions; finished ones in one commit.

        Args:
            pairs: Items with what happened to each.
            provider: The provider of the attempt (or of the lookup).
            started_at: When the attempt's request left.
            attempted: The outcome is of a request sent just now (the item's attempt
                count grows by one), not of a lookup about an earlier one.
        """
        facts = self._facts_of(provider)
        rules = self._rules()
        finals: list[tuple[str, SendResult]] = []
        counted = False
        lookups: list[OutboxItem] = []
        for item, outcome in pairs:
            attempts = item.attempts + (1 if attempted else 0)
            situation = self._situation(
                item, provider, attempts, started_at, others=isinstance(outcome, Failed)
            )
            decision = decide(outcome, facts, situation, rules)
            if decision.breaker_failure and not counted:
                # One failed request counts once, however many items it carried.
                self._provider_failed(provider.name)
                counted = True
            if decision.action is Action.FINISH:
                finals.append((item.reference, _final(item, provider, decision, attempts)))
            elif (
                decision.action is Action.RECONCILE
                and not decision.replay
                and attempted
                and (decision.at <= situation.now)
            ):
                lookups.append(item)
            else:
                self.router.hooks.events.decided(provider, item, decision, attempts, situation.now)
                self._write(item, provider, decision, situation.now)
        if finals:
            self.store.finish_many(
                finals,
                owner=self.owner,
                now=self.clock(),
                outcomes=getattr(self._finished, "outcomes", None),
                # Only the answer to a first request: a lookup's items changed since.
                later=attempted and getattr(self._finished, "later", False),
            )
        for item in lookups:
            self._look_up(item, provider, started_at, attempts=item.attempts + 1)

    def _write(self, item: OutboxItem, provider: Provider, decision: Decision, now: float) -> None:
        """Store a decision that leaves the item unsettled."""
        error = decision.error or item.last_error or no_result_error()
        if decision.action is Action.RETRY:
            self.store.retry_later(
                item.reference,
                owner=self.owner,
                error=error,
                next_attempt_at=decision.at,
                exclude_provider=decision.exclude,
                outcome=decision.status,
                now=now,
            )
            return
        # RECONCILE later (a lookup or a replay to the same provider) or PARK: the item
        # stays with its provider, UNKNOWN, until then.
        self.store.mark_unknown(
            item.reference,
            owner=self.owner,
            error=error,
            now=now,
            next_attempt_at=decision.at,
        )

    # -- lookups ----------------------------------------------------------------------

    def _lookup_reference(self, item: OutboxItem, provider: Provider) -> str:
        """The client reference the provider knows the item's request by."""
        if not provider.capabilities.shared_row_reference:
            return item.reference
        key = self.store.chunk_of(item.reference)
        prefix = f"{provider.name}:{ROWS_KEY}:"
        if key is not None and key.startswith(prefix):
            return key[len(prefix) :]
        return item.reference

    def _look_up(
        self, item: OutboxItem, provider: Provider, started_at: float, *, attempts: int
    ) -> None:
        """Ask the provider about the item's attempt by reference and act on the answer."""
        outcome: Outcome
        try:
            report = provider.query(reference=self._lookup_reference(item, provider))
        except SmsBridgeError as exc:
            found = self.not_found(exc)
            outcome = NotFound(exc.info()) if found else LookupFailed(exc.info())
        else:
            outcome = Found(report.status, report.message_id, report.error)
        facts = self._facts_of(provider)
        situation = self._situation(item, provider, attempts, started_at, others=True)
        decision = decide(outcome, facts, situation, self._rules())
        self.router.hooks.events.looked_up(provider, item, outcome, decision, now=situation.now)
        if decision.action is Action.FINISH:
            message_id = (
                report.message_id
                if isinstance(outcome, Found) and not provider.capabilities.shared_row_reference
                else None
            )
            result = SendResult(
                item.recipient,
                decision.status or Status.UNKNOWN,
                provider=provider.name,
                message_id=message_id,
                reference=item.reference,
                error=decision.error,
                attempts=attempts,
            )
            self.store.finish(item.reference, owner=self.owner, result=result, now=self.clock())
            return
        # A later lookup, a replay with the same key, a resend by choice, or parked.
        self._write(item, provider, decision, situation.now)

    def _park(self, item: OutboxItem, error: ErrorInfo, when: float | None = None) -> None:
        """Leave the item UNKNOWN, to be looked at again much later (or at ``when``)."""
        now = self.clock()
        when = now + self.unknown_recheck if when is None else when
        self.router.hooks.events.parked(item, error, when, now)
        self.store.mark_unknown(
            item.reference,
            owner=self.owner,
            error=error,
            now=now,
            next_attempt_at=when,
        )

    def _breaker_wait(self, item: OutboxItem, message: Message, now: float) -> float:
        """When a breaker blocking the item's candidates lets a probe through."""
        reopen = [
            state.opened_at + self.breakers.reset_timeout
            for p in self._candidates(item, message)
            if (state := self.breakers.storage.get_breaker(p.name)).state == OPEN
            and state.opened_at is not None
        ]
        if reopen:
            return max(min(reopen), now)
        ceiling = self.router.retry.ceiling(max(item.attempts, 1))
        return now + self.rand() * ceiling

    def _give_up(
        self, item: OutboxItem, status: Status, error: ErrorInfo | None, now: float
    ) -> None:
        result = SendResult(
            item.recipient,
            status,
            provider=item.provider,
            reference=item.reference,
            error=error,
            attempts=item.attempts,
        )
        self.store.finish(item.reference, owner=self.owner, result=result, now=now)


def _final(item: OutboxItem, provider: Provider, decision: Decision, attempts: int) -> SendResult:
    result = decision.result
    if result is not None:
        # Field by field: attrs.evolve looks every field up by name, once per recipient.
        return SendResult(
            result.recipient,
            result.status,
            provider=result.provider or provider.name,
            message_id=result.message_id,
            reference=item.reference,
            parts=result.parts,
            cost=result.cost,
            error=result.error,
            attempts=attempts,
        )
    return SendResult(
        item.recipient,
        decision.status or Status.UNKNOWN,
        provider=provider.name,
        reference=item.reference,
        error=decision.error,
        attempts=attempts,
    )
