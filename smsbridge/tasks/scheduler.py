"""Starting due tasks, expiring forgotten ones, and noticing finished ones.

:class:`TaskRunner` keeps no state of its own: every decision is read from and written
to the task tables and the outbox, so whichever process ticks (a ``smsbridge task run``
in cron, a long-running worker, or a process restarted after a crash) carries on where
the last one stopped. Starting a task copies its staged recipients into the outbox with
references derived from the task id and the file line, so a start interrupted half-way
is finished by the next tick without sending anyone twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import attrs

from smsbridge.dispatch import Dispatcher
from smsbridge.dispatch.items import stored_options
from smsbridge.errors import ConfigurationError
from smsbridge.model import Message
from smsbridge.outbox.base import ItemState, NewItem
from smsbridge.provider import Provider
from smsbridge.reports.polling import Poller
from smsbridge.router.policy import Policy
from smsbridge.tasks.model import Task
from smsbridge.tasks.service import Tasks

__all__ = ["PROVIDER_KEY", "TaskPolicy", "TaskRunner", "TickReport", "item_reference"]

PROVIDER_KEY = "smsbridge_task_provider"
"""``SendOptions.extra`` key naming the provider a task's messages are pinned to."""


def item_reference(task_id: str, line: int) -> str:
    """The outbox reference of the message for a task's file line (stable, so a
    repeated enqueue adds nothing)."""
    return f"{task_id}-{line}"


@attrs.frozen
class TaskPolicy:
    """A routing policy that honours a task's provider pin, else defers to ``inner``.

    Args:
        inner: The configured policy.
    """

    inner: Policy

    def order(self, message: Message, providers: Sequence[Provider]) -> list[Provider]:
        """The inner order, reduced to the pinned provider when the message has one.

        Args:
            message: The message.
            providers: The candidates.

        Returns:
            The candidates to try, most preferred first (none when the pinned provider is
            not configured: the message then fails with "no provider").
        """
        ordered = self.inner.order(message, providers)
        pinned = message.options.extra.get(PROVIDER_KEY)
        if pinned is None:
            return ordered
        return [provider for provider in ordered if provider.name == pinned]


@attrs.frozen(kw_only=True)
class TickReport:
    """What one :meth:`TaskRunner.tick` did.

    Args:
        started: Tasks moved to executing (their recipients enqueued).
        expired: Tasks cancelled because they were not started in time.
        completed: Tasks whose status reports all returned (or whose wait ran out).
    """

    started: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    completed: tuple[str, ...] = ()


class TaskRunner:
    """Moves tasks along their life cycle; the dispatcher sends what they enqueue.

    The dispatcher's router policy is wrapped in :class:`TaskPolicy` (once), so tasks
    pinned to one provider go only there. A worker that sends the outbox without a
    runner should wrap its policy the same way.

    Args:
        tasks: The tasks (their outbox must be the dispatcher's).
        dispatcher: Sends the enqueued messages.
        clock: Seconds since the epoch; the tasks' clock by default.
        poller: Asks providers about messages whose report is overdue, once per
            :meth:`run` (a task completes only when every report is in: without a
            callback receiver or a poller, it waits for ``report_wait``).

    Raises:
        ConfigurationError: When the dispatcher works on another outbox file.
    """

    def __init__(
        self,
        tasks: Tasks,
        dispatcher: Dispatcher,
        clock: Callable[[], float] | None = None,
        poller: Poller | None = None,
    ) -> None:
        theirs = getattr(dispatcher.store, "path", None)
        if theirs != tasks.path:
            raise ConfigurationError(
                f"the dispatcher's outbox ({theirs}) is not the tasks' outbox ({tasks.path})"
            )
        self.tasks = tasks
        self.dispatcher = dispatcher
        self.clock = clock or tasks.clock
        self.poller = poller
        router = dispatcher.router
        if not isinstance(router.policy, TaskPolicy):
            router.policy = TaskPolicy(router.policy)

    def tick(self) -> TickReport:
        """Expire, start and complete whatever is due now.

        A pending task more than ``expire_after`` past its time is cancelled with the
        reason; any other due task is started (its recipients go into the outbox, due
        at once). An executing task is completed when every number's status report has
        returned: each message is settled and its status final (delivered, failed,
        refused...). A message still without a final status ``report_wait`` after its
        last change is given up on: the task completes with a reason counting them.

        Returns:
            What changed.

        Raises:
            OutboxError, TaskError: For database errors (what was done stays done).
        """
        now = self.clock()
        started: list[str] = []
        expired: list[str] = []
        completed: list[str] = []
        store = self.tasks.store
        expire_after = self.tasks.expire_after.total_seconds()
        for task in store.due(now):
            if now - task.due_at.timestamp() > expire_after:
                hours = expire_after / 3600
                reason = f"not started within {hours:g} hours after its scheduled time"
                if store.cancel(task.id, now=now, not_due_before=float("-inf"), reason=reason):
                    expired.append(task.id)
            elif store.start(task.id, now=now):
                self._enqueue(task, now)
                started.append(task.id)
        for task, enqueued in store.executing():
            if not enqueued:
                # Started by a process that stopped before it finished enqueuing.
                self._enqueue(task, now)
            elif self._complete(task, now):
                completed.append(task.id)
        return TickReport(
            started=tuple(started), expired=tuple(expired), completed=tuple(completed)
        )

    def run(self, timeout: float) -> TickReport:
        """Tick, send what is due for up to ``timeout`` seconds, poll overdue reports
        (with a poller), and tick again.

        Args:
            timeout: Seconds the dispatcher may work.

        Returns:
            Everything both ticks did.
        """
        first = self.tick()
        self.dispatcher.drain(timeout)
        if self.poller is not None:
            self.poller.poll_once()
        second = self.tick()
        return TickReport(
            started=first.started + second.started,
            expired=first.expired + second.expired,
            completed=first.completed + second.completed,
        )

    def _complete(self, task: Task, now: float) -> bool:
        """Complete the task if every report is in (or given up on); True when done here."""
        missing = self._unreported(task, now)
        if missing is None:
            return False
        why = None
        if missing:
            hours = self.tasks.report_wait.total_seconds() / 3600
            why = f"{missing} number(s) returned no status report within {hours:g} hours"
        return self.tasks.store.complete(task.id, now=now, reason=why)

    def _unreported(self, task: Task, now: float) -> int | None:
        """``None`` while the task waits for a message or a report; else how many
        messages were given up on without a final status."""
        outbox = self.tasks.outbox
        counts = outbox.counts(batch=task.id)
        if any(count for state, count in counts.items() if state is not ItemState.DONE):
            return None
        cutoff = now - self.tasks.report_wait.total_seconds()
        missing = 0
        for item in outbox.iter_items(batch=task.id):
            if item.status is None or item.status.is_final:
                continue  # refused or failed without a status, or its report is in
            if item.updated_at > cutoff:
                return None  # a report may still come
            missing += 1
        return missing

    def _enqueue(self, task: Task, now: float) -> None:
        self.tasks.outbox.add(self._items(task, now), now=now)
        self.tasks.store.enqueued(task.id)

    def _items(self, task: Task, now: float) -> Iterator[NewItem]:
        options = task.options
        if task.provider is not None:
            options = attrs.evolve(options, extra={**options.extra, PROVIDER_KEY: task.provider})
        for row in self.tasks.store.staged(task.id):
            body = task.body
            if body is None:
                assert task.template is not None
                # Variables were checked at import, so rendering cannot fail here.
                body = task.template.render(row.variables, recipient=row.number)
            yield NewItem(
                reference=item_reference(task.id, row.line),
                recipient=row.number,
                body=body,
                sender=task.sender,
                # The template travels with the item, as from every other entry point:
                # a template-only provider (Huawei) sends its id and the row's values.
                options=stored_options(options, task.template, row.variables),
                batch=task.id,
                next_attempt_at=now,
            )
