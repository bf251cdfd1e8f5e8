"""The HTTP layer every provider uses: one urllib3 pool, safe defaults, redacted logs.

Providers never touch urllib3 directly. :class:`HttpClient` keeps connections alive,
verifies TLS against the system store, caps response size and total time, and turns every
transport failure into one of two errors, decided in :func:`smsbridge.http.errors.translate`
alone:

* :class:`~smsbridge.errors.TransportError` when the request never fully left, so failing
  over cannot cause a duplicate;
* :class:`~smsbridge.errors.UnknownOutcomeError` when it left and no usable answer came
  back, so the provider may have acted on it.

Non-2xx statuses are returned, not raised: each protocol gives them its own meaning.

Modules: :mod:`~smsbridge.http.client` (the pool and request flow),
:mod:`~smsbridge.http.response` (the read response and status checks),
:mod:`~smsbridge.http.errors` (transport error translation),
:mod:`~smsbridge.http.redaction` (credential redaction, urllib3 log filter) and
:mod:`~smsbridge.http.connection` (per-request thread state, sent marking).
"""

from smsbridge.http.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    Fields,
    FieldValue,
    HttpClient,
    is_loopback_host,
)
from smsbridge.http.redaction import redact_query
from smsbridge.http.response import HttpResponse, raise_for_transport_status

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "FieldValue",
    "Fields",
    "HttpClient",
    "HttpResponse",
    "is_loopback_host",
    "raise_for_transport_status",
    "redact_query",
]
