"""What a command's exit status says, computed the same way by every command.

A script acts on the exit status, so each code means one thing and names the next step:

* ``0`` everything was accepted (or better: sent, delivered);
* ``1`` some were refused or failed for good (an invalid number, a bad CSV line, a
  rejection): running again will not change that, the input must;
* ``5`` some are not settled yet (queued, waiting for a retry, a provider's breaker
  open, outcome unknown, a batch partly written): they are kept in the outbox and
  ``smsbridge resume`` (or a worker) finishes them.

When both happen, ``5`` wins: it is the one that asks for an action that can still
succeed (resume), and the refusals stay listed in the output and counted in the
``--json`` summary. Usage (``2``), configuration (``3``) and outbox (``4``) failures
stop a command before its verdict and are raised or returned by it directly.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from smsbridge.results import SendResult
from smsbridge.status import Status

__all__ = ["Tally", "exit_code", "verdict"]

Verdict = Literal["ok", "refused", "unsettled"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNSETTLED = 5


def verdict(result: SendResult) -> Verdict:
    """Whether a recipient's result is settled well, refused, or not settled yet.

    The bridge returns a recipient still waiting in the outbox (for a retry, for a
    provider whose breaker is open) as ``QUEUED`` carrying its last error, and an
    outcome it cannot know as ``UNKNOWN``; both are unsettled. A ``QUEUED`` without an
    error is the provider's own queue: the message was taken.
    """
    status = result.status
    if status is Status.UNKNOWN or (status is Status.QUEUED and result.error is not None):
        return "unsettled"
    return "ok" if status.is_success else "refused"


def exit_code(*, refused: int, unsettled: int) -> int:
    """The exit status for a run with this many refused and unsettled recipients.

    Unsettled wins over refused (see the module docstring for why).
    """
    if unsettled:
        return EXIT_UNSETTLED
    return EXIT_REFUSED if refused else EXIT_OK


@attrs.define
class Tally:
    """Counts of recipients by verdict, for one command's exit status and summary."""

    ok: int = 0
    refused: int = 0
    unsettled: int = 0

    def add(self, result: SendResult) -> Verdict:
        """Count one recipient's result; returns its verdict."""
        found = verdict(result)
        setattr(self, found, getattr(self, found) + 1)
        return found

    @property
    def code(self) -> int:
        """The exit status (:func:`exit_code`)."""
        return exit_code(refused=self.refused, unsettled=self.unsettled)

    def as_dict(self) -> dict[str, Any]:
        """The counts and the exit status, for a ``--json`` summary."""
        return {
            "ok": self.ok,
            "refused": self.refused,
            "unsettled": self.unsettled,
            "exit": self.code,
        }
