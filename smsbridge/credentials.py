"""Credentials that cannot leak by accident.

A :class:`Secret` hides its value from ``repr``, ``str``, f-strings, logging and pickling
by default; the only way to the value is :meth:`Secret.reveal`, which makes every use of
a credential easy to find in a review.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Redactor", "Secret", "secret_converter", "secret_forms"]

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


#: Shortest base64 fragment hidden: shorter ones would match unrelated base64 by chance.
_MIN_BASE64_NEEDLE = 8


def _percent_forms(raw: str) -> set[str]:
    encoded = {quote(raw, safe=""), quote_plus(raw), quote(raw)}
    # Percent escapes are case-insensitive; some servers echo them in lower case.
    return encoded | {re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), e) for e in encoded}


def _base64_forms(raw: bytes) -> set[str]:
    """The base64 text of ``raw`` alone, and the characters that encode only ``raw``
    wherever it sits in a longer encoded value (``user:password`` in a Basic header)."""
    forms: set[str] = set()
    alone = base64.b64encode(raw).decode("ascii")
    forms.update({alone, alone.rstrip("=")})
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode("ascii")
        # Character j carries bits [6j, 6j + 6); keep those within raw's bits only.
        first = -(-8 * offset // 6)
        last = (8 * (offset + len(raw)) - 6) // 6
        stable = encoded[first : last + 1]
        if len(stable) >= _MIN_BASE64_NEEDLE:
            forms.add(stable)
    forms |= {form.replace("+", "-").replace("/", "_") for form in forms}
    return forms


def secret_forms(raw: str) -> set[str]:
    """Every spelling of a credential that an answer echoing it may contain.

    The value itself, URL-encoded (``quote``, ``quote_plus``, either escape case), JSON-
    and XML-escaped, and base64-encoded (standard and URL-safe, alone or as part of a
    longer value such as a Basic ``Authorization`` header).

    Args:
        raw: The credential.

    Returns:
        The spellings (an empty set for values too short to redact safely).
    """
    if len(raw) < 3:
        return set()
    forms = {raw, *_percent_forms(raw)}
    forms.add(json.dumps(raw)[1:-1])
    forms.add(json.dumps(raw, ensure_ascii=False)[1:-1])
    forms.add(html.escape(raw, quote=True))
    forms.add(html.escape(raw, quote=False))
    forms |= _base64_forms(raw.encode("utf-8"))
    return {form for form in forms if len(form) >= 3}


class Redactor:
    """Replaces known secrets, in every spelling :func:`secret_forms` lists, in text
    headed for logs, errors, results or storage.

    Args:
        secrets: The credentials to hide. Empty and very short values are ignored, as
            redacting them would mangle unrelated text without protecting anything.
    """

    __slots__ = ("_bytes", "_needles")

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        needles: set[str] = set()
        for item in secrets:
            raw = item.reveal() if isinstance(item, Secret) else item
            needles |= secret_forms(raw)
        # Longest first so that an encoded form containing the raw one is fully replaced.
        self._needles = tuple(sorted(needles, key=len, reverse=True))
        # The byte spellings and one pattern finding any of them, built on first use and
        # set in one assignment: threads sharing a redactor never see half of it.
        self._bytes: tuple[re.Pattern[bytes], tuple[tuple[bytes, bytes], ...]] | None = None

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

    def redact_bytes(self, data: bytes) -> bytes:
        """Redact a body before anything reads it, in whatever charset it is written.

        Every spelling is looked for as UTF-8, Latin-1 and UTF-16 bytes.

        Args:
            data: The raw bytes.

        Returns:
            The bytes with every spelling of every secret replaced by ``***``.
        """
        if not self._needles or not data:
            return data
        spelled = self._bytes
        if spelled is None:
            pairs: dict[bytes, bytes] = {}
            for needle in self._needles:
                for codec in ("utf-8", "latin-1", "utf-16-le", "utf-16-be"):
                    with contextlib.suppress(UnicodeEncodeError):
                        pairs.setdefault(needle.encode(codec), REDACTED.encode(codec))
            needles = tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))
            # One pass to learn whether any spelling is there at all (the usual answer
            # is no): a scan per spelling and charset cost more than the rest of a
            # small answer's handling.
            pattern = re.compile(b"|".join(re.escape(found) for found, _ in needles))
            spelled = self._bytes = (pattern, needles)
        pattern, needles = spelled
        if pattern.search(data) is None:
            return data
        for found, mark in needles:
            if found in data:
                data = data.replace(found, mark)
        return data
