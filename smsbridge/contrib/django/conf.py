"""``settings.SMSBRIDGE``: read, checked like ``smsbridge.toml``, built once per process.

The mapping takes every key of ``smsbridge.toml`` (``providers``, ``routing``, ``store``,
``region``, ``strict_numbers``, ``prices``, ``receiver``) and one of its own,
``backend``. It is checked by :func:`~smsbridge.config.config_from_mapping`, the same
checks the file gets, so a typo is reported with its key path at ``manage.py check``
rather than at the first message. Credentials may be written as values (settings
modules read them from the environment) or as ``NAME_env``.

What is built from the settings (the backend, the report receiver, their outbox and
connection pools) is kept for the process and closed when a test changes
``SMSBRIDGE`` with ``override_settings``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from smsbridge.config import Config, ConfigMappingError, Problem, config_from_mapping

if TYPE_CHECKING:
    from smsbridge.contrib.django.backends import BaseBackend
    from smsbridge.reports import ReportReceiver

__all__ = [
    "DEFAULT_BACKEND",
    "SETTING",
    "SettingsError",
    "backend_path",
    "cached",
    "check_settings",
    "get_config",
    "reset",
    "reset_on_change",
]

SETTING = "SMSBRIDGE"
"""The name of the Django setting."""
DEFAULT_BACKEND = "smsbridge.contrib.django.backends.BridgeBackend"
"""Send at once, through an :class:`~smsbridge.SmsBridge` built from the settings."""
_OWN_KEYS = frozenset({"backend"})


class SettingsError(ConfigMappingError, ImproperlyConfigured):
    """``settings.SMSBRIDGE`` is missing or has problems; :attr:`problems` lists each
    with its key path. Both an smsbridge error and Django's ``ImproperlyConfigured``."""


def _raw() -> Mapping[str, Any]:
    value = getattr(settings, SETTING, None)
    if not isinstance(value, Mapping):
        what = "not set" if value is None else f"a {type(value).__name__}, not a dict"
        raise SettingsError(
            SETTING, [Problem(0, "", f"is {what}: add SMSBRIDGE = {{'providers': {{...}}}}")]
        )
    return value


def backend_path() -> str:
    """The dotted path of the configured backend class.

    Raises:
        SettingsError: When ``SMSBRIDGE`` is not a dict or ``backend`` not a string.
    """
    value = _raw().get("backend", DEFAULT_BACKEND)
    if not isinstance(value, str) or not value:
        problem = Problem(0, "backend", f"must be a dotted path to a class, not {value!r}")
        raise SettingsError(SETTING, [problem])
    return value


def _load(*, requires_providers: bool = True) -> Config:
    data = {key: value for key, value in _raw().items() if key not in _OWN_KEYS}
    if isinstance(data.get("store"), Path):
        data["store"] = str(data["store"])
    given = getattr(settings, "BASE_DIR", None)
    base = None if given is None else Path(given)
    try:
        return config_from_mapping(data, name=SETTING, base=base)
    except ConfigMappingError as exc:
        problems = exc.problems
        if not requires_providers and "providers" not in data:
            # A backend that sends nothing (tests) needs no providers, and no others.
            problems = [p for p in problems if p.key != "providers"]
            if not problems:
                return config_from_mapping({**data, "providers": {}}, name=SETTING, base=base)
        raise SettingsError(SETTING, problems) from None


class _Built:
    """What the settings built, once per process, closed together."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.config: Config | None = None
        self.backend: BaseBackend | None = None
        self.receiver: tuple[ReportReceiver, Callable[[], None]] | None = None


_built = _Built()


def get_config(*, requires_providers: bool = True) -> Config:
    """The configuration ``settings.SMSBRIDGE`` describes (checked once, then kept).

    Args:
        requires_providers: Whether settings without ``providers`` are a problem.

    Raises:
        SettingsError: Listing every problem of the settings.
    """
    with _built.lock:
        if _built.config is None:
            _built.config = _load(requires_providers=requires_providers)
        return _built.config


def cached(kind: str, build: Callable[[], Any]) -> Any:
    """The process's ``backend`` or ``receiver``, built by ``build`` the first time."""
    with _built.lock:
        current = getattr(_built, kind)
        if current is None:
            current = build()
            setattr(_built, kind, current)
        return current


def reset() -> None:
    """Close and forget everything built from the settings; the next use rebuilds."""
    with _built.lock:
        backend, receiver = _built.backend, _built.receiver
        _built.config = _built.backend = _built.receiver = None
    if backend is not None:
        backend.close()
    if receiver is not None:
        receiver[1]()


def reset_on_change(*, setting: str, **_: Any) -> None:
    """``setting_changed`` receiver: rebuild after ``override_settings(SMSBRIDGE=...)``."""
    if setting == SETTING:
        reset()


def check_settings(**_: Any) -> list[checks.CheckMessage]:
    """The system check (``manage.py check``): one error per problem of the settings."""
    from django.utils.module_loading import import_string

    try:
        path = backend_path()
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise SettingsError(
                SETTING, [Problem(0, "backend", f"cannot import {path!r}: {exc}")]
            ) from None
        _load(requires_providers=getattr(cls, "requires_providers", True))
    except SettingsError as exc:
        return [
            checks.Error(
                f"{SETTING}{''.join(f'[{k!r}]' for k in p.key.split('.') if k)}: {p.message}",
                id="smsbridge.E001",
            )
            for p in exc.problems
        ]
    return []
