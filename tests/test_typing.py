"""Typing is part of the interface: every distributed package ships ``py.typed``, and the
Python snippets of the README and the getting-started guide pass ``mypy --strict`` (and
run, against the emulators)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("getting-started*.md"))]
_SNIPPET = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def _snippets() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for number, code in enumerate(_SNIPPET.findall(document.read_text("utf-8")), 1):
            found.append((f"{document.name}-{number}", code))
    return found


def _packages() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    smsmode = ROOT / "providers" / "smsbridge_smsmode"
    extra = tomllib.loads((smsmode / "pyproject.toml").read_text("utf-8"))
    extra_wheel = extra["tool"]["hatch"]["build"]["targets"]["wheel"]
    return [ROOT / p for p in wheel["packages"]] + [smsmode / p for p in extra_wheel["packages"]]


def test_every_distributed_package_ships_py_typed() -> None:
    packages = _packages()
    assert {p.name for p in packages} >= {
        "smsbridge", "smsbridge_clickatell", "smsbridge_bulksms", "smsbridge_huawei",
        "smsbridge_smsmode",
    }  # fmt: skip
    assert [p.name for p in packages if not (p / "py.typed").is_file()] == []


def test_the_documents_have_snippets_to_check() -> None:
    names = [name for name, _ in _snippets()]
    assert any(n.startswith("README") for n in names)
    assert any(n.startswith("getting-started") for n in names)


@pytest.mark.parametrize(("name", "code"), _snippets(), ids=[n for n, _ in _snippets()])
def test_documented_snippets_pass_mypy_strict(name: str, code: str, tmp_path: Path) -> None:
    snippet = tmp_path / f"{name.replace('-', '_').replace('.', '_')}.py"
    snippet.write_text(code, encoding="utf-8")
    # As a user's project would: the installed packages, no project configuration.
    stdout, stderr, status = mypy_api.run([
        "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
        "--config-file", "", "--python-version", "3.11", str(snippet),
    ])  # fmt: skip
    assert status == 0, f"{name}:\n{code}\n{stdout}{stderr}"


@pytest.mark.parametrize(
    ("name", "code"),
    [(n, c) for n, c in _snippets() if "Emulator()" in c],
    ids=[n for n, c in _snippets() if "Emulator()" in c],
)
def test_snippets_against_emulators_run(
    name: str, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bridge's default outbox lands in the test's own SMSBRIDGE_HOME (conftest).
    exec(compile(code, name, "exec"), {"__name__": "snippet"})  # noqa: S102 - our own docs
    assert "accepted" in capsys.readouterr().out.lower()
