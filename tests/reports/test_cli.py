"""``smsbridge serve-reports``: the configuration is checked without serving."""

from __future__ import annotations

import io
import json
import pathlib

import pytest

from smsbridge.cli import EXIT_CONFIG, EXIT_OK, main


def test_check_validates_the_configuration(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CT_PASSWORD", "from-the-environment")
    config = {
        "providers": {
            "clickatell": {
                "options": {"api_id": "1", "user": "u", "password_env": "CT_PASSWORD"},
                "auth": {"basic": {"username": "cb", "password": "cb-password-1"}},
            }
        }
    }
    path = tmp_path / "reports.json"
    path.write_text(json.dumps(config))
    argv = [
        "serve-reports",
        "--config",
        str(path),
        "--check",
        "--outbox",
        str(tmp_path / "o.sqlite3"),
    ]
    out = io.StringIO()
    assert main(argv, out=out) == EXIT_OK
    assert "routes: /clickatell" in out.getvalue()
    config["providers"]["clickatell"]["auth"] = {}
    path.write_text(json.dumps(config))
    assert main(argv, out=io.StringIO()) == EXIT_CONFIG
