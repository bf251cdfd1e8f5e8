"""Several ``smsbridge resume`` processes on one outbox, with their default lease names.

Each process is its own lease owner (host, pid, random), so none releases another's live
leases and none sends anything twice: counted at the emulator, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from smsbridge import Batch
from smsbridge.outbox import ItemState
from smsbridge.outbox.factory import open_store
from smsbridge.worker import enqueue
from smsbridge_clickatell.emulator import ClickatellEmulator

from .harness import numbers, write_config

RESUMERS = 4
SIZE = 3000


@pytest.mark.slow
def test_concurrent_resumes_with_default_owners_send_each_message_once(
    location: str,
    tmp_path: Path,
) -> None:
    wanted = numbers(SIZE)
    store = open_store(location)
    try:
        with ClickatellEmulator(balance=Decimal(10**7)) as emulator:
            config, env = write_config(tmp_path, "clickatell", emulator, location)
            result = enqueue(store, Batch(wanted, body="resume race", reference="rr"))
            assert result.added == SIZE
            command = [
                sys.executable, "-m", "smsbridge", "resume", "--config", str(config),
                "--timeout", "240", "--patience", "5",
            ]  # fmt: skip
            procs = [
                subprocess.Popen(
                    command,
                    env={**os.environ, **env},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for _ in range(RESUMERS)
            ]
            outputs = [proc.communicate(timeout=300) for proc in procs]
            assert emulator.submissions.duplicates() == {}
            assert Counter(emulator.submissions.accepted_recipients()) == Counter(
                dict.fromkeys(wanted, 1)
            )
        assert store.counts().get(ItemState.DONE, 0) == SIZE
        # Whoever finished last saw everything settled.
        assert any(proc.returncode == 0 for proc in procs), outputs
    finally:
        store.close()
