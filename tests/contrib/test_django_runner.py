"""A project's Django test cases using the app, run by Django's own test runner
(``django-admin test``) in a subprocess, with the test settings of this folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_djangos_test_runner_runs_a_projects_sms_tests() -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "django", "test", "tests.contrib.django_suite",
            "--settings=tests.contrib.django_settings", "--pattern=checks_*.py",
            "--verbosity=2", "--noinput",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "Ran 3 tests" in done.stderr and lines[-1] == "OK"
    passed = [line.split(" ", 1)[0] for line in lines if line.endswith(" ... ok")]
    assert sorted(passed) == [
        "test_a_code_is_recorded",
        "test_a_code_reaches_the_emulator",
        "test_each_test_starts_with_an_empty_outbox",
    ]
