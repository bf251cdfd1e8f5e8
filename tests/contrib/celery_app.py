"""The Celery application of the integration tests: the worker subprocess runs it
(``celery -A tests.contrib.celery_app worker``), the tests build the same with
:func:`make_app` to send tasks and read results.

``SMSBRIDGE_TEST_REDIS_URL`` names the broker and result backend, ``SMSBRIDGE_CONFIG``
the ``smsbridge.toml``. ``SMSBRIDGE_TEST_LOSE_FIRST_ADD=1`` forces a retry: the first
write to the outbox commits and then fails as a dropped connection would, so the task
is retried through the broker after its items are already in the outbox.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from celery import Celery

from smsbridge.contrib.celery import configure
from smsbridge.errors import Kind
from smsbridge.outbox import AddResult, NewItem, OutboxError, SqliteStore


def make_app(broker: str) -> Celery:
    """A Celery app on ``broker`` (also the result backend), acknowledging late."""
    app = Celery("smsbridge_tests", broker=broker, backend=broker)
    app.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=600,
        worker_hijack_root_logger=False,
    )
    return app


class LosesFirstAdd(SqliteStore):
    """An outbox whose first ``add`` commits and then reports a lost connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost = 0

    def add(self, items: Iterable[NewItem], **options: Any) -> AddResult:
        """Add; the first time, raise a transient error after the commit."""
        result = super().add(items, **options)
        if self.lost == 0:
            self.lost += 1
            raise OutboxError("connection lost after the commit", kind=Kind.TRANSIENT)
        return result


app = make_app(os.environ.get("SMSBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.smsbridge_config = os.environ.get("SMSBRIDGE_CONFIG")
app.conf.include = ["smsbridge.contrib.celery"]

if os.environ.get("SMSBRIDGE_TEST_LOSE_FIRST_ADD") == "1":
    from smsbridge.config import load_config

    loaded = load_config()
    configure(loaded, store=LosesFirstAdd(loaded.store))
