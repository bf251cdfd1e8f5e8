"""The generated status page (docs/statuses.md) says what the code tables say."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smsbridge_docs_statuses", DOCS / "statuses.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_current() -> None:
    generator = _generator()
    committed = (DOCS / "statuses.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run python docs/build.py to regenerate it"


def test_every_revised_mapping_shows_its_reason_and_behaviour() -> None:
    page = _generator().render()
    rows = {
        line.split(" | ")[0] + " | " + line.split(" | ")[1]: line
        for line in page.splitlines()
        if line.startswith("| `")
    }
    delivering = rows["| `007` | Error delivering message"]
    assert "`failed_temporary` | yes | yes | no | recipient | transient | What a handset" in (
        delivering
    )
    assert "| `3526` | Permanent portability error" in rows
    assert (
        "| no | recipient | permanent | 'Number ported"
        in rows["| `3526` | Permanent portability error"]
    )
    assert "| provider | permanent | A routing failure" in rows["| `31` | Unroutable"]


def test_a_comment_above_an_entry_becomes_its_reason() -> None:
    generator = _generator()
    import smsbridge_bulksms.codes as bulksms

    reasons = generator.comment_reasons(bulksms)
    # 24 is defined in _BOTH and reaches REPORT_CODES through {**_BOTH, ...}.
    assert reasons["REPORT_CODES"]["24"].startswith("The submission itself is invalid")
    assert reasons["SUBMISSION_CODES"]["201"].startswith("Listed for send_batch")
