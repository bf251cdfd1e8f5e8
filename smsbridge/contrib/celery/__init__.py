"""Celery tasks: write messages to the outbox, and drain it.

* ``smsbridge.enqueue`` (:func:`enqueue_sms`) writes a message to the outbox and sends
  nothing, so it is quick and never waits for a provider.
* ``smsbridge.resume`` (:func:`resume_outbox`) sends what is due and reconciles what a
  crash left: :meth:`smsbridge.SmsBridge.resume`. Run it from beat
  (:func:`beat_schedule`), after enqueueing, or both.

Both are safe to run twice. A message's reference is its key in the outbox: the one
given, or one made from the task id, which a retry and a redelivery keep, so a retried
enqueue writes nothing new and a resumed item is never sent twice.

Configuration, first found: :func:`configure` in the worker process, the Celery
setting ``smsbridge_config`` (a :class:`~smsbridge.config.Config` or the path of a
``smsbridge.toml``), Django's ``settings.SMSBRIDGE`` when ``smsbridge.contrib.django``
is installed, then ``smsbridge.toml`` as the CLI finds it (``$SMSBRIDGE_CONFIG``).
See ``docs/celery.md``.
"""

from __future__ import annotations

from smsbridge.contrib.celery.state import configure, reset
from smsbridge.contrib.celery.tasks import (
    RESUME_TASK,
    beat_schedule,
    enqueue_sms,
    resume_outbox,
    task_reference,
)

__all__ = [
    "RESUME_TASK",
    "beat_schedule",
    "configure",
    "enqueue_sms",
    "reset",
    "resume_outbox",
    "task_reference",
]
