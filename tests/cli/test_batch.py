"""``smsbridge batch FILE.csv``: bad lines are reported with file:line, the rest still goes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsbridge.testing import EmulatorFactory
from smsbridge_clickatell.emulator import ClickatellEmulator

from .helpers import clickatell_config, run

CSV = (
    "to,name\n"  # line 1
    "+447700900201,Ann\n"  # 2: good
    "+447700900202,Bob,extra\n"  # 3: too many columns
    "12,Cy\n"  # 4: invalid number
    ",Di\n"  # 5: empty number
    "+447700900205,\n"  # 6: template variable without a value
    '"+447700900206","Eve\n'  # 7-8: a quoted field spanning two lines: still one good line
    'Smith"\n'
    "07700 900209,Fay\n"  # 9: good, national format (region GB)
)


@pytest.fixture
def setup(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> tuple[Path, Path, dict[str, str], ClickatellEmulator]:
    emulator = smsbridge_emulator_factory(ClickatellEmulator)
    config = tmp_path / "smsbridge.toml"
    env = clickatell_config(config, emulator)
    data = tmp_path / "people.csv"
    data.write_text(CSV, encoding="utf-8")
    return config, data, env, emulator


def test_bad_lines_are_reported_and_the_rest_is_sent(
    setup: tuple[Path, Path, dict[str, str], ClickatellEmulator],
) -> None:
    config, data, env, emulator = setup
    proc = run("batch", str(data), "--template", "Hi {name}", "--config", str(config), env=env)
    assert proc.returncode == 1
    errors = proc.stderr.splitlines()
    assert f"{data}:3: expected 2 columns, found 3" in errors
    assert any(e.startswith(f"{data}:4: invalid number '12'") for e in errors)
    assert f"{data}:5: empty number" in errors
    assert any(e.startswith(f"{data}:6: template variable 'name'") for e in errors)
    assert len(errors) == 4, proc.stderr
    assert dict(emulator.submissions.accepted_recipients()) == {
        "+447700900201": 1,
        "+447700900206": 1,
        "+447700900209": 1,
    }
    assert {s.body for s in emulator.submissions} >= {"Hi Ann", "Hi Eve\nSmith", "Hi Fay"}
    summary = dict(line.split()[:2] for line in proc.stdout.splitlines()[-3:])
    assert summary == {"accepted": "3", "bad_input": "4", "total": "7"}


def test_json_gives_one_object_per_line_with_its_line_number(
    setup: tuple[Path, Path, dict[str, str], ClickatellEmulator],
) -> None:
    config, data, env, _ = setup
    proc = run("batch", str(data), "--template", "Hi {name}", "--json", "--config", str(config),
               env=env)  # fmt: skip
    assert proc.returncode == 1
    *rows, last = [json.loads(line) for line in proc.stdout.splitlines()]
    by_line = {row["line"]: row for row in rows}
    summary = last["summary"]
    assert (summary["ok"], summary["refused"], summary["unsettled"]) == (3, 4, 0)
    assert summary["counts"] == {"accepted": 3, "bad_input": 4} and summary["exit"] == 1
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 9]
    assert {n: by_line[n]["status"] for n in (2, 7, 9)} == dict.fromkeys((2, 7, 9), "accepted")
    assert by_line[2]["recipient"] == "+447700900201" and by_line[2]["message_id"]
    assert all(by_line[n]["status"] == "bad_input" for n in (3, 4, 5, 6))
    assert by_line[4]["recipient"] == "12"


def test_body_column_and_everything_good_exits_0(
    tmp_path: Path, setup: tuple[Path, Path, dict[str, str], ClickatellEmulator]
) -> None:
    config, _, env, _ = setup
    data = tmp_path / "bodies.csv"
    data.write_text(
        "to,body,reference\n+447700900301,First {x},ref-a\n+447700900302,Second,ref-b\n",
        encoding="utf-8",
    )
    proc = run("batch", str(data), "--quiet", "--config", str(config), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    proc = run("batch", str(data), "--json", "--config", str(config), env=env)
    *rows, last = [json.loads(line) for line in proc.stdout.splitlines()]
    assert last["summary"]["exit"] == proc.returncode == 0
    assert {(r["line"], r["reference"]) for r in rows} == {(2, "ref-a"), (3, "ref-b")}
    assert all(r["status"] == "accepted" and r["message_id"] for r in rows)


def test_same_body_for_everyone(
    tmp_path: Path, setup: tuple[Path, Path, dict[str, str], ClickatellEmulator]
) -> None:
    config, _, env, emulator = setup
    data = tmp_path / "numbers.csv"
    data.write_text("to\n+447700900401\n+447700900402\n\n", encoding="utf-8")
    proc = run("batch", str(data), "--body", "Closed today", "--config", str(config), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "accepted  2" in proc.stdout
    assert emulator.submissions.accepted_recipients().total() == 2


def test_unreadable_file_and_missing_column_are_usage_errors(
    tmp_path: Path, setup: tuple[Path, Path, dict[str, str], ClickatellEmulator]
) -> None:
    config, _, env, emulator = setup
    proc = run("batch", str(tmp_path / "nope.csv"), "--body", "x", "--config", str(config), env=env)
    assert proc.returncode == 2
    assert "nope.csv" in proc.stderr
    data = tmp_path / "bad.csv"
    data.write_text("phone\n+447700900401\n", encoding="utf-8")
    proc = run("batch", str(data), "--body", "x", "--config", str(config), env=env)
    assert proc.returncode == 2
    assert f"{data}:1: no 'to' column" in proc.stderr
    proc = run("batch", str(data.with_name("x.csv")), "--body", "x", "--template", "y")
    assert proc.returncode == 2
    assert len(emulator.requests) == 0


def test_template_naming_a_missing_column_is_a_usage_error(
    setup: tuple[Path, Path, dict[str, str], ClickatellEmulator],
) -> None:
    config, data, env, emulator = setup
    proc = run("batch", str(data), "--template", "Hi {surname}", "--config", str(config), env=env)
    assert proc.returncode == 2
    assert "surname" in proc.stderr
    assert len(emulator.requests) == 0
