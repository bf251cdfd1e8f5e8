"""Sending hours: does a task reach its recipients at a decent local time?

The Group SMS Assistant advises sending between 08:00 and 22:00, since messages at other
times draw complaints. A task's recipients may live in many time zones, so each number's
zones come from ``phonenumbers``' time-zone data (by number prefix); a number whose
prefix spans several zones (a country-wide mobile range) is outside the hours when it is
outside them in any of its zones. Numbers the data places nowhere (``Etc/Unknown``) are
counted apart: nothing can be said about them.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import phonenumbers
from phonenumbers import timezone as number_zones

from smsbridge.errors import ConfigurationError

__all__ = ["DEFAULT_HOURS", "HoursCheck", "SendingHours", "zones_of"]

_UNKNOWN_ZONE = "Etc/Unknown"


@attrs.frozen(slots=True)
class SendingHours:
    """A daily window of local time in which messages may arrive.

    Args:
        start: The first minute allowed (inclusive).
        end: The end of the window (exclusive); before ``start`` for a window across
            midnight.
    """

    start: time = time(8, 0)
    end: time = time(22, 0)

    def allows(self, local: time) -> bool:
        """Whether a local time of day falls inside the window."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_HOURS = SendingHours()
"""08:00-22:00, the Group SMS Assistant's advice."""


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    # A zone newer than this machine's database is skipped; no database at all would
    # silently judge nobody, so it is an error.
    try:
        ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        raise ConfigurationError(
            "no time-zone database: the sending hours need one "
            "(the system's tzdata package, or pip install tzdata)"
        ) from None
    return None


def zones_of(e164: str) -> tuple[str, ...]:
    """The IANA time zones a number's prefix belongs to (empty when unknown).

    Numbers sharing their first digits (as many as the data's longest prefix) share
    their zones, so a million-number file parses each prefix once.

    Args:
        e164: The number in E.164.
    """
    prefix = e164[: 1 + _LONGEST]
    zones = _BY_PREFIX.get(prefix)
    if zones is None:
        if len(_BY_PREFIX) >= _CACHED:
            _BY_PREFIX.clear()
        zones = _BY_PREFIX[prefix] = _lookup(e164)
    return zones


_LONGEST = 9  # phonenumbers.tzdata.TIMEZONE_LONGEST_PREFIX, checked by the tests
_CACHED = 65536
_BY_PREFIX: dict[str, tuple[str, ...]] = {}


def _lookup(e164: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    found = number_zones.time_zones_for_number(parsed)
    return tuple(zone for zone in found if zone != _UNKNOWN_ZONE)


@attrs.define
class HoursCheck:
    """Counts the numbers a send at ``when`` reaches outside the sending hours.

    Mutable while a file streams, like the import counter.

    Args:
        when: When the messages will go out (aware).
        hours: The allowed window.
    """

    when: datetime
    hours: SendingHours = DEFAULT_HOURS
    outside: int = 0
    unknown: int = 0
    example: str | None = None
    _verdicts: dict[tuple[str, ...], str | None] = attrs.field(factory=dict, init=False)

    def see(self, e164: str) -> None:
        """Look at one number."""
        zones = zones_of(e164)
        if not zones:
            self.unknown += 1
            return
        if zones not in self._verdicts:
            self._verdicts[zones] = self._verdict(zones)
        verdict = self._verdicts[zones]
        if verdict is not None:
            self.outside += 1
            if self.example is None:
                self.example = f"{e164} at {verdict}"

    def _verdict(self, zones: tuple[str, ...]) -> str | None:
        for name in zones:
            zone = _zone(name)
            if zone is None:
                continue
            local = self.when.astimezone(zone)
            if not self.hours.allows(local.time()):
                return f"{local:%H:%M} {name}"
        return None

    def warning(self) -> str | None:
        """The sentence a person reads, or ``None`` when every number is inside."""
        if not self.outside:
            return None
        return (
            f"{self.outside} number(s) would receive it outside {self.hours} local time "
            f"(e.g. {self.example}), which may draw complaints"
        )
