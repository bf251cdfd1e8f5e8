"""``smsbridge serve-reports``: the same smsbridge.toml as every command, a ``[receiver]``
section, and a SIGTERM that ends it whatever its clients do (a real subprocess)."""

from __future__ import annotations

import io
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import urllib3

from smsbridge.cli import EXIT_CONFIG, EXIT_OK, main
from smsbridge.config import check_config
from tests.cli.helpers import LineReader, environment

ENV = {
    "CT_API_ID": "3141592",
    "CT_USER": "user",
    "CT_PASSWORD": "ct-password-from-env",
    "CT_CB_USER": "cb-user",
    "CT_CB_PASSWORD": "cb-password-from-env",
    "BS_USER": "bs-user",
    "BS_PASSWORD": "bs-password-from-env",
    "REPORT_TOKEN": "report-token-0123456789",
}
PROVIDERS = """store = "outbox.sqlite3"

[providers.clickatell]
base_url = "http://127.0.0.1:9"
api_id_env = "CT_API_ID"
user_env = "CT_USER"
password_env = "CT_PASSWORD"

[providers.bulksms]
base_url = "http://127.0.0.1:9/eapi"
username_env = "BS_USER"
password_env = "BS_PASSWORD"
"""
RECEIVER = """
[receiver]
port = 0
request_timeout = 600
max_clients = 40
grace = 0.5

[receiver.auth.clickatell]
username_env = "CT_CB_USER"
password_env = "CT_CB_PASSWORD"

[receiver.auth.bulksms]
token_env = "REPORT_TOKEN"
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def test_check_reads_the_receiver_section_of_smsbridge_toml(
    tmp_path: pathlib.Path, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "smsbridge.toml").write_text(PROVIDERS + RECEIVER)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["serve-reports", "--check"], out=out) == EXIT_OK
    assert "routes: /bulksms, /clickatell" in out.getvalue()
    assert not (tmp_path / "outbox.sqlite3").exists()  # --check creates no outbox


def test_a_configuration_without_receiver_section_is_refused_by_name(
    tmp_path: pathlib.Path, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(PROVIDERS)
    assert main(["serve-reports", "--config", str(path), "--check"]) == EXIT_CONFIG
    assert "no [receiver] section" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ('[receiver]\nport = 70000\n[receiver.auth.bulksms]\nnone = true\n', 2, "port"),
        ("[receiver]\nrequest_timeout = -5\n[receiver.auth.bulksms]\nnone = true\n", 2,
         "request_timeout"),
        ('[receiver.auth.bulksms]\ntoken = "written-in-the-file-123"\n', 2, "credential"),
        ('[receiver.auth.nobody]\nnone = true\n', 1, "no [providers.nobody]"),
        ('[receiver.auth.bulksms]\ntoken_env = "UNSET_VARIABLE_X"\n', 2, "UNSET_VARIABLE_X"),
        ("[receiver]\nhost = '127.0.0.1'\n", 1, "names no provider"),
    ],
)  # fmt: skip
def test_config_check_reports_receiver_problems_with_their_lines(
    tmp_path: pathlib.Path, env: None, section: str, line: int, expected: str
) -> None:
    path = tmp_path / "smsbridge.toml"
    path.write_text(PROVIDERS + "\n" + section)
    problems = check_config(path)
    assert problems, section
    first = PROVIDERS.count("\n") + 1  # the section starts after a blank line
    assert any(expected in p.message and p.line == first + line for p in problems), problems
    assert all("written-in-the-file-123" not in p.message for p in problems)


def _drip(clients: list[socket.socket], process: subprocess.Popen[str]) -> None:
    while process.poll() is None:
        for sock in clients:
            try:
                sock.send(b"x")
            except OSError:
                continue
        time.sleep(1.0)


def test_sigterm_stops_the_server_while_clients_drip(tmp_path: pathlib.Path) -> None:
    (tmp_path / "smsbridge.toml").write_text(PROVIDERS + RECEIVER)
    process = subprocess.Popen(
        [sys.executable, "-m", "smsbridge", "serve-reports"],
        cwd=tmp_path,
        env=environment(ENV),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    clients: list[socket.socket] = []
    reader: LineReader | None = None
    try:
        assert process.stdout is not None
        reader = LineReader(process.stdout)
        line = reader.until(lambda text: "serving" in text)[-1]
        url = line.split(" on ", 1)[1].split()[0]
        parts = urlsplit(url)
        http = urllib3.PoolManager(retries=False, timeout=30.0)
        token = ENV["REPORT_TOKEN"]
        # It serves: an unknown message on a token route is parked and answered 200.
        query = "msisdn=447700900301&batch_id=42&status=11"
        assert http.request("GET", f"{url}/bulksms/{token}?{query}").status == 200
        # 100 clients that start a request and never finish it: 40 hold every slot for
        # the 600 s request deadline, the other 60 are refused.
        for _ in range(100):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
            sock.sendall(b"POST /clickatell HTTP/1.1\r\nContent-Length: 10\r\nX-Drip: ")
            clients.append(sock)
        # They keep dripping a header byte a second: no per-read timeout ever fires.
        dripping = threading.Thread(target=_drip, args=(clients, process), daemon=True)
        dripping.start()
        process.send_signal(signal.SIGTERM)
        # A hang guard, not a measurement (bench/bench_report_server.py measures).
        assert process.wait(timeout=60) == EXIT_OK
        dripping.join(10)
    finally:
        for sock in clients:
            sock.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stderr.close()
        if reader is not None:
            reader.rest(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
    assert "Traceback" not in errors
    assert "cb-password-from-env" not in errors and token not in errors
