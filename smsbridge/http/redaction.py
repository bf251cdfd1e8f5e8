"""Credential redaction for :mod:`smsbridge.http`: query strings and urllib3's own logs."""

from __future__ import annotations

import logging
import re

from smsbridge.credentials import REDACTED, Redactor
from smsbridge.http.connection import request_state

__all__ = ["redact_query"]

# Parameter names that carry credentials in the wild; over-redacting a log line is cheap.
_CREDENTIAL_NAME = re.compile(r"pass|pwd|secret|token|key|auth|session|sig|api_?id", re.I)
_QUERY_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;\s\"'#]+)=(?P<value>[^&;\s\"'#]*)")


def redact_query(text: str) -> str:
    """Replace the values of credential-like query parameters (``password=``...) with ``***``.

    Args:
        text: A path, URL or log line.

    Returns:
        The text with those values hidden, whether or not they are known secrets.
    """

    def hide(match: re.Match[str]) -> str:
        if _CREDENTIAL_NAME.search(match["name"]):
            return f"{match['lead']}{match['name']}={REDACTED}"
        return match[0]

    return _QUERY_PAIR.sub(hide, text)


class _Urllib3LogRedactor(logging.Filter):
    """urllib3 logs whole request URLs at DEBUG; credentials in query strings must not
    reach a log through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact: Redactor | None = getattr(request_state, "redactor", None)
        message = record.getMessage()
        cleaned = redact_query(message)
        if redact is not None:
            cleaned = redact(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"):
    _urllib3_logger = logging.getLogger(_name)
    if not any(isinstance(f, _Urllib3LogRedactor) for f in _urllib3_logger.filters):
        _urllib3_logger.addFilter(_Urllib3LogRedactor())
