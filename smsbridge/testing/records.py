"""What emulators exchange and remember: requests, responses, records, and a manual clock.

Plain values and thread-safe logs, shared by :mod:`smsbridge.testing.server` (which parses
requests and logs them) and :mod:`smsbridge.testing.emulator` (which records submissions).
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import json as jsonlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs

__all__ = [
    "Clock",
    "EmulatorRequest",
    "EmulatorResponse",
    "ManualClock",
    "Params",
    "RecordLog",
    "RequestRecord",
    "Submission",
    "SubmissionLog",
]

Clock = Callable[[], float]
T = TypeVar("T")


def _read_only(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Params:
    """Query or form parameters: ordered pairs, repeats allowed, plus dict-like lookups."""

    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        return next((v for k, v in self.pairs if k == name), default)

    def getall(self, name: str) -> tuple[str, ...]:
        """Every value of ``name``, in order."""
        return tuple(v for k, v in self.pairs if k == name)

    def to_dict(self) -> dict[str, str]:
        """Name to first value."""
        return dict(reversed(self.pairs))

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            with contextlib.suppress(LookupError):
                return codecs.lookup(value.strip('"')).name
    return "utf-8"


@attrs.frozen(kw_only=True)
class EmulatorRequest:
    """One request as an emulator route sees it.

    ``form`` holds ``application/x-www-form-urlencoded`` fields, ``json`` the parsed body
    when the content type says JSON (None if absent or invalid), ``headers`` lower-case names.
    """

    method: str
    path: str
    query: Params = Params()
    headers: Mapping[str, str] = attrs.field(default=None, converter=_read_only)
    body: bytes = b""
    form: Params = Params()
    json: Any = None
    client: tuple[str, int] = ("127.0.0.1", 0)
    received_at: float = 0.0
    connection_id: int = 0

    @classmethod
    def parse(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, **extra: Any
    ) -> EmulatorRequest:
        """Build from the raw request line, headers and body (``extra``: the other fields)."""
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        parts = urlsplit(target)
        ctype = merged.get("content-type", "")
        form, parsed = Params(), None
        if ctype.lower().startswith("application/x-www-form-urlencoded"):
            text = body.decode("ascii", errors="replace")
            pairs = parse_qsl(
                text, keep_blank_values=True, encoding=_charset(ctype), errors="replace"
            )
            form = Params(tuple(pairs))
        elif "json" in ctype.lower():
            with contextlib.suppress(ValueError):
                parsed = jsonlib.loads(body)
        return cls(
            method=method.upper(),
            path=parts.path,
            query=Params(tuple(parse_qsl(parts.query, keep_blank_values=True))),
            headers=merged,
            body=body,
            form=form,
            json=parsed,
            **extra,
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        """A form field, else a query parameter (protocols that accept both)."""
        return self.form.get(name, self.query.get(name, default))

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 otherwise)."""
        return self.body.decode(_charset(self.headers.get("content-type", "")), "replace")

    def echo(self) -> str:
        """The request quoted back as a careless gateway does, on one line without
        ``|``: the query string and body as sent and decoded, every header, and a Basic
        ``Authorization`` decoded."""
        pieces = [f"{self.method} {self.path}?{urlencode(self.query.pairs)}"]
        pieces.append(self.body.decode("latin-1"))
        pieces += [f"{k}={v}" for k, v in (*self.query.pairs, *self.form.pairs)]
        pieces += [f"{k}: {v}" for k, v in self.headers.items()]
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                pieces.append(base64.b64decode(value).decode("utf-8", "replace"))
        return " ".join(" ".join(pieces).replace("|", "/").split())


@attrs.frozen
class EmulatorResponse:
    """What a route answers. ``bytes_per_second`` drips the body (see ``SlowDrip``)."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = attrs.field(default=None, converter=_read_only, kw_only=True)
    content_type: str = attrs.field(default="text/plain; charset=utf-8", kw_only=True)
    bytes_per_second: float | None = attrs.field(default=None, kw_only=True)

    @classmethod
    def from_json(
        cls, value: object, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        """A JSON response."""
        body = jsonlib.dumps(value, separators=(",", ":"))
        return cls(status, body, headers=headers, content_type="application/json")

    def payload(self) -> bytes:
        """The body as bytes (text is UTF-8 encoded)."""
        return self.body.encode() if isinstance(self.body, str) else self.body


class RecordLog(Generic[T]):
    """A thread-safe, append-only record of what an emulator saw."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        """Add a record."""
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def snapshot(self) -> tuple[T, ...]:
        """Every record so far."""
        with self._changed:
            return tuple(self._items)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` records exist; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._items) >= count, timeout)

    def clear(self) -> None:
        """Forget every record."""
        with self._changed:
            self._items.clear()

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __getitem__(self, index: int) -> T:
        with self._changed:
            return self._items[index]


@attrs.frozen
class RequestRecord:
    """One request served: ``status`` is None when the connection was dropped instead."""

    method: str
    path: str
    status: int | None = attrs.field(kw_only=True)
    at: float = attrs.field(kw_only=True)
    connection_id: int = attrs.field(kw_only=True)
    request: EmulatorRequest = attrs.field(kw_only=True, repr=False)


@attrs.frozen(kw_only=True)
class Submission:
    """A submission the emulator accepted (one protocol command, maybe many recipients)."""

    command: str
    recipients: tuple[str, ...] = attrs.field(converter=_strings)
    message_ids: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    reference: str | None = None
    body: str | None = None
    parts: int = 1
    charge: Decimal | None = None
    fields: Mapping[str, str] = attrs.field(default=None, converter=_read_only)
    at: float = 0.0


class SubmissionLog(RecordLog[Submission]):
    """Accepted submissions, with the questions tests ask of them."""

    def accepted_recipients(self) -> Counter[str]:
        """How many times each recipient was accepted."""
        return Counter(r for s in self.snapshot() for r in s.recipients)

    def duplicates(self) -> dict[str, int]:
        """Recipients accepted more than once, with their counts (empty: exactly once)."""
        return {r: n for r, n in self.accepted_recipients().items() if n > 1}

    def by_reference(self, reference: str) -> tuple[Submission, ...]:
        """Submissions carrying a client reference."""
        return tuple(s for s in self.snapshot() if s.reference == reference)


class ManualClock:
    """A clock tests move by hand, to reach expiry windows without sleeping.

    Args:
        start: The initial time, in seconds since the epoch.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; returns the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump to ``now``."""
        with self._lock:
            self._now = now
