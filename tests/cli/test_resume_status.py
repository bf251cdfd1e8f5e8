"""``smsbridge resume`` and ``smsbridge status REFERENCE`` through the real entry point.

``resume`` builds its providers by name with their default options (it reads no
configuration file), so these tests install a small third-party plugin on
``PYTHONPATH`` -- a module plus a ``.dist-info`` with its entry point, exactly as an
installed distribution would look -- that registers ``clickatell_env``: Clickatell whose
defaults (address and credentials) come from the environment, pointed at an emulator in
this process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsbridge import Message, SendResult, SmsBridge, Status
from smsbridge.outbox import ItemState, NewItem, SqliteStore
from smsbridge.testing import EmulatorFactory
from smsbridge.testing.faults import HttpStatus, on_path
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import clickatell_config, run

OWNER = "cli-worker"

PLUGIN = '''"""A provider whose default options come from the environment (tests only)."""

import os
from typing import Any

import smsbridge
from smsbridge_clickatell import ClickatellProvider


class ClickatellEnv(ClickatellProvider):
    name = "clickatell_env"

    @classmethod
    def from_options(cls, **options: Any) -> "ClickatellEnv":
        options.setdefault("base_url", os.environ["EMULATED_CLICKATELL_URL"])
        options.setdefault("api_id", os.environ["EMULATED_CLICKATELL_API_ID"])
        options.setdefault("user", os.environ["EMULATED_CLICKATELL_USER"])
        options.setdefault("password", os.environ["EMULATED_CLICKATELL_PASSWORD"])
        return super().from_options(**options)


@smsbridge.hookimpl
def smsbridge_register_providers(registry: smsbridge.ProviderRegistry) -> None:
    registry.add(ClickatellEnv)
'''


class ClickatellEnv(ClickatellProvider):
    """The same provider name in this process, for preparing the outbox."""

    name = "clickatell_env"


@pytest.fixture
def emulator(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(ClickatellEmulator)


@pytest.fixture
def provider(emulator: ClickatellEmulator) -> Iterator[ClickatellEnv]:
    with ClickatellEnv.from_options(**ClickatellProvider.emulator_options(emulator)) as made:
        yield made


@pytest.fixture
def plugin_env(tmp_path: Path, emulator: ClickatellEmulator) -> dict[str, str]:
    """A site directory holding the plugin, and the environment that finds it."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "emulated_clickatell.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "emulated_clickatell-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: emulated-clickatell\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[smsbridge]\nclickatell_env = emulated_clickatell\n", encoding="utf-8"
    )
    return {
        "PYTHONPATH": str(site),
        "EMULATED_CLICKATELL_URL": emulator.url,
        "EMULATED_CLICKATELL_API_ID": emulator.api_id,
        "EMULATED_CLICKATELL_USER": emulator.user,
        "EMULATED_CLICKATELL_PASSWORD": emulator.password,
    }


def resume(db: Path, env: dict[str, str], *extra: str) -> Any:
    return run(
        "resume", "--provider", "clickatell_env", "--store", str(db), "--owner", OWNER,
        "--timeout", "30", *extra, env=env,
    )  # fmt: skip


def counts(stdout: str) -> dict[str, int]:
    states = {state.value for state in ItemState}
    pairs = (line.split(": ") for line in stdout.splitlines() if ": " in line)
    return {state: int(count) for state, count in pairs if state in states}


def test_resume_sends_what_a_failed_run_left_waiting(
    tmp_path: Path,
    emulator: ClickatellEmulator,
    provider: ClickatellEnv,
    plugin_env: dict[str, str],
) -> None:
    db = tmp_path / "outbox.sqlite3"
    emulator.faults.add(HttpStatus(503), next_n=1, match=on_path("/http/sendmsg"))
    with SmsBridge([provider], store=db, owner=OWNER, max_wait=0) as bridge:
        result = bridge.send(Message("+447700900001", "later", reference="r-1"))
    assert isinstance(result, SendResult) and result.status is Status.QUEUED

    proc = resume(db, plugin_env)
    assert proc.returncode == 0, proc.stderr
    assert counts(proc.stdout) == {state.value: 0 for state in ItemState} | {"done": 1}
    assert emulator.submissions.accepted_recipients() == {"+447700900001": 1}

    status = run("status", "r-1", "--store", str(db), env=plugin_env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == "r-1 -> +447700900001: done (accepted)"
    assert [line.split()[2] for line in lines[1:]] == ["clickatell_env:"] * 2
    assert "HTTP 503" in lines[1] and "accepted" in lines[2]


def test_resume_reconciles_an_attempt_cut_off_by_a_crash(
    tmp_path: Path,
    emulator: ClickatellEmulator,
    plugin_env: dict[str, str],
) -> None:
    # The state a process leaves when killed after recording the attempt and before
    # the request reached the provider: INFLIGHT, leased to the dead worker.
    db = tmp_path / "outbox.sqlite3"
    with SqliteStore(db) as store:
        store.add([NewItem(reference="r-2", recipient="+447700900002", body="hi")], now=1.0)
        store.claim(OWNER, limit=1, now=1.0, lease_seconds=3600)
        store.begin_attempt("r-2", owner=OWNER, provider="clickatell_env", now=1.0)

    proc = resume(db, plugin_env)
    assert proc.returncode == 0, proc.stderr
    assert counts(proc.stdout)["done"] == 1
    # Asked first (the gateway had no such message), then sent exactly once.
    assert emulator.submissions.accepted_recipients() == {"+447700900002": 1}

    status = run("status", "r-2", "--store", str(db), "--json", env=plugin_env)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["state"] == "done" and data["status"] == "accepted"
    assert data["provider"] == "clickatell_env"
    # The cut-off attempt is closed with the answer to the query (no such message).
    attempts = [(a["outcome"], a["error"]) for a in data["attempts"]]
    assert attempts == [(None, "104"), ("accepted", None)]
    assert data["message_id"] in emulator.messages


def test_resume_reports_items_it_could_not_settle(
    tmp_path: Path,
    emulator: ClickatellEmulator,
    provider: ClickatellEnv,
    plugin_env: dict[str, str],
) -> None:
    db = tmp_path / "outbox.sqlite3"
    emulator.faults.add(HttpStatus(503), match=on_path("/http/sendmsg"))
    with SmsBridge([provider], store=db, owner=OWNER, max_wait=0) as bridge:
        bridge.send(Message("+447700900003", "never", reference="r-3"))

    proc = resume(db, plugin_env, "--timeout", "0")
    assert proc.returncode == 5
    assert counts(proc.stdout)["retry_wait"] == 1


def test_status_of_an_unknown_reference_is_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "outbox.sqlite3"
    SqliteStore(db).close()
    proc = run("status", "nope", "--store", str(db))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "smsbridge status: no outbox item or message has reference 'nope'\n"


def test_resume_without_providers_or_configuration_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    proc = run("resume", "--store", str(tmp_path / "o.sqlite3"), cwd=tmp_path)
    assert proc.returncode == 3
    assert "no configuration file" in proc.stderr


def test_resume_with_the_configured_providers_and_store(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    db = tmp_path / "configured.sqlite3"
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, emulator)
    config.write_text(f'store = "{db}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    with SqliteStore(db) as store:
        store.add(
            [NewItem(reference="cfg-1", recipient="+447700900123", body="left behind")], now=1.0
        )
    proc = run("resume", "--config", str(config), "--owner", OWNER, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "done: 1" in proc.stdout
    assert dict(emulator.submissions.accepted_recipients()) == {"+447700900123": 1}
