"""``send_sms()``: one line from a view to a text message, whatever the backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from django.utils.module_loading import import_string

from smsbridge.config import Problem
from smsbridge.contrib.django.backends import BaseBackend
from smsbridge.contrib.django.conf import SETTING, SettingsError, backend_path, cached, get_config
from smsbridge.model import Message
from smsbridge.results import SendResult

__all__ = ["get_backend", "send_messages", "send_sms"]


def _build(path: str) -> BaseBackend:
    try:
        cls = import_string(path)
    except ImportError as exc:
        problem = Problem(0, "backend", f"cannot import {path!r}: {exc}")
        raise SettingsError(SETTING, [problem]) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseBackend)):
        problem = Problem(0, "backend", f"{path!r} is not a BaseBackend subclass")
        raise SettingsError(SETTING, [problem])
    backend: BaseBackend = cls(get_config(requires_providers=cls.requires_providers))
    return backend


def get_backend(path: str | None = None) -> BaseBackend:
    """The backend ``SMSBRIDGE["backend"]`` names (kept for the process), or a new
    one of class ``path`` (the caller closes it).

    Raises:
        SettingsError: For settings with problems or a backend that cannot be imported.
    """
    if path is not None:
        return _build(path)
    found: BaseBackend = cached("backend", lambda: _build(backend_path()))
    return found


def send_messages(
    messages: Sequence[Message], *, backend: BaseBackend | None = None
) -> list[SendResult]:
    """Send several messages through the configured backend (or ``backend``).

    Returns:
        One result per recipient, message by message.
    """
    return (backend or get_backend()).send_messages(messages)


@overload
def send_sms(
    to: str,
    body: str,
    *,
    sender: str | None = None,
    reference: str | None = None,
    backend: BaseBackend | None = None,
) -> SendResult: ...


@overload
def send_sms(
    to: list[str] | tuple[str, ...],
    body: str,
    *,
    sender: str | None = None,
    reference: str | None = None,
    backend: BaseBackend | None = None,
) -> list[SendResult]: ...


def send_sms(
    to: str | Sequence[str],
    body: str,
    *,
    sender: str | None = None,
    reference: str | None = None,
    backend: BaseBackend | None = None,
) -> SendResult | list[SendResult]:
    """Send one text to one number (a :class:`~smsbridge.SendResult`) or to several (a
    list of them, in the order given, a repeated number once).

    What "send" means is the backend's: at once (the default), into the outbox for
    the worker, or into :data:`~smsbridge.contrib.django.outbox` in tests. An invalid
    number is a result with status ``INVALID_NUMBER``, never an exception, and the other
    recipients are still sent.

    Args:
        to: A number as the user typed it (``"07700 900123"`` with ``region="GB"``), or
            several.
        body: The text.
        sender: Sender id; the account's default when ``None``.
        reference: The client reference (idempotency key): sending again with the same
            reference sends nothing new. Generated when ``None``.
        backend: A backend to use instead of the configured one.

    Raises:
        InvalidMessageError: For an empty body, a bad sender or reference, no recipients.
        SettingsError: When ``settings.SMSBRIDGE`` has problems.
        SmsBridgeError: A request-level failure of the provider (see
            :meth:`smsbridge.SmsBridge.send`).
    """
    message = Message(to, body, sender, reference)
    results = send_messages([message], backend=backend)
    if isinstance(to, str):
        return results[0]
    return results
