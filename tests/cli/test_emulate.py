"""``smsbridge emulate``: run as a subprocess, send through it, stop it with SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from smsbridge import Message, get_provider

from .helpers import TIMEOUT, emulate_process, environment, run


def test_emulate_serves_until_terminated(tmp_path: Path) -> None:
    with emulate_process("clickatell", "bulksms", "--json") as (proc, reader):
        items = [json.loads(line) for line in reader.until(lambda line: "ready" in line)]
        emulators = {item["provider"]: item for item in items[:-1]}
        assert sorted(emulators) == ["bulksms", "clickatell"]
        clickatell = emulators["clickatell"]
        assert clickatell["url"].startswith("http://127.0.0.1:")
        assert clickatell["env"]["CLICKATELL_PASSWORD"] == clickatell["options"]["password"]
        assert 'password_env = "CLICKATELL_PASSWORD"' in clickatell["toml"]
        for item in emulators.values():
            with get_provider(item["provider"], **item["options"]) as provider:
                [result] = provider.send(
                    Message("+447700900123", "hello", reference=f"emulate-{item['provider']}")
                )
            assert result.ok, result
        # The printed configuration works as it is with the README's national number.
        ready = items[-1]
        assert ready["toml"].startswith('region = "GB"\n')
        (tmp_path / "smsbridge.toml").write_text(ready["toml"], encoding="utf-8")
        env = {var: value for item in emulators.values() for var, value in item["env"].items()}
        sent = run("send", "--to", "07700 900123", "--body", "Your code is 482913", "--json",
                   env=env, cwd=tmp_path)  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout.splitlines()[0])["recipient"] == "+447700900123"
        proc.terminate()
        assert proc.wait(timeout=TIMEOUT) == 0
        assert reader.rest() == ""


def test_emulate_human_output_has_a_snippet_and_exports() -> None:
    with emulate_process("huawei") as (proc, reader):
        lines = reader.until(lambda line: line.startswith("serving"))
        text = "".join(lines)
        assert "huawei emulator: http://127.0.0.1:" in text
        assert "[providers.huawei]" in text
        assert "export HUAWEI_APP_SECRET=" in text
        proc.terminate()
        assert proc.wait(timeout=TIMEOUT) == 0
        assert reader.rest() == "stopped\n"


def test_emulate_unknown_provider_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "smsbridge", "emulate", "nosuch"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=environment(),
    )
    assert proc.returncode == 2
    assert "nosuch" in proc.stderr
