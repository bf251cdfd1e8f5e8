"""Building blocks for a provider's code table.

Each provider keeps one table mapping its raw codes to an :class:`Outcome`: the unified
:class:`~smsbridge.status.Status`, the error scope and kind, and a description. The
router and the application then act on the outcome alone, whoever sent the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from smsbridge.errors import ErrorInfo, Kind, ProviderError, Scope
from smsbridge.status import Status

__all__ = ["CodeTable", "Outcome"]


@attrs.frozen(slots=True)
class Outcome:
    """What one provider code means.

    Args:
        status: The unified status the code maps to.
        scope: How far a failure reaches (ignored for successes).
        kind: Whether trying again may help (ignored for successes).
        description: The provider's documented meaning.
        reason: Why the code maps this way, for a reviewer; shown in the generated
            status table (``docs/statuses.md``).
    """

    status: Status
    scope: Scope = attrs.field(default=Scope.RECIPIENT, kw_only=True)
    kind: Kind = attrs.field(default=Kind.PERMANENT, kw_only=True)
    description: str = attrs.field(default="", kw_only=True)
    reason: str = attrs.field(default="", kw_only=True, eq=False)

    @property
    def is_error(self) -> bool:
        """True when the code reports a failure rather than progress."""
        return not self.status.is_success

    def info(self, code: str, text: str | None = None) -> ErrorInfo:
        """Per-recipient error data for this code."""
        return ErrorInfo(code, text or self.description, scope=self.scope, kind=self.kind)

    def error(
        self,
        code: str,
        text: str | None = None,
        *,
        provider: str,
        retry_after: float | None = None,
    ) -> ProviderError:
        """A request-level :class:`~smsbridge.errors.ProviderError` for this code."""
        return ProviderError(
            text or self.description,
            scope=self.scope,
            kind=self.kind,
            code=code,
            provider=provider,
            provider_text=text,
            retry_after=retry_after,
        )


class CodeTable:
    """A read-only mapping of raw codes to outcomes, with a fallback for unknown codes.

    Args:
        provider: The provider's registered name, for error messages.
        entries: Raw code → outcome.
        unknown: The outcome of a code the table does not know. Unknown codes are never
            guessed to be successes.
    """

    def __init__(
        self,
        provider: str,
        entries: Mapping[str, Outcome],
        *,
        unknown: Outcome | None = None,
    ) -> None:
        self.provider = provider
        self.entries: Mapping[str, Outcome] = MappingProxyType(dict(entries))
        self.unknown = unknown or Outcome(
            Status.UNKNOWN,
            scope=Scope.PROVIDER,
            kind=Kind.TRANSIENT,
            description="code not in the provider's documentation",
        )

    def __getitem__(self, code: str) -> Outcome:
        return self.entries[code]

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, code: str) -> Outcome:
        """The outcome for ``code``, or the table's ``unknown`` outcome."""
        return self.entries.get(code.strip(), self.unknown)

    def error(self, code: str, text: str | None = None) -> ProviderError:
        """A :class:`~smsbridge.errors.ProviderError` for a request-level code."""
        return self.lookup(code).error(code, text, provider=self.provider)
