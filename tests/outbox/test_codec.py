"""The outbox's JSON codec gives back exactly what it was given."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.errors import ErrorInfo, Kind, Scope
from smsbridge.model import SendOptions
from smsbridge.outbox import codec
from smsbridge.results import Cost, DeliveryReport
from smsbridge.status import Status

# Offsets with seconds and microseconds exist (historic zones) and must survive too.
offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
aware = st.datetimes(timezones=st.builds(timezone, offsets))
any_datetime = st.one_of(st.datetimes(), aware)
decimals = st.decimals(allow_nan=False)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    any_datetime,
    st.timedeltas(),
    decimals,
    st.binary(),
)
keys = st.one_of(st.text(), st.integers(), st.sampled_from(["$dt", "$map", "$tuple", "$x"]))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)
extras = st.dictionaries(keys, values, max_size=5)
errors = st.builds(
    ErrorInfo,
    st.none() | st.text(max_size=8),
    st.text(),
    scope=st.sampled_from(Scope),
    kind=st.sampled_from(Kind),
)
costs = st.builds(Cost, decimals, st.sampled_from(["credits", "EUR", "GBP"]))
options = st.builds(
    SendOptions,
    scheduled_at=st.none() | aware,
    validity=st.none() | st.timedeltas(min_value=timedelta(microseconds=1)),
    flash=st.booleans(),
    max_parts=st.none() | st.integers(min_value=1, max_value=255),
    encoding=st.sampled_from([None, "GSM-7", "UCS-2"]),
    transliterate=st.booleans(),
    callback_url=st.none() | st.text(),
    extra=extras,
    national_languages=st.lists(st.sampled_from(["tr", "es", "pt", "hi", "ur"]), max_size=3),
)
reports = st.builds(
    DeliveryReport,
    provider=st.text(min_size=1),
    message_id=st.none() | st.text(),
    status=st.sampled_from(Status),
    provider_code=st.none() | st.text(),
    provider_text=st.none() | st.text(),
    recipient=st.none() | st.text(),
    reference=st.none() | st.text(),
    occurred_at=st.none() | any_datetime,
    received_at=st.none() | any_datetime,
    part=st.none() | st.integers(min_value=1),
    parts=st.none() | st.integers(min_value=1),
    cost=st.none() | costs,
    error=st.none() | errors,
    raw=extras,
)


def _offsets(value: datetime | None) -> object:
    # == on aware datetimes compares instants; the offset itself must survive as well.
    return None if value is None else value.utcoffset()


@given(options)
def test_send_options_round_trip(value: SendOptions) -> None:
    back = codec.options_from_json(codec.options_to_json(value))
    assert back == value
    assert _offsets(back.scheduled_at) == _offsets(value.scheduled_at)


@given(reports)
def test_delivery_report_round_trip(value: DeliveryReport) -> None:
    back = codec.report_from_json(codec.report_to_json(value))
    assert back == value
    assert _offsets(back.occurred_at) == _offsets(value.occurred_at)


@given(errors)
def test_error_info_round_trip(value: ErrorInfo) -> None:
    assert codec.error_from_json(codec.error_to_json(value)) == value


@given(costs)
def test_cost_keeps_the_exact_decimal(value: Cost) -> None:
    back = codec.cost_from_json(codec.cost_to_json(value))
    assert back is not None
    # Decimal("1.0") == Decimal("1.00"): compare the text to prove the exponent survived.
    assert (str(back.amount), back.unit) == (str(value.amount), value.unit)


@given(values)
def test_free_form_values_round_trip(value: Any) -> None:
    assert codec.loads(codec.dumps(value)) == value


def test_none_stays_none() -> None:
    assert codec.error_to_json(None) is None
    assert codec.error_from_json(None) is None
    assert codec.cost_to_json(None) is None
    assert codec.cost_from_json(None) is None


def test_formats_are_readable() -> None:
    text = codec.options_to_json(
        SendOptions(
            scheduled_at=datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
            validity=timedelta(hours=1, microseconds=5),
        )
    )
    data = json.loads(text)
    assert data["scheduled_at"] == "2024-05-01T09:30:00+02:00"
    assert data["validity"] == "3600.000005"
    assert json.loads(codec.cost_to_json(Cost(Decimal("0.0450"), "EUR")) or "") == {
        "amount": "0.0450",
        "unit": "EUR",
    }


def test_a_user_mapping_that_looks_like_a_tag_stays_a_mapping() -> None:
    value = {"$dt": "2024-01-01T00:00:00"}
    assert codec.loads(codec.dumps(value)) == value


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(codec.CodecError, match="set"):
        codec.dumps({"x": {1, 2}})


@pytest.mark.parametrize("text", ["{", '{"$dec": "not a number"}'])
def test_unreadable_text_is_a_codec_error(text: str) -> None:
    with pytest.raises(codec.CodecError):
        codec.loads(text)


def test_options_written_before_national_languages_existed_still_read() -> None:
    data = json.loads(codec.options_to_json(SendOptions(transliterate=True)))
    assert "national_languages" not in data  # stored only when given, like rows before it
    back = codec.options_from_json(json.dumps(data))
    assert back == SendOptions(transliterate=True) and back.national_languages == ()
    data["national_languages"] = ["xx"]
    with pytest.raises(codec.CodecError, match="xx"):
        codec.options_from_json(json.dumps(data))


def test_missing_fields_are_a_codec_error() -> None:
    with pytest.raises(codec.CodecError):
        codec.options_from_json("{}")
    with pytest.raises(codec.CodecError):
        codec.report_from_json('{"provider": "x"}')
