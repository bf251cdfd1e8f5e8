"""Provider options in ``SendOptions.extra``: known, scoped, the bridge's own, or refused;
and raw parameters in ``SendOptions.raw``."""

from __future__ import annotations

from typing import Any

import pytest

from smsbridge import InvalidMessageError, SendOptions, extras_key, provider_extras, raw_params
from smsbridge.outbox.codec import options_from_json, options_to_json

KNOWN = ("queue", "mo")


def test_plain_scoped_and_bridge_names() -> None:
    options = SendOptions(
        extra={
            "queue": 3,
            "clickatell.queue": 1,  # scoped wins over plain
            "bulksms.routing_group": 2,  # another provider's: skipped
            "huawei_template_id": "t",  # documented before scoping: Huawei's
            "smsbridge_template": {"text": "x"},  # the bridge's own
            "mo": None,  # None is "not given"
        }
    )
    assert provider_extras(options, provider="clickatell", known=KNOWN) == {"queue": 1}


@pytest.mark.parametrize("key", ["queu", "clickatell.routing_group", "Queue", 7])
def test_an_unknown_name_is_refused_naming_it(key: Any) -> None:
    options = SendOptions(extra={key: 1})
    assert extras_key(options, provider="clickatell")  # grouping never raises
    with pytest.raises(InvalidMessageError) as caught:
        provider_extras(options, provider="clickatell", known=KNOWN)
    error = caught.value
    assert error.field == f"extra.{key}" and error.provider == "clickatell"
    assert repr(str(key).rsplit(".", 1)[-1] if isinstance(key, str) else key) in str(error)
    assert "SendOptions.raw" in str(error)


def test_raw_parameters_are_per_provider_and_may_not_replace_reserved_ones() -> None:
    options = SendOptions(raw={"clickatell": {"b": "2", "a": "1"}, "bulksms": {"c": "3"}})
    assert raw_params(options, provider="clickatell", reserved={"to"}) == [("b", "2"), ("a", "1")]
    assert raw_params(options, provider="smsmode", reserved=()) == []
    with pytest.raises(InvalidMessageError) as caught:
        raw_params(SendOptions(raw={"x": {"to": "1"}}), provider="x", reserved={"to"})
    assert caught.value.field == "raw.x.to"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"clickatell": {"n": 1}}, "raw.clickatell.n"),
        ({"clickatell": {"": "1"}}, "raw.clickatell."),
        ({"clickatell": "n=1"}, "raw.clickatell"),
        ("clickatell", "raw"),
    ],
)
def test_raw_values_are_checked_on_construction(raw: Any, field: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        SendOptions(raw=raw)
    assert caught.value.field == field


def test_raw_is_read_only_and_survives_the_outbox() -> None:
    given = {"clickatell": {"n": "1"}}
    options = SendOptions(raw=given)
    given["clickatell"]["n"] = "2"
    assert options.raw["clickatell"]["n"] == "1"
    with pytest.raises(TypeError):
        options.raw["clickatell"]["n"] = "3"  # type: ignore[index]
    assert options_from_json(options_to_json(options)) == options
    assert "raw" not in options_to_json(SendOptions())  # stored options stay as they were


def test_the_request_key_summary_follows_the_options_not_their_identity() -> None:
    first = SendOptions(extra={"queue": 1, "bulksms.routing_group": 2}, raw={"x": {"a": "1"}})
    again = SendOptions(extra={"bulksms.routing_group": 2, "queue": 1}, raw={"x": {"a": "1"}})
    other = SendOptions(extra={"queue": 2})
    key = extras_key(first, provider="x")
    assert key == extras_key(again, provider="x") == extras_key(first, provider="x")
    assert key != extras_key(other, provider="x")
    assert key != extras_key(first, provider="y")  # raw is per provider
    # Another provider's scoped options and the bridge's own never split requests.
    assert extras_key(SendOptions(extra={"y.q": 1, "smsbridge_t": 1}), provider="x") == ()
