"""``smsbridge demo`` through the real entry point, in a subprocess, on loopback only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RECIPIENTS = 300


def run_demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSBRIDGE_")}
    # The outbox goes next to the default one: under SMSBRIDGE_HOME, i.e. the test's folder.
    env["SMSBRIDGE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "smsbridge", "demo", "--recipients", str(RECIPIENTS), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("demo-json")
    done = run_demo(home, "--json")
    assert done.returncode == 0, done.stderr
    return home, json.loads(done.stdout)


def test_summary_names_every_part_of_the_story(tmp_path: Path) -> None:
    done = run_demo(tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"Accounted for: {RECIPIENTS} of {RECIPIENTS} recipients" in text
    assert "Outage:   clickatell answered HTTP 500" in text
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line.split())  # the first table comes first
    # provider  sent  failed-over  failed-attempts  rejected  parts  cost unit
    assert int(rows["bulksms"][2]) > 0  # messages failed over from clickatell
    assert int(rows["clickatell"][3]) > 0  # the outage's failed attempts
    assert "Rejected, and why" in text
    assert "before sending  not a phone number" in text
    assert "Final statuses" in text
    assert "delivered" in text
    assert "Huawei:   15 templated reminders" in text
    assert "Scheduled task (Group SMS Assistant life cycle)" in text
    outboxes = list(tmp_path.glob("demo-*.sqlite3"))
    assert len(outboxes) == 1
    assert f"Outbox: {outboxes[0]}" in text


def test_json_accounts_for_every_recipient(json_run: tuple[Path, dict[str, Any]]) -> None:
    _, summary = json_run
    assert summary["recipients"] == RECIPIENTS
    providers = summary["providers"]
    sent = sum(p["sent"] + sum(p["rejected"].values()) for p in providers.values())
    refused = sum(summary["invalid"].values())
    assert sent + refused + summary["unsettled"] == RECIPIENTS
    assert summary["accounted"] == RECIPIENTS
    assert summary["unsettled"] == 0


def test_json_shows_failover_and_rejections(json_run: tuple[Path, dict[str, Any]]) -> None:
    _, summary = json_run
    providers = summary["providers"]
    assert summary["outage_requests"] > 0
    assert providers["clickatell"]["failed_attempts"] > 0
    assert providers["bulksms"]["failed_over"] > 0
    # Invalid numbers are refused before sending, each group with its reason.
    assert summary["invalid"]
    assert all(reason and count > 0 for reason, count in summary["invalid"].items())
    assert summary["ucs2"] > 0


def test_json_final_statuses_come_from_reports(json_run: tuple[Path, dict[str, Any]]) -> None:
    home, summary = json_run
    providers = summary["providers"]
    for name in ("clickatell", "bulksms"):
        final = providers[name]["final"]
        # Every accepted message reached a final status through its reports.
        assert sum(final.values()) == providers[name]["sent"], name
        assert "sent" not in final and "accepted" not in final
        assert final["delivered"] > 0
        assert providers[name]["parts"] >= providers[name]["sent"]
        assert float(providers[name]["cost"]["credits"]) > 0
    assert summary["reports"]["pushed"] == providers["clickatell"]["sent"]
    assert summary["reports"]["polled"] == providers["bulksms"]["sent"]
    assert Path(summary["outbox"]).parent == home
    assert Path(summary["outbox"]).is_file()


def test_json_shows_the_huawei_campaign_and_task(json_run: tuple[Path, dict[str, Any]]) -> None:
    _, summary = json_run
    huawei = summary["huawei"]
    # Templated: the approved template's id, one request for the 15 recipients.
    assert huawei["template_id"] and huawei["recipients"] == 15
    assert huawei["accepted"] == 15 and huawei["requests"] == 1
    # Its status reports came back: two numbers undelivered, the rest delivered.
    assert huawei["reports"] == {"delivered": 13, "failed_permanent": 2}
    moments = [step["moment"] for step in huawei["task"]]
    assert moments == [
        "03:00 Shanghai", "created", "  deleted", "copied", "deleted", "10:00 Shanghai",
        "reports in",
    ]  # fmt: skip
    steps = {step["moment"]: step["what"] for step in huawei["task"]}
    assert steps["03:00 Shanghai"].startswith("refused: 4 number(s)")
    assert "pending" in steps["created"] and "1 invalid" in steps["created"]
    assert "'2312345678'" in steps["  deleted"]
    assert "cancelled" in steps["copied"]
    assert "completed: 4 numbers, 0 failed" in steps["reports in"]


def test_same_seed_same_campaign(tmp_path: Path, json_run: tuple[Path, dict[str, Any]]) -> None:
    _, first = json_run
    done = run_demo(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    again = json.loads(done.stdout)
    assert again["invalid"] == first["invalid"]
    assert again["ucs2"] == first["ucs2"]


def test_quiet_prints_only_the_outbox(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--quiet", "--seed", "7")
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == tmp_path
    assert path.is_file()
    assert done.stderr == ""


def test_too_few_recipients_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "SMSBRIDGE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "smsbridge", "demo", "--recipients", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 2
    assert "at least 7 recipients" in done.stderr
