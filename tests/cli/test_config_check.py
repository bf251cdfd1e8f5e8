"""``smsbridge config check``: every problem of a broken file, each with its line."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import run

BROKEN = """\
region = "Britain"
colour = "blue"

[routing]
policy = "fastest"
delivery = "twice"

[routing.weights]
nobody = 2

[providers.clickatell]
base_url = "http://127.0.0.1:${EMULATOR_PORT}"
api_id_env = "CK_API_ID"
user_env = "CK_USER"
password = "hunter2"
colour = 1

[providers.spare]
type = "nosuch"
"""


def test_broken_file_names_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(BROKEN, encoding="utf-8")
    proc = run("config", "check", str(path), env={"CK_USER": "someone"})
    assert proc.returncode == 3
    lines = proc.stdout.splitlines()
    expected = {
        1: "region must be a two-letter code",
        2: "unknown key 'colour'",
        5: "unknown routing policy 'fastest'",
        6: "unknown delivery 'twice'",
        9: "weight for 'nobody'",
        12: "EMULATOR_PORT",
        13: "CK_API_ID",
        15: "credential 'password' is written in the file",
        16: "clickatell has no option 'colour'",
        19: "no provider named 'nosuch'",
    }
    assert len(lines) == len(expected), proc.stdout
    for line, (number, text) in zip(lines, sorted(expected.items()), strict=True):
        assert line.startswith(f"{path}:{number}: "), line
        assert text in line
    assert "hunter2" not in proc.stdout + proc.stderr
    assert "10 problem(s)" in proc.stderr


def test_json_output(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[providers.clickatell]\napi_id = 'abc'\n", encoding="utf-8")
    proc = run("config", "check", str(path), "--json")
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    assert [p["line"] for p in data["problems"]] == [2]
    assert data["problems"][0]["key"] == "providers.clickatell.api_id"


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text('region = "GB"\n\n[providers\n', encoding="utf-8")
    proc = run("config", "check", str(path))
    assert proc.returncode == 3
    assert proc.stdout.startswith(f"{path}:3: invalid TOML")


def test_clean_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(
        '[providers.bulksms]\nbase_url = "http://127.0.0.1:1/eapi"\n'
        'username_env = "BS_USER"\npassword_env = "BS_PASS"\n'
        '[routing]\npolicy = "weighted"\nweights = {bulksms = 2}\n'
        "[routing.retry]\nmax_attempts = 2\n",
        encoding="utf-8",
    )
    proc = run("config", "check", env={"BS_USER": "u", "BS_PASS": "p"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout == "smsbridge.toml: ok\n"


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    proc = run("config", "check", str(tmp_path / "absent.toml"))
    assert proc.returncode == 3
    assert "absent.toml" in proc.stderr
