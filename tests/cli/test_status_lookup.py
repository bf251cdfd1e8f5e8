"""``smsbridge status`` finds what ``send`` just sent, by the reference the user gave.

``send --reference first-1`` to two numbers stores ``first-1-0`` and ``first-1-1``;
``send`` shows those references, ``status first-1`` shows both items with their numbers,
the store comes from smsbridge.toml, and a store that does not exist is never created.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from smsbridge.cli import EXIT_OK, EXIT_USAGE, main
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import emulated_config, run


@pytest.fixture
def configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smsbridge_emulator_factory: EmulatorFactory
) -> dict[str, str]:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    env = emulated_config(tmp_path / "smsbridge.toml", [emulator], 'store = "sent.sqlite3"')
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_status_finds_every_item_of_a_message_by_its_reference(configured: dict[str, str]) -> None:
    code, text = cli(
        "send", "--to", "07700 900501", "--to", "07700 900502", "--body", "hi",
        "--reference", "first-1",
    )  # fmt: skip
    assert code == EXIT_OK
    sent = {line.split()[0]: line.split()[1] for line in text.splitlines()[2:]}
    assert sent == {"+447700900501": "first-1-0", "+447700900502": "first-1-1"}

    code, text = cli("status", "first-1")  # the store comes from ./smsbridge.toml
    assert code == EXIT_OK
    lines = text.splitlines()
    assert lines[0] == "first-1: 2 recipient(s)"
    shown = {line.split()[0]: line.split()[1:4] for line in lines[3:]}
    assert shown == {
        "first-1-0": ["+447700900501", "done", "accepted"],
        "first-1-1": ["+447700900502", "done", "accepted"],
    }

    code, text = cli("status", "first-1", "--json")
    data = json.loads(text)
    assert data["reference"] == "first-1"
    assert [(i["reference"], i["recipient"]) for i in data["items"]] == [
        ("first-1-0", "+447700900501"),
        ("first-1-1", "+447700900502"),
    ]

    code, text = cli("status", "first-1-1")  # one item: with its attempts
    assert code == EXIT_OK
    assert text.splitlines()[0] == "first-1-1 -> +447700900502: done (accepted)"
    assert "attempt on clickatell: accepted" in text


def test_status_of_a_missing_store_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.sqlite3"
    code, text = cli("status", "first-1", "--store", str(missing))
    assert code == EXIT_USAGE and text == ""
    assert capsys.readouterr().err == (
        f"smsbridge status: no outbox at {missing} (--store): nothing was ever sent with it, "
        "or the path is mistyped; give --store PATH or set store in the configuration\n"
    )
    assert not missing.exists()


def test_status_of_a_configured_store_that_is_missing(
    configured: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cli("status", "x")
    assert code == EXIT_USAGE
    assert "(the configuration's store)" in capsys.readouterr().err
    assert not (tmp_path / "sent.sqlite3").exists()
    code, _ = cli("breakers")
    assert code == EXIT_USAGE
    assert not (tmp_path / "sent.sqlite3").exists()


def test_status_reads_the_store_without_provider_credentials(
    configured: dict[str, str], tmp_path: Path
) -> None:
    cli("send", "--to", "+447700900503", "--body", "hi", "--reference", "cred-1")
    # Reading the outbox needs no credentials: a subprocess without them still finds it.
    proc = run("status", "cred-1", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout.startswith("cred-1 -> +447700900503: done (accepted)")
