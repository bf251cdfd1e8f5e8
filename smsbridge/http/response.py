"""The response side of :mod:`smsbridge.http`: a fully read response and its statuses."""

from __future__ import annotations

import codecs
import contextlib
import json as jsonlib
import re
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

import attrs

from smsbridge.credentials import Redactor
from smsbridge.errors import Kind, MalformedResponseError, ProviderError, Scope

__all__ = ["HttpResponse", "raise_for_transport_status"]


def _read_only_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({k.lower(): v for k, v in headers.items()})


@attrs.frozen
class HttpResponse:
    """A complete HTTP response, body already read.

    Args:
        status: The HTTP status code.
        headers: Read-only, lower-case names; repeated headers joined with ``", "``.
        body: The raw (content-decoded) body.
        elapsed: Seconds from sending the request to the last body byte.
        url_path: The request path and query, redacted, for messages.
        provider: The provider's name, for errors raised while interpreting the body.
        redactor: Hides the request's secrets in anything derived from the body.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(converter=_read_only_headers, repr=False)
    body: bytes = attrs.field(repr=False, kw_only=True)
    elapsed: float = attrs.field(kw_only=True)
    url_path: str = attrs.field(kw_only=True)
    provider: str = attrs.field(default="", kw_only=True)
    redactor: Redactor = attrs.field(factory=Redactor, kw_only=True, repr=False, eq=False)

    def text(self) -> str:
        """The body as text, in the charset the server declared (UTF-8 otherwise).

        Undecodable bytes become U+FFFD rather than failing: a provider's error page must
        stay readable enough to report.
        """
        charset = "utf-8"
        found = re.search(r"charset=\"?([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        if found:
            with contextlib.suppress(LookupError):
                charset = codecs.lookup(found[1]).name
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            MalformedResponseError: The body is not valid JSON.
        """
        try:
            return jsonlib.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedResponseError(
                f"response to {self.url_path} is not valid JSON ({type(exc).__name__})",
                excerpt=self.excerpt(),
                provider=self.provider or None,
            ) from None

    def excerpt(self, limit: int = 200) -> str:
        """A short, redacted start of the body for error messages."""
        return self.redactor(self.text()[:limit])

    def retry_after(self, *, now: float | None = None) -> float | None:
        """Seconds the server asked us to wait (``Retry-After``), or None.

        Args:
            now: The current time for HTTP-date values; ``time.time()`` by default.

        Returns:
            Non-negative seconds, or None when the header is absent or unparseable.
        """
        value = self.headers.get("retry-after", "").strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:  # "-0000" zones parse naive; HTTP dates are GMT
                when = when.replace(tzinfo=UTC)
            seconds = max(0.0, when.timestamp() - (time.time() if now is None else now))
        if seconds != seconds or seconds < 0 or seconds == float("inf"):
            return None
        return seconds


def raise_for_transport_status(response: HttpResponse) -> None:
    """Raise for a status that means the provider did not process the request.

    For providers whose documentation says so: 5xx, 429 and 408 become transient
    provider-scope errors (another provider, or later, may succeed), any other non-2xx a
    permanent one.

    Raises:
        ProviderError: ``code`` is ``"HTTP <status>"``; ``retry_after`` comes from the
            response's ``Retry-After`` header.
    """
    status = response.status
    if 200 <= status < 300:
        return
    transient = status >= 500 or status in (408, 429)
    raise ProviderError(
        f"HTTP {status} from {response.url_path}",
        scope=Scope.PROVIDER,
        kind=Kind.TRANSIENT if transient else Kind.PERMANENT,
        code=f"HTTP {status}",
        provider=response.provider or None,
        provider_text=response.excerpt(),
        retry_after=response.retry_after(),
    )
