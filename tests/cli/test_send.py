"""``smsbridge send`` through the real entry point against a loopback Clickatell emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import clickatell_config, run


@pytest.fixture
def clickatell(smsbridge_emulator_factory: EmulatorFactory) -> ClickatellEmulator:
    return smsbridge_emulator_factory(ClickatellEmulator)


def test_send_prints_status_provider_and_id(tmp_path: Path, clickatell: ClickatellEmulator) -> None:
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, clickatell)
    proc = run("send", "--to", "07700 900123", "--body", "Your code is 4829", "--config",
               str(config), env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "+447700900123" in proc.stdout
    assert "accepted" in proc.stdout and "clickatell" in proc.stdout
    assert dict(clickatell.submissions.accepted_recipients()) == {"+447700900123": 1}
    message_id = next(iter(clickatell.messages))
    assert message_id in proc.stdout


def test_send_finds_smsbridge_toml_in_the_working_directory(
    tmp_path: Path, clickatell: ClickatellEmulator
) -> None:
    env = clickatell_config(tmp_path / "smsbridge.toml", clickatell)
    proc = run("send", "--to", "+447700900124", "--body", "hi", "--quiet", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert len(clickatell.submissions) == 1


def test_send_config_from_environment_variable(
    tmp_path: Path, clickatell: ClickatellEmulator
) -> None:
    config = tmp_path / "elsewhere.toml"
    env = clickatell_config(config, clickatell)
    env["SMSBRIDGE_CONFIG"] = str(config)
    proc = run("send", "--to", "+447700900125", "--body", "hi", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    line, summary = proc.stdout.splitlines()
    assert json.loads(line)["status"] == "accepted"
    assert json.loads(summary)["summary"]["exit"] == 0


def test_send_json_with_an_invalid_number_exits_1(
    tmp_path: Path, clickatell: ClickatellEmulator
) -> None:
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, clickatell)
    proc = run("send", "--to", "+447700900126", "--to", "12", "--body", "hi", "--json",
               "--config", str(config), env=env)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    *results, summary = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in results] == ["accepted", "invalid_number"]
    assert summary["summary"]["refused"] == 1 and summary["summary"]["exit"] == 1
    assert results[0]["ok"] is True and results[0]["message_id"]
    assert results[1]["error"]["code"]
    assert dict(clickatell.submissions.accepted_recipients()) == {"+447700900126": 1}


def test_send_refused_by_provider_exits_1(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, number_errors={"447700900127": "121"})
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, emulator)
    proc = run("send", "--to", "+447700900127", "--body", "hi", "--config", str(config), env=env)
    assert proc.returncode == 1
    assert "+447700900127" in proc.stdout


def test_send_missing_credential_is_a_configuration_error(
    tmp_path: Path, clickatell: ClickatellEmulator
) -> None:
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, clickatell)
    del env["CLICKATELL_PASSWORD"]
    proc = run("send", "--to", "+447700900123", "--body", "hi", "--config", str(config), env=env)
    assert proc.returncode == 3
    assert f"{config}:7:" in proc.stderr
    assert "CLICKATELL_PASSWORD" in proc.stderr
    assert len(clickatell.requests) == 0


def test_send_without_any_configuration_exits_3(tmp_path: Path) -> None:
    proc = run("send", "--to", "+447700900123", "--body", "hi", cwd=tmp_path)
    assert proc.returncode == 3
    assert "no configuration file" in proc.stderr


def test_send_empty_body_is_a_usage_error(tmp_path: Path, clickatell: ClickatellEmulator) -> None:
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, clickatell)
    proc = run("send", "--to", "+447700900123", "--body", "", "--config", str(config), env=env)
    assert proc.returncode == 2
    assert "empty" in proc.stderr


def test_send_missing_to_is_a_usage_error() -> None:
    proc = run("send", "--body", "hi")
    assert proc.returncode == 2
