"""An application sending one-time codes through two providers, with failover.

Run it with ``python examples/failover_app.py``. It needs no account: it starts the
Clickatell and BulkSMS emulators on 127.0.0.1 and points the providers at them, exactly
as it would point them at the real services with real credentials. Clickatell is the
primary; its first send requests fail with HTTP 503 (an outage), so the first codes go
out through BulkSMS, and each result says which provider carried it.

The outbox is a temporary SQLite file here; a real application keeps it (the default
path, or one it chooses) so that ``SmsBridge.resume`` can finish what a crash left.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import smsbridge
from smsbridge.router import RetryPolicy
from smsbridge.testing import HttpStatus, on_path
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

USERS = ("07700 900123", "+44 7700 900456", "+33 6 12 34 56 78", "+49 151 23456789")


def send_codes(
    primary: Mapping[str, Any], secondary: Mapping[str, Any], outbox: Path
) -> list[smsbridge.SendResult]:
    """Send a fresh code to every user through Clickatell, then BulkSMS.

    Args:
        primary: Clickatell's options (``base_url`` and credentials).
        secondary: BulkSMS's options.
        outbox: The outbox file.

    Returns:
        One result per user.
    """
    clickatell = smsbridge.get_provider("clickatell", **primary)
    bulksms = smsbridge.get_provider("bulksms", **secondary)
    # A short backoff: a code that arrives a minute late is useless anyway.
    retry = RetryPolicy(max_attempts=3, base=0.05, cap=0.2)
    results = []
    with smsbridge.SmsBridge(
        [clickatell, bulksms], store=outbox, region="GB", retry=retry
    ) as bridge:
        for number in USERS:
            code = f"{secrets.randbelow(1_000_000):06d}"
            text = f"Your code is {code}. It expires in 10 minutes."
            result = bridge.send(smsbridge.Message(number, text))
            assert isinstance(result, smsbridge.SendResult)  # one recipient, one result
            results.append(result)
    return results


def main() -> int:
    """Start the emulators, make the primary fail for a while, send the codes."""
    with ClickatellEmulator() as primary, BulkSmsEmulator() as secondary:
        primary.faults.add(HttpStatus(503), next_n=2, match=on_path("/http/sendmsg"))
        with tempfile.TemporaryDirectory() as folder:
            results = send_codes(
                ClickatellProvider.emulator_options(primary),
                BulkSmsProvider.emulator_options(secondary),
                Path(folder) / "outbox.sqlite3",
            )
    for result in results:
        print(
            f"{result.recipient:<16} {result.status.value:<10} via {result.provider:<10} "
            f"attempts={result.attempts}"
        )
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
