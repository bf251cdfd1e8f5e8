"""``config check`` checks every value's range, naming its key, value and line; ``send``
and ``quote`` read the same file, and a bad value stops them before any request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smsbridge.cli import EXIT_CONFIG, main
from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import emulated_config

OUT_OF_RANGE = """\
region = "GB"

[routing]
max_wait = -1

[routing.retry]
max_attempts = 0
cap = -3
base = nan

[routing.weights]
clickatell = inf

[providers.clickatell]
base_url = "http://127.0.0.1:9"
api_id_env = "CK"
user_env = "CK"
password_env = "CK"
timeout = -5
connect_timeout = "soon"
pool_size = 0
session_idle_limit = 1.5

[providers.bulksms]
username_env = "CK"
password_env = "CK"
batch_size = 0
lookup_horizon = -1
unknown_outcome_retries = 1.5
"""


def test_every_out_of_range_value_is_named_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CK", "x")
    path = tmp_path / "smsbridge.toml"
    path.write_text(OUT_OF_RANGE, encoding="utf-8")
    out = io.StringIO()
    assert main(["config", "check", str(path)], out=out) == EXIT_CONFIG
    found = {
        int(line.split(":")[1]): line.split(": ", 1)[1] for line in out.getvalue().splitlines()
    }
    assert found == {
        4: "routing.max_wait must be a number >= 0, not -1",
        7: "routing.retry.max_attempts must be a whole number >= 1, not 0",
        8: "routing.retry.cap must be a number > 0, not -3",
        9: "routing.retry.base must be a number >= 0, not nan",
        12: "the weight of 'clickatell' must be a number >= 0, not inf",
        19: "providers.clickatell: timeout must be a number of seconds > 0, not -5",
        20: "providers.clickatell.connect_timeout must be a number, not 'soon'",
        21: "providers.clickatell: 'pool_size' must be >= 1: 0",
        27: "providers.bulksms: 'batch_size' must be >= 1: 0",
        28: "providers.bulksms: lookup_horizon must be a number of seconds >= 0, not -1",
        29: "providers.bulksms.unknown_outcome_retries must be a whole number, not 1.5",
    }


def test_a_negative_timeout_stops_send_with_a_configuration_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smsbridge_emulator_factory: EmulatorFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    path = tmp_path / "smsbridge.toml"
    for name, value in emulated_config(path, [emulator]).items():
        monkeypatch.setenv(name, value)
    path.write_text(path.read_text(encoding="utf-8") + "timeout = -5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["send", "--to", "07700 900123", "--body", "hi"], out=io.StringIO()) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert (
        "smsbridge.toml:10: providers.clickatell: timeout must be a number of seconds > 0, " in err
    )
    assert len(emulator.submissions) == 0


def test_quote_reads_the_configuration_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    (tmp_path / "prices.csv").write_text(
        "provider,country,prefix,network,price,unit\nclickatell,GB,,,0.05,EUR\n", encoding="utf-8"
    )
    env = emulated_config(tmp_path / "smsbridge.toml", [emulator], 'prices = "prices.csv"')
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "to.csv").write_text("to\n07700 900123\n07700 900124\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    # No --config, no --providers: providers, prices and region all come from the file.
    assert main(["quote", "to.csv", "--body", "hi", "--format", "json", "-q"], out=out) == 0
    assert '"cheapest": "clickatell"' in out.getvalue().replace("\n", "").replace("  ", "")


def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CK", "x")
    path = tmp_path / "smsbridge.toml"
    path.write_text(
        'regoin = "GB"\n[providers.clickatell]\napi_id_env = "CK"\nuser_env = "CK"\n'
        'password_env = "CK"\ntimeuot = 3\n',
        encoding="utf-8",
    )
    out = io.StringIO()
    assert main(["config", "check", str(path)], out=out) == EXIT_CONFIG
    first, second = out.getvalue().splitlines()
    assert first.startswith(f"{path}:1: unknown key 'regoin'")
    assert first.endswith("; did you mean 'region'?")
    assert second.startswith(f"{path}:6: clickatell has no option 'timeuot'")
    assert second.endswith("; did you mean 'timeout'?")
