"""Fault injection for emulators: what goes wrong, for which requests, how often.

A :class:`FaultPlan` holds rules; the emulator asks it for a fault for every incoming
request and acts it out (see :meth:`smsbridge.testing.Emulator.handle`). Everything here is
plain data and seeded randomness, so a failing scenario replays identically.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from smsbridge.testing.emulator import EmulatorRequest

__all__ = [
    "AcceptThenDrop",
    "CallbackPlan",
    "ConnectionReset",
    "Delay",
    "EchoRequest",
    "Fault",
    "FaultPlan",
    "FaultRule",
    "Garbage",
    "HttpStatus",
    "SlowDrip",
    "TransientCode",
    "on_path",
]

# Fixed seed: "random" garbage that is the same in every run, and never valid JSON, XML
# or a provider's plain-text reply because of its prefix.
_GARBAGE = b"\xff\x00<{" + random.Random(0x5EED).randbytes(60)


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, not {value!r}")


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, not {value!r}")


@attrs.frozen
class Delay:
    """Wait ``seconds`` before processing the request normally (a slow provider)."""

    seconds: float = attrs.field(validator=_non_negative)


@attrs.frozen
class HttpStatus:
    """Answer with ``status`` without processing (an outage, a rate limit).

    Args:
        status: The HTTP status code.
        body: The response body.
        retry_after: Sent as ``Retry-After``: seconds, or an HTTP-date string.
    """

    status: int
    body: bytes = b""
    retry_after: float | str | None = None


@attrs.frozen
class ConnectionReset:
    """Read the request, then close the connection without answering or processing."""


@attrs.frozen
class AcceptThenDrop:
    """Process (and record) the request normally, then close without answering.

    The case idempotency exists for: the provider accepted, the client cannot know.
    """


@attrs.frozen
class Garbage:
    """Answer 200 with a body no parser accepts.

    Args:
        body: The malformed body; fixed pseudo-random bytes by default.
        process: Process (and record) the request first, as a provider whose reply was
            mangled on the way back would have.
    """

    body: bytes = _GARBAGE
    process: bool = False


@attrs.frozen
class TransientCode:
    """Answer with the provider's own "try again later" reply, without processing.

    What that looks like is protocol-specific: the emulator's
    ``transient_error_response`` decides (HTTP 503 unless overridden).
    """


@attrs.frozen
class SlowDrip:
    """Process normally, then send the response body at ``bytes_per_second``."""

    bytes_per_second: float = attrs.field(validator=_positive)


@attrs.frozen
class EchoRequest:
    """Refuse the request, without processing it, with the provider's own error whose
    text quotes the whole request back (credentials included, raw, URL-encoded and
    base64), as careless gateways do.

    What that looks like is protocol-specific: the emulator's ``echo_response`` decides
    (HTTP 400 with the quote as the body unless overridden). Tests use it to prove that
    no echoed secret reaches results, exceptions, logs or the outbox.
    """


#: Any one of the fault kinds a rule can act out.
Fault = (
    Delay
    | HttpStatus
    | ConnectionReset
    | AcceptThenDrop
    | Garbage
    | TransientCode
    | SlowDrip
    | EchoRequest
)
Matcher = Callable[["EmulatorRequest"], bool]


def on_path(*paths: str) -> Matcher:
    """A ``match`` predicate selecting requests to any of ``paths`` (exact match)."""
    wanted = frozenset(paths)
    return lambda request: request.path in wanted


@attrs.define(kw_only=True)
class FaultRule:
    """One rule of a :class:`FaultPlan`; ``fired`` counts how often it applied."""

    fault: Fault
    fraction: float | None
    remaining: int | None
    match: Matcher | None
    rng: random.Random = attrs.field(repr=False)
    fired: int = 0

    def applies(self, request: EmulatorRequest) -> bool:
        """Decide for one request, consuming randomness and budget only on a match."""
        if self.remaining == 0 or (self.match is not None and not self.match(request)):
            return False
        if self.fraction is not None and self.rng.random() >= self.fraction:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.fired += 1
        return True


class FaultPlan:
    """Ordered fault rules; the first rule that applies to a request wins.

    Args:
        seed: Seeds every rule's randomness (each rule gets its own stream, derived in
            the order rules are added), so runs are reproducible.
    """

    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seeds = random.Random(seed)
        self._rules: list[FaultRule] = []

    def add(
        self,
        fault: Fault,
        *,
        fraction: float | None = None,
        next_n: int | None = None,
        match: Matcher | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Add a rule.

        Args:
            fault: What to do.
            fraction: Probability of applying to each matching request; always if None.
            next_n: Apply at most this many times, then never again; unlimited if None.
            match: Which requests are eligible (see :func:`on_path`); all if None.
            seed: This rule's own seed, instead of one derived from the plan's.

        Returns:
            The rule, whose ``fired`` attribute tests can inspect.

        Raises:
            ValueError: ``fraction`` outside [0, 1] or ``next_n`` below 1.
        """
        if fraction is not None and not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within [0, 1], not {fraction!r}")
        if next_n is not None and next_n < 1:
            raise ValueError(f"next_n must be >= 1, not {next_n!r}")
        with self._lock:
            derived = self._seeds.getrandbits(64)
            rng = random.Random(derived if seed is None else seed)
            rule = FaultRule(fault=fault, fraction=fraction, remaining=next_n, match=match, rng=rng)
            self._rules.append(rule)
        return rule

    def pick(self, request: EmulatorRequest) -> Fault | None:
        """The fault to act out for ``request``, or None to behave normally."""
        with self._lock:
            for rule in self._rules:
                if rule.applies(request):
                    return rule.fault
        return None

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """The rules, in order."""
        with self._lock:
            return tuple(self._rules)

    def clear(self) -> None:
        """Remove every rule: the emulator behaves normally again."""
        with self._lock:
            self._rules.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)


@attrs.frozen
class CallbackPlan:
    """How an emulator mistreats the delivery reports it pushes.

    Args:
        duplicate_fraction: Probability that a callback is sent a second time.
        shuffle: Send each batch of queued callbacks in a random order.
        delay: Seconds to hold callbacks before sending; callbacks queued meanwhile form
            one batch (late delivery, and something to shuffle).
        seed: Seed for duplication and shuffling.
    """

    duplicate_fraction: float = attrs.field(
        default=0.0, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    shuffle: bool = False
    delay: float = attrs.field(default=0.0, validator=_non_negative)
    seed: int = 0
