"""Scheduled template tasks: campaigns planned, inspected, cancelled and exported.

A task is a text (one body or a template) plus a recipient file, sent now or at a
scheduled time through any provider, because the outbox does the scheduling. Create and
inspect tasks with :class:`Tasks`; start them with a :class:`TaskRunner` ticking in any
worker on the same outbox file. See ``docs/tasks.md``.
"""

from __future__ import annotations

from smsbridge.tasks.hours import DEFAULT_HOURS, SendingHours
from smsbridge.tasks.model import (
    ImportReport,
    InvalidLine,
    SendingHoursError,
    Task,
    TaskDetail,
    TaskError,
    TaskImportError,
    TaskNotFoundError,
    TaskState,
    TaskStateError,
)
from smsbridge.tasks.scheduler import PROVIDER_KEY, TaskPolicy, TaskRunner, TickReport
from smsbridge.tasks.service import FAILED, WAITING, Tasks

__all__ = [
    "DEFAULT_HOURS",
    "FAILED",
    "PROVIDER_KEY",
    "WAITING",
    "ImportReport",
    "InvalidLine",
    "SendingHours",
    "SendingHoursError",
    "Task",
    "TaskDetail",
    "TaskError",
    "TaskImportError",
    "TaskNotFoundError",
    "TaskPolicy",
    "TaskRunner",
    "TaskState",
    "TaskStateError",
    "Tasks",
    "TickReport",
]
