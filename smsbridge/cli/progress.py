"""A small progress bar for long commands: counts, rate and time left.

It draws on one terminal line with ``\\r`` and redraws at most ten times a second, so a
fast loop spends its time working, not painting. It draws nothing when its stream is not
a terminal or the command ran with ``--quiet``, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Self, TextIO

__all__ = ["Progress"]

_MIN_INTERVAL = 0.1
_BAR_WIDTH = 24


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """Progress of ``total`` items (``None`` when unknown), with named counts.

    Args:
        total: Items expected; the bar and ETA need it, counts and rate do not.
        label: Shown before the bar.
        stream: Where to draw (stderr by default).
        enabled: Force drawing on or off; by default on when ``stream`` is a terminal.
        clock: Seconds, monotonic (tests inject one).
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self._isatty() if enabled is None else enabled
        self.clock = clock
        self.done = 0
        self.counts: Counter[str] = Counter()
        self._started = clock()
        self._drawn_at: float | None = None
        self._width = 0

    def _isatty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def advance(self, count: str | None = None, n: int = 1) -> None:
        """Record ``n`` finished items, counted under ``count`` if given, and maybe redraw."""
        self.done += n
        if count is not None:
            self.counts[count] += n
        if not self.enabled:
            return
        now = self.clock()
        if self._drawn_at is None or now - self._drawn_at >= _MIN_INTERVAL:
            self._draw(now)

    def render(self, now: float | None = None) -> str:
        """The progress line as it would be drawn now."""
        now = self.clock() if now is None else now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        pieces = [self.label] if self.label else []
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(fraction * _BAR_WIDTH)
            pieces.append(f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}]")
            pieces.append(f"{self.done}/{self.total}")
        else:
            pieces.append(str(self.done))
        pieces.append(f"{rate:.1f}/s")
        if self.total and rate > 0 and self.done < self.total:
            pieces.append(f"ETA {_duration((self.total - self.done) / rate)}")
        if self.counts:
            pieces.append(" ".join(f"{k}={v}" for k, v in sorted(self.counts.items())))
        return " ".join(pieces)

    def _draw(self, now: float) -> None:
        text = self.render(now)
        # Pad over the previous, possibly longer, line instead of clearing the terminal.
        padding = " " * max(self._width - len(text), 0)
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._width = len(text)
        self._drawn_at = now

    def clear(self) -> None:
        """Erase the line, e.g. before printing a message on the same stream."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw(self.clock())
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
