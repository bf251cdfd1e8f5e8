"""The command line, run through its real entry point in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smsbridge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_segments_explains_gsm() -> None:
    proc = run("segments", "Hello [world]")
    assert proc.returncode == 0, proc.stderr
    assert "GSM-7" in proc.stdout
    assert "15 septets" in proc.stdout
    assert "part 1: 'Hello [world]'" in proc.stdout


def test_segments_explains_ucs2_and_why() -> None:
    proc = run("segments", "Grüße ç 😀")
    assert proc.returncode == 0, proc.stderr
    assert "UCS-2" in proc.stdout
    assert "ç" in proc.stdout and "😀" in proc.stdout


def test_segments_json_multipart() -> None:
    proc = run("segments", "a" * 161, "--json")
    data = json.loads(proc.stdout)
    assert data["encoding"] == "GSM-7"
    assert [len(p) for p in data["parts"]] == [153, 8]
    assert data["units"] == 161


def test_segments_transliterate() -> None:
    proc = run("segments", "“Hi” – ok…", "--transliterate", "--json")
    data = json.loads(proc.stdout)
    assert data["encoding"] == "GSM-7"
    assert data["text"] == '"Hi" - ok...'


def test_segments_with_national_tables() -> None:
    text = "Şubelerimizde ya da çağrı merkezimizde işlem yapabilirsiniz. " * 2
    proc = run("segments", text, "--national", "es,tr", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["encoding"], data["locking_shift"], data["single_shift"]) == ("GSM-7", "tr", None)
    assert (data["part_count"], data["udh_octets"], data["shift_ies"]) == (1, 4, "250101")
    proc = run("segments", text, "--national", "tr")
    assert "Turkish locking shift (tr, id 1)" in proc.stdout
    proc = run("segments", text, "--national", "tr,xx")
    assert proc.returncode == 2 and "'xx'" in proc.stderr


def test_segments_forced_gsm_on_ucs2_text_is_usage_error() -> None:
    proc = run("segments", "日本", "--encoding", "GSM-7")
    assert proc.returncode == 2
    assert "日" in proc.stderr


def test_bad_usage_exits_2() -> None:
    proc = run("no-such-command")
    assert proc.returncode == 2


def test_providers_lists_bundled_providers_with_capabilities() -> None:
    proc = run("providers")
    assert proc.returncode == 0, proc.stderr
    for name in ("bulksms", "clickatell", "huawei"):
        assert f"{name}  (" in proc.stdout
    assert "template-only" in proc.stdout  # huawei
    assert "300 recipients/request" in proc.stdout  # clickatell


def test_providers_json() -> None:
    proc = run("providers", "--json")
    data = {item["name"]: item for item in json.loads(proc.stdout)}
    assert data["clickatell"]["capabilities"]["query_by_reference"] is True
    assert data["huawei"]["capabilities"]["template_only"] is True
    assert data["bulksms"]["capabilities"]["max_connections"] == 1
