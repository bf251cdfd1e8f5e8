"""Connection plumbing of :mod:`smsbridge.http`: per-request thread state, sent marking.

A request runs synchronously in its caller's thread, so thread-local state tells the
connection wrappers and the urllib3 log filter which request they belong to.
"""

from __future__ import annotations

import threading
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["MarkingHTTPConnectionPool", "MarkingHTTPSConnectionPool", "request_state"]

# Per-thread request state: ``redactor`` (the current request's Redactor, or None) and
# ``sent`` (True once the whole request was written to the socket).
request_state = threading.local()


class _HTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        # Only once the whole request is written can the provider have acted on it.
        request_state.sent = True


class _HTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        request_state.sent = True


class MarkingHTTPConnectionPool(HTTPConnectionPool):
    """An HTTP pool whose connections record in :data:`request_state` that a request left."""

    ConnectionCls = _HTTPConnection


class MarkingHTTPSConnectionPool(HTTPSConnectionPool):
    """The HTTPS counterpart of :class:`MarkingHTTPConnectionPool`."""

    ConnectionCls = _HTTPSConnection
