"""The tasks, and the beat schedule entry for the drain task."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from celery import Task, shared_task

from smsbridge.contrib.celery import state
from smsbridge.model import Message
from smsbridge.outbox import OutboxError
from smsbridge.router.backoff import RetryPolicy
from smsbridge.worker import enqueue

__all__ = [
    "ENQUEUE_TASK",
    "RESUME_TASK",
    "beat_schedule",
    "enqueue_sms",
    "resume_outbox",
    "task_reference",
]

ENQUEUE_TASK = "smsbridge.enqueue"
"""The registered name of :func:`enqueue_sms`."""
RESUME_TASK = "smsbridge.resume"
"""The registered name of :func:`resume_outbox`."""
_RETRIES = RetryPolicy(max_attempts=8, base=1.0, cap=60.0)
"""Waits before retrying an enqueue the database refused for now (busy, restarting)."""
# What a reference holds after "celery:" with room for the per-recipient "-N" suffixes.
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,47}")


def task_reference(task_id: str) -> str:
    """The reference a message enqueued by task ``task_id`` gets when none is given.

    A task id survives retries and redeliveries, so the reference does too. Celery's
    own ids (UUIDs) are kept readable, ``celery:<id>``; an id of your own that a
    reference cannot hold (too long, other characters) becomes ``celery:`` and its
    SHA-256, so two ids never share a reference.
    """
    if _PLAIN_ID.fullmatch(task_id):
        return f"celery:{task_id}"
    return f"celery:{hashlib.sha256(task_id.encode('utf-8', 'surrogatepass')).hexdigest()[:48]}"


@shared_task(name=ENQUEUE_TASK, bind=True, acks_late=True, max_retries=_RETRIES.max_attempts)
def enqueue_sms(
    self: Task[Any, Any],
    to: str | list[str],
    body: str,
    sender: str | None = None,
    reference: str | None = None,
) -> dict[str, Any]:
    """Write a message to the outbox; the drain task (or a worker) sends it.

    Retried with backoff while the outbox database is busy or away; running it again
    writes nothing the first run wrote.

    Args:
        to: A number, or several.
        body: The text.
        sender: Sender id; the account's default when ``None``.
        reference: The message's reference; :func:`task_reference` of the task id when
            ``None``.

    Returns:
        ``added`` and ``existing`` item counts, every item's ``references``, and the
        ``refused`` recipients (``recipient``, ``status``, ``error``), JSON-ready.

    Raises:
        InvalidMessageError: For an empty body, a bad sender or reference (not retried).
        OutboxError: A permanent database error, or a transient one retries did not mend.
    """
    message = Message(to, body, sender, reference or task_reference(str(self.request.id)))
    config = state.config(self.app)
    try:
        written = enqueue(
            state.store(self.app),
            message,
            region=config.region,
            strict_numbers=config.strict_numbers,
        )
    except OutboxError as exc:
        if not exc.transient:
            raise
        retries = int(self.request.retries or 0)
        raise self.retry(exc=exc, countdown=_RETRIES.delay(retries + 1)) from None
    return {
        "added": written.added,
        "existing": written.existing,
        "references": list(written.references),
        "refused": [
            {
                "recipient": result.recipient,
                "status": result.status.value,
                "error": None if result.error is None else result.error.text,
            }
            for result in written.refused
        ],
    }


@shared_task(name=RESUME_TASK, bind=True, acks_late=True)
def resume_outbox(
    self: Task[Any, Any], timeout: float | None = 50.0, patience: float = 0.0
) -> dict[str, Any]:
    """Send what is due in the outbox and reconcile what a crash left.

    Any number may run at once, in any number of processes: items are claimed under
    leases, so each is sent by one of them.

    Args:
        timeout: Most seconds to work (keep it under the beat interval).
        patience: Longest wait for an item due later; later ones are left to the next
            run and counted as unsettled.

    Returns:
        The outbox's state: ``settled`` counts by status, ``unsettled``, ``complete``
        and the reasons (``pending``, ``waiting``, ``no_provider``, ``in_flight``,
        ``reconciling``, ``parked``), JSON-ready.
    """
    summary = state.bridge(self.app).resume(timeout, patience=patience)
    return {
        "settled": {status.value: count for status, count in summary.settled.items()},
        "unsettled": summary.unsettled,
        "complete": summary.complete,
        "pending": summary.pending,
        "waiting": summary.waiting,
        "no_provider": summary.no_provider,
        "in_flight": summary.in_flight,
        "reconciling": summary.reconciling,
        "parked": summary.parked,
    }


def beat_schedule(every: float = 60.0, *, timeout: float | None = None) -> dict[str, Any]:
    """The ``beat_schedule`` entry that drains the outbox every ``every`` seconds::

        app.conf.beat_schedule = {**smsbridge.contrib.celery.beat_schedule(60)}

    Args:
        every: Seconds between runs.
        timeout: Most seconds one run works; 80 % of ``every`` by default, so runs
            rarely overlap (and are harmless when they do).

    Returns:
        ``{"smsbridge-resume": {...}}``.
    """
    limit = every * 0.8 if timeout is None else timeout
    return {
        "smsbridge-resume": {
            "task": RESUME_TASK,
            "schedule": every,
            "kwargs": {"timeout": limit, "patience": 0.0},
            # A run that waited longer than the interval is superseded by the next one.
            "options": {"expires": every},
        }
    }
