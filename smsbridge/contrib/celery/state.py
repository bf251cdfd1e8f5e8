"""What the tasks work with in one worker process: configuration, outbox and bridge.

Built on first use in the process that runs the tasks (never inherited across a fork:
a pool process starts afresh), kept for its lifetime, and closed by :func:`reset`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown

from smsbridge.bridge import SmsBridge
from smsbridge.config import Config, load_config
from smsbridge.errors import ConfigurationError
from smsbridge.outbox import OutboxStore
from smsbridge.outbox.factory import open_store
from smsbridge.worker import unique_owner

__all__ = ["CONFIG_SETTING", "bridge", "config", "configure", "reset", "store"]

CONFIG_SETTING = "smsbridge_config"
"""The Celery setting naming the configuration: a :class:`Config` or a file path."""


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.config: Config | None = None
        self.store: OutboxStore | None = None
        self.owns_store = True
        self.bridge: SmsBridge | None = None


_state = _State()


def configure(config: Config | None = None, *, store: OutboxStore | None = None) -> None:
    """Use this configuration (and this open outbox) for the tasks run in this process.

    Call it where the worker starts (the module that makes the Celery app). Without it,
    the configuration is looked up as the module docstring says. A ``config`` is safe to
    give before the prefork pool forks (each pool process opens its own outbox); an
    open ``store`` is not, as a connection must not cross a fork: with the prefork pool,
    give it from a ``worker_process_init`` handler.

    Args:
        config: The providers, routing and store; looked up when ``None``.
        store: An open outbox to use instead of opening ``config.store`` (its owner
            closes it).
    """
    reset()
    with _state.lock:
        _state.config = config
        if store is not None:
            _state.store = store
            _state.owns_store = False


def _lookup(app: Celery | None) -> Config:
    named: Any = None if app is None else app.conf.get(CONFIG_SETTING)
    if isinstance(named, Config):
        return named
    if isinstance(named, str | os.PathLike):
        return load_config(Path(named))
    if named is not None:
        raise ConfigurationError(
            f"the Celery setting {CONFIG_SETTING} must be a Config or a path, "
            f"not {type(named).__name__}"
        )
    return _from_django() or load_config()


def _from_django() -> Config | None:
    """Django's ``settings.SMSBRIDGE``, when this worker runs a Django project's tasks."""
    try:
        from django.conf import settings
    except ImportError:
        return None
    if not (settings.configured and hasattr(settings, "SMSBRIDGE")):
        return None
    from smsbridge.contrib.django.conf import get_config

    return get_config()


def config(app: Celery | None = None) -> Config:
    """The configuration, looked up once per process.

    Raises:
        ConfigurationError: When none is found or it has problems.
    """
    with _state.lock:
        if _state.config is None:
            _state.config = _lookup(app)
        return _state.config


def store(app: Celery | None = None) -> OutboxStore:
    """The outbox, opened once per process.

    Raises:
        OutboxError: When it cannot be opened.
    """
    with _state.lock:
        if _state.store is None:
            _state.store = open_store(config(app).store)
            _state.owns_store = True
        return _state.store


def bridge(app: Celery | None = None) -> SmsBridge:
    """The bridge the drain task sends with, with a lease name of its own.

    Raises:
        ConfigurationError: For a configuration that builds no bridge.
    """
    with _state.lock:
        if _state.bridge is None:
            _state.bridge = config(app).build_bridge(store=store(app), owner=unique_owner())
        return _state.bridge


def reset(**_: object) -> None:
    """Close the bridge and the outbox this module opened, and forget the configuration."""
    with _state.lock:
        built, opened, owned = _state.bridge, _state.store, _state.owns_store
        _state.bridge = _state.store = _state.config = None
        _state.owns_store = True
    if built is not None:
        built.close()
    if opened is not None and owned:
        opened.close()


def _forked(**_: object) -> None:
    """In a new pool process: drop the parent's connections without closing them (a
    close from here could end the parent's PostgreSQL session); keep the configuration."""
    with _state.lock:
        if _state.owns_store:
            _state.store = None
        _state.bridge = None


worker_process_init.connect(_forked, weak=False, dispatch_uid="smsbridge-celery-init")
# A pool process closes at its end; the solo and threads pools run tasks in the main
# process, which closes at the worker's end. Closing gives the leases back at once.
worker_process_shutdown.connect(reset, weak=False, dispatch_uid="smsbridge-celery-shutdown")
worker_shutdown.connect(reset, weak=False, dispatch_uid="smsbridge-celery-worker-shutdown")
