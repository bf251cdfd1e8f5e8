"""Secrets stay hidden everywhere but on the wire."""

from __future__ import annotations

import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from smsbridge import Redactor, Secret

SENTINEL = "S3NT1NEL/pa$$ word&=+"


def test_secret_hides_value() -> None:
    secret = Secret(SENTINEL)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret):
        assert SENTINEL not in text
    assert secret.reveal() == SENTINEL


def test_secret_refuses_pickle() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(SENTINEL))


def test_secret_equality_and_empty() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("").is_empty
    assert not Secret("")


def test_redactor_hides_raw_and_url_encoded(caplog: pytest.LogCaptureFixture) -> None:
    from urllib.parse import quote, quote_plus

    redact = Redactor([Secret(SENTINEL), "ab"])  # too short to redact safely
    line = f"user=x&password={quote_plus(SENTINEL)}&p2={quote(SENTINEL, safe='')} raw={SENTINEL}"
    cleaned = redact(line)
    assert SENTINEL not in cleaned
    assert quote_plus(SENTINEL) not in cleaned
    assert quote(SENTINEL, safe="") not in cleaned
    assert cleaned.count("***") == 3
    assert "ab" in redact("ab")


def test_threads_sharing_a_redactor_all_redact_from_its_first_use() -> None:
    # The byte spellings are built on first use; threads arriving together must each
    # see them whole (they once saw the spellings before the pattern that finds them).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often enough to meet mid-build
    try:
        for _ in range(50):
            assert redact_together(Redactor(["s3cr3t-token-1234"]), threads=8) == {
                b"error: token=*** refused"
            }
    finally:
        sys.setswitchinterval(interval)


def redact_together(redactor: Redactor, threads: int) -> set[bytes]:
    """What ``threads`` threads get from the redactor's first use, all at once."""
    start = Barrier(threads)

    def redact(_: int) -> bytes:
        start.wait()
        return redactor.redact_bytes(b"error: token=s3cr3t-token-1234 refused")

    with ThreadPoolExecutor(threads) as pool:
        return set(pool.map(redact, range(threads)))
