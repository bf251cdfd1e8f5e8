"""The receiver's half of "secrets never leave": parsed callbacks lose every credential.

Answers to our own requests are redacted by :class:`~smsbridge.http.HttpClient` before any
parser reads them. Callbacks arrive the other way, through the receiver, so it redacts
what the provider's parser made of them before anything is stored, logged or announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from smsbridge.credentials import Redactor, Secret
from smsbridge.results import DeliveryReport

__all__ = ["auth_secrets", "redact_report"]


def auth_secrets(auth: object) -> tuple[Secret, ...]:
    """The :class:`~smsbridge.Secret` fields of an attrs auth object (token, password)."""
    if not attrs.has(type(auth)):
        return ()
    values: Iterable[object] = attrs.astuple(auth, recurse=False)  # type: ignore[arg-type]
    return tuple(value for value in values if isinstance(value, Secret))


def _clean(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): _clean(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item, redact) for item in value]
    return value


def redact_report(report: DeliveryReport, redact: Redactor) -> DeliveryReport:
    """The report with every credential spelling removed from its texts and raw fields.

    Identifiers (message id, reference, recipient) are left alone: parsers validate them
    and the outbox matches on them.

    Args:
        report: As the provider parsed it.
        redact: Knows the provider's and the route's secrets.

    Returns:
        The cleaned report (the same object when nothing changed).
    """
    text = None if report.provider_text is None else redact(report.provider_text)
    error = report.error
    if error is not None:
        error = attrs.evolve(error, text=redact(error.text))
    raw = _clean(report.raw, redact)
    if text == report.provider_text and error == report.error and raw == dict(report.raw):
        return report
    return attrs.evolve(report, provider_text=text, error=error, raw=raw)
