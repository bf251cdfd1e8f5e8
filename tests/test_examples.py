"""The examples under ``examples/`` run as documented.

The two scripts run as subprocesses (they start their own emulators). The custom
provider's own tests, the conformance suite among them, are collected here in-process:
its folder goes on ``sys.path`` as an installed package would, and its test module's
tests and fixtures are taken into this module.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CUSTOM = EXAMPLES / "custom_provider"

if str(CUSTOM) not in sys.path:
    sys.path.insert(0, str(CUSTOM))
_spec = importlib.util.spec_from_file_location(
    "smsbridge_pigeon_tests", CUSTOM / "tests" / "test_pigeon.py"
)
assert _spec is not None and _spec.loader is not None
_pigeon_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pigeon_tests)
# Collected here: the conformance class, the code-table tests and their fixtures.
TestPigeonConformance = _pigeon_tests.TestPigeonConformance
test_pigeon_every_code_maps_to_one_status = _pigeon_tests.test_every_code_maps_to_one_status
test_pigeon_opted_out_number = _pigeon_tests.test_opted_out_number_is_a_result_not_an_exception
pigeon_emulator = _pigeon_tests.pigeon_emulator
pigeon = _pigeon_tests.pigeon


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_failover_app_sends_every_code_some_through_the_secondary() -> None:
    done = _run("failover_app.py")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert all(" accepted " in line for line in lines)
    carriers = [line.split(" via ")[1].split()[0] for line in lines]
    assert carriers[0] == "bulksms"  # the primary's outage
    assert carriers[-1] == "clickatell"  # and its recovery


def test_cost_comparison_prints_and_exports(tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "quote.csv", tmp_path / "quote.json"
    done = _run("cost_comparison.py", "--csv", str(out_csv), "--json", str(out_json))
    assert done.returncode == 0, done.stderr
    assert "cheapest: " in done.stdout
    assert "invalid-number" in done.stdout
    with out_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["provider"] for row in rows} == {"clickatell", "bulksms"}
    assert all(row["unit"] == "EUR" for row in rows)
    assert json.loads(out_json.read_text(encoding="utf-8"))["recipients"] == 6


def test_cost_comparison_reads_a_given_list(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("to,name\n+447700900001,Ann\n+447700900002,Bob\n", encoding="utf-8")
    done = _run("cost_comparison.py", str(source))
    assert done.returncode == 0, done.stderr
    assert "clickatell            2" in done.stdout


def test_django_otp_queues_sends_and_records_delivery() -> None:
    done = _run("django_otp.py")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "view answered" in line]
    assert len(lines) == 3
    assert all(
        "view answered queued" in line and line.endswith("final delivered") for line in lines
    )


def test_celery_app_enqueues_once_and_drains() -> None:
    done = _run("celery_app.py")
    assert done.returncode == 0, done.stderr
    assert "'added': 0, 'existing': 3" in done.stdout  # the redelivered task
    counts = [line for line in done.stdout.splitlines() if " accepted " in line]
    assert len(counts) == 3
    assert all(line.endswith("accepted 1 time(s)") for line in counts)


def test_asgi_app_sends_codes_and_records_their_reports() -> None:
    done = _run("asgi_app.py")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.endswith("report: delivered") for line in lines), lines
