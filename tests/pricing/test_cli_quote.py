"""``smsbridge quote``: the real entry point, in a subprocess, on a CSV and a price table."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import defusedxml.ElementTree as ET  # type: ignore[import-untyped]

from tests.pricing import SAMPLE_CSV

SVG = "{http://www.w3.org/2000/svg}"
RECIPIENTS = """\
to,name
+447700900123,Anna
+442079460000,Luc
+33612345678,Zoë
+12125550123,Mark
not-a-number,Ola
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m smsbridge quote`` with the sample table and recipients."""
    (tmp_path / "to.csv").write_text(RECIPIENTS, encoding="utf-8")
    (tmp_path / "prices.csv").write_text(
        SAMPLE_CSV.replace("alpha", "clickatell").replace("beta", "bulksms"), encoding="utf-8"
    )
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "smsbridge", "quote", "to.csv", "--prices", "prices.csv", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )


SUMMARY = ("provider", "recipients", "unroutable", "parts", "total", "unit", "source")
BASE = ("--template", "Hi {name}, your order has shipped.", "--providers", "clickatell,bulksms")


def test_table_output(tmp_path: Path) -> None:
    done = run(tmp_path, *BASE, "--rate", "bulksms=0.03:EUR", "--currency", "EUR")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [*SUMMARY]
    summary = {line.split()[0]: line.split() for line in lines[2:4]}
    # 4 valid numbers at one part each: 0.035 + 0.040 + 0.060 + 0.100 EUR
    assert summary["clickatell"][1:] == ["4", "1", "4", "0.235", "EUR", "table"]
    # bulksms: 44 at 1.2 credits twice, FR at 1.0, US unpriced; 0.03 EUR a credit
    assert summary["bulksms"][1:] == ["3", "2", "3", "0.102", "EUR", "table"]
    assert "invalid-number" in done.stdout and "no-price" in done.stdout
    assert "cheapest: clickatell (5 recipients)" in done.stdout


def test_csv_export(tmp_path: Path) -> None:
    done = run(tmp_path, *BASE, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {row["provider"] for row in rows} == {"clickatell", "bulksms"}
    fr = [r for r in rows if r["provider"] == "clickatell" and r["country"] == "FR"]
    assert fr == [
        {
            "provider": "clickatell",
            "country": "FR",
            "recipients": "1",
            "parts": "1",
            "price_per_part": "0.060",
            "total": "0.060",
            "unit": "EUR",
            "source": "table",
        }
    ]


def test_json_export(tmp_path: Path) -> None:
    done = run(tmp_path, *BASE, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["recipients"] == 5
    totals = {p["provider"]: (p["total"], p["unit"]) for p in data["providers"]}
    assert totals == {"clickatell": ("0.235", "EUR"), "bulksms": ("3.4", "credits")}
    assert data["cheapest"] == "clickatell"
    assert {(u["provider"], u["reason"]) for u in data["unroutable"]} >= {
        ("clickatell", "invalid-number"),
        ("bulksms", "no-price"),
    }


def test_chart_is_valid_svg_with_a_bar_per_provider_and_destination(tmp_path: Path) -> None:
    done = run(tmp_path, *BASE, "--rate", "bulksms=0.03:EUR", "--chart", "out.svg")
    assert done.returncode == 0, done.stderr
    root = ET.fromstring((tmp_path / "out.svg").read_bytes())
    assert root.tag == f"{SVG}svg"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    labels = {bar.find(f"{SVG}title").text for bar in bars}
    # clickatell: FR, GB, US; bulksms: FR, GB (US unpriced)
    assert labels == {
        "clickatell, FR: 0.06 EUR",
        "clickatell, GB: 0.075 EUR",
        "clickatell, US: 0.1 EUR",
        "bulksms, FR: 0.03 EUR",
        "bulksms, GB: 0.072 EUR",
    }
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "clickatell: 0.235 EUR" in texts and "cheapest" in texts


def test_without_providers_is_a_configuration_error(tmp_path: Path) -> None:
    done = run(tmp_path, "--body", "hello")
    assert done.returncode == 3
    assert "no providers" in done.stderr


def test_national_tables_change_the_quoted_parts(tmp_path: Path) -> None:
    body = "Sayın {name}, ağustos faturanız düzenlenmiştir; ödeme için son gün 15 Eylül. " * 2
    args = ("--template", body, "--providers", "clickatell", "--format", "json")
    plain = run(tmp_path, *args)
    assert plain.returncode == 0, plain.stderr
    national = run(tmp_path, *args, "--national", "tr")
    assert national.returncode == 0, national.stderr

    def parts(done: subprocess.CompletedProcess[str]) -> int:
        data = json.loads(done.stdout)
        return sum(p["parts"] for p in data["providers"])

    # About 150 characters a recipient: 3 UCS-2 parts, or 1 part of 7-bit Turkish; but
    # no Turkish table has the 'ë' of Zoë, so her text stays UCS-2.
    assert (parts(plain), parts(national)) == (4 * 3, 1 + 1 + 3 + 1)
    refused = run(tmp_path, *args, "--national", "klingon")
    assert refused.returncode == 2 and "klingon" in refused.stderr
