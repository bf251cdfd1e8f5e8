"""The issue's scenario through the real ``smsbridge task`` entry point, in subprocesses,
against a Clickatell emulator on loopback; the clock is fixed per run with
``SMSBRIDGE_TEST_NOW``."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from smsbridge_clickatell.emulator import ClickatellEmulator

from ..cli.helpers import clickatell_config, run
from .conftest import BLOCKED

T0 = "2026-01-01T00:00:00+00:00"
AT = "2026-01-01T01:00:00+00:00"


class Cli:
    """Runs ``smsbridge task ...`` on one outbox and configuration."""

    def __init__(self, tmp_path: Path, emulator: ClickatellEmulator) -> None:
        self.store = tmp_path / "outbox.sqlite3"
        self.config = tmp_path / "smsbridge.toml"
        self.env = clickatell_config(self.config, emulator)

    def __call__(self, now: str, *args: str, code: int = 0) -> str:
        env = {**self.env, "SMSBRIDGE_TEST_NOW": now}
        proc = run("task", *args, "--store", str(self.store), "--config", str(self.config), env=env)
        assert proc.returncode == code, proc.stderr
        return proc.stdout if code == 0 else proc.stderr

    def json(self, now: str, *args: str, code: int = 0) -> Any:
        env = {**self.env, "SMSBRIDGE_TEST_NOW": now}
        proc = run("task", *args, "--json", "--store", str(self.store), "--config",
                   str(self.config), env=env)  # fmt: skip
        assert proc.returncode == code, proc.stderr
        return json.loads(proc.stdout)


def test_task_life_cycle_on_the_command_line(
    tmp_path: Path, recipients_csv: Path, emulator: ClickatellEmulator
) -> None:
    cli = Cli(tmp_path, emulator)
    # Invalid lines are refused (exit 1); the rest is imported.
    created = cli.json(
        T0, "create", "early", str(recipients_csv), "--body", "Hi", "--at", AT, code=1
    )
    assert created["import"]["imported"] == 4
    assert created["import"]["duplicates"] == 2
    assert [i["line"] for i in created["import"]["invalid_lines"]] == [5, 7]
    early = created["task"]["id"]
    run_id = cli.json(
        T0, "create", "run", str(recipients_csv), "--template", "Hi {name}", "--at", AT, code=1
    )["task"]["id"]
    late = cli.json(
        T0,
        "create",
        "late",
        str(recipients_csv),
        "--body",
        "x",
        "--at",
        "2026-01-01T02:00:00Z",
        code=1,
    )["task"]["id"]

    assert f"{early} cancelled" in cli(T0, "cancel", early)
    refused = cli("2026-01-01T00:56:00+00:00", "cancel", run_id, code=1)
    assert "5 minutes" in refused

    assert cli.json("2026-01-01T00:59:00+00:00", "run")["started"] == []
    # Sent, but completed only once every status report is in: this run asks for none.
    ran = cli.json(AT, "run", "--timeout", "30")
    assert ran == {"started": [run_id], "expired": [], "completed": []}
    assert cli.json(AT, "show", run_id)["task"]["state"] == "executing"
    # The next run polls the provider for the missing reports, and the task completes.
    ran = cli.json(AT, "run", "--timeout", "30", "--poll-after", "0")
    assert ran == {"started": [], "expired": [], "completed": [run_id]}
    assert emulator.submissions.accepted_recipients() == {
        "+447700900001": 1,
        "+447700900002": 1,
        "+447700900003": 1,
    }

    shown = cli.json(AT, "show", run_id, "--status", "failed")
    assert shown["task"]["state"] == "completed"
    assert [d["number"] for d in shown["details"]] == [BLOCKED]
    one = cli.json(AT, "show", run_id, "--number", "+447700900002")["details"]
    assert one[0]["status"] == "delivered" and one[0]["message_id"]

    expired = cli.json("2026-01-02T02:00:01+00:00", "run", "--timeout", "5")
    assert expired["expired"] == [late]
    listed = {t["id"]: t for t in cli.json(AT, "list")}
    assert listed[late]["state"] == "cancelled"
    assert "24 hours" in listed[late]["reason"]

    failed = tmp_path / "failed.csv"
    assert "1 failed number(s)" in cli(AT, "export-failed", run_id, str(failed))
    with failed.open(newline="", encoding="utf-8") as handle:
        assert [row["to"] for row in csv.DictReader(handle)] == [BLOCKED]

    assert "deleted" in cli(AT, "delete", late)
    cli(AT, "delete", run_id, code=1)
    copied = cli.json(AT, "copy", early, "again", str(failed))
    assert copied["task"]["copied_from"] == early
    assert copied["import"]["imported"] == 1
    assert [t["name"] for t in cli.json(AT, "list")] == ["early", "run", "again"]


def test_a_file_of_only_invalid_numbers_is_refused(
    tmp_path: Path, emulator: ClickatellEmulator
) -> None:
    cli = Cli(tmp_path, emulator)
    bad = tmp_path / "bad.csv"
    bad.write_text("to\n12\nnope\n", encoding="utf-8")
    stderr = cli(T0, "create", "bad", str(bad), "--body", "Hi", code=2)
    assert "only invalid numbers" in stderr and "line 2" in stderr
    assert cli.json(T0, "list") == []


def test_group_sms_rules_on_the_command_line(tmp_path: Path, emulator: ClickatellEmulator) -> None:
    cli = Cli(tmp_path, emulator)
    china = tmp_path / "china.csv"
    china.write_text("to\n13112345678\n2312345678\n+8618912345678\n", encoding="utf-8")
    midnight = "2026-01-01T16:00:00+00:00"  # midnight in Shanghai
    refused = cli(T0, "create", "cn", str(china), "--body", "Hi", "--provider", "huawei",
                  "--at", midnight, code=2)  # fmt: skip
    assert "Asia/Shanghai" in refused and "--outside-hours" in refused
    assert cli.json(T0, "list") == []

    env = {**cli.env, "SMSBRIDGE_TEST_NOW": T0}
    proc = run("task", "create", "cn", str(china), "--body", "Hi", "--provider", "huawei",
               "--at", midnight, "--outside-hours", "--store", str(cli.store), "--config",
               str(cli.config), env=env)  # fmt: skip
    # Huawei deletes 2312345678 (exit 1: a line refused); the rest is kept with a warning.
    assert proc.returncode == 1, proc.stderr
    assert "'2312345678'" in proc.stderr and "warning: 2 number(s)" in proc.stderr
    cn_id = proc.stdout.split()[0]

    uk = tmp_path / "uk.csv"
    uk.write_text("to\n+447700900001\n", encoding="utf-8")
    cli.json(T0, "create", "Spring news", str(uk), "--body", "x")
    assert [t["name"] for t in cli.json(T0, "list", "--name", "SPRING")] == ["Spring news"]

    prices = tmp_path / "prices.csv"
    prices.write_text(
        "provider,country,prefix,network,price,unit\nhuawei,CN,,,0.010,EUR\n", encoding="utf-8"
    )
    quoted = cli.json(T0, "quote", cn_id, "--prices", str(prices), "--currency", "EUR")
    [huawei] = quoted["providers"]
    assert huawei["provider"] == "huawei" and quoted["recipients"] == 2
    # Free text cannot go through Huawei (approved templates only): the quote says so.
    assert huawei["unroutable"] == 2 and huawei["totals"] == {}
    assert quoted["unroutable"][0]["reason"] == "not-accepted"
