"""SendResult: the per-chunk constructor gives the same values as the plain one."""

from __future__ import annotations

import pickle

import attrs
import pytest

from smsbridge import SendResult, Status


def _plain(numbers: list[str], refs: list[str | None], attempts: int) -> list[SendResult]:
    return [
        SendResult(
            number,
            Status.ACCEPTED,
            provider="bulksms",
            message_id="7:" + number.lstrip("+"),
            reference=ref,
            parts=2,
            attempts=attempts,
        )
        for number, ref in zip(numbers, refs, strict=True)
    ]


def test_many_equals_the_constructor_field_by_field() -> None:
    numbers = ["+447700900123", "+447700900124"]
    refs: list[str | None] = ["a-1", None]
    fast = SendResult.many(
        numbers,
        Status.ACCEPTED,
        provider="bulksms",
        message_ids=["7:" + n.lstrip("+") for n in numbers],
        references=refs,
        parts=[2, 2],
        attempts=3,
    )
    plain = _plain(numbers, refs, 3)
    assert fast == plain
    for f, p in zip(fast, plain, strict=True):
        assert type(f) is SendResult
        assert hash(f) == hash(p)
        assert repr(f) == repr(p)
        assert attrs.asdict(f) == attrs.asdict(p)
        assert f.ok and not f.number_invalid
        assert pickle.loads(pickle.dumps(f)) == p
        assert attrs.evolve(f, attempts=1) == attrs.evolve(p, attempts=1)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            f.status = Status.FAILED_PERMANENT  # type: ignore[misc]
        assert not hasattr(f, "__dict__")


def test_many_checks_lengths_and_serves_subclasses_through_init() -> None:
    with pytest.raises(ValueError, match="zip"):
        SendResult.many(
            ["+1"], Status.ACCEPTED, provider=None, message_ids=[], references=[None], parts=[1]
        )
    assert (
        SendResult.many([], Status.ACCEPTED, provider=None, message_ids=[], references=[], parts=[])
        == []
    )

    @attrs.frozen(slots=True)
    class Tagged(SendResult):
        tag: str = attrs.field(default="t", kw_only=True)

    (tagged,) = Tagged.many(
        ["+1"], Status.ACCEPTED, provider="p", message_ids=["m"], references=[None], parts=[1]
    )
    assert type(tagged) is Tagged and tagged.tag == "t" and tagged.message_id == "m"
