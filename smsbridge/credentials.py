"""Credentials that cannot leak by accident.

A :class:`Secret` hides its value from ``repr``, ``str``, f-strings, logging and pickling
by default; the only way to the value is :meth:`Secret.reveal`, which makes every use of
a credential easy to find in a review.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Redactor", "Secret", "secret_converter"]

REDACTED = "***"


class Secret:
    """A credential whose value is shown only through :meth:`reveal`.

    Args:
        value: The credential. Empty strings are allowed (some providers have optional
            passwords) but :attr:`is_empty` tells them apart.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        """The credential itself. Call only where it goes onto the wire."""
        return self._value

    @property
    def is_empty(self) -> bool:
        """True for an empty credential."""
        return not self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            import hmac

            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values are not pickled; pass them to each process explicitly")

    def __bool__(self) -> bool:
        return bool(self._value)


def secret_converter(value: str | Secret) -> Secret:
    """attrs converter: wrap a plain string credential in a :class:`Secret` (lossless)."""
    return value if isinstance(value, Secret) else Secret(value)


class Redactor:
    """Replaces known secrets, raw and URL-encoded, in text headed for logs or errors.

    Args:
        secrets: The credentials to hide. Empty and very short values are ignored, as
            redacting them would mangle unrelated text without protecting anything.
    """

    __slots__ = ("_needles",)

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        needles: set[str] = set()
        for item in secrets:
            raw = item.reveal() if isinstance(item, Secret) else item
            if len(raw) < 3:
                continue
            needles.update({raw, quote(raw, safe=""), quote_plus(raw), quote(raw)})
        # Longest first so that an encoded form containing the raw one is fully replaced.
        self._needles = tuple(sorted(needles, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._needles)} patterns)"

    def redact_any(self, value: Any) -> str:
        """Redact the ``str`` form of any value."""
        return self(str(value))
