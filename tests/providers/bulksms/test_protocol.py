"""Pure pieces: encoding, CSV, chunks, the stop_dup_id counter, response parsers."""

from __future__ import annotations

import contextlib
import csv
import io
import threading
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import MalformedResponseError, ProviderError, SmsBridgeError, Status
from smsbridge_bulksms import parsers, protocol
from smsbridge_bulksms.chunks import (
    Chunk,
    RequestParams,
    Row,
    Settings,
    build_batch_chunk,
    build_sms_chunk,
)
from smsbridge_bulksms.protocol import EncodedText, encode_text
from smsbridge_bulksms.stopdup import (
    STOP_DUP_MAX,
    InMemoryStopDupAllocator,
    StopDupAllocator,
    clock_start,
)


def form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="iso-8859-1"))


def read_csv(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline=""), dialect=protocol.DIALECT))


# -- encoding --------------------------------------------------------------------------


def test_gsm_text_goes_as_latin1_7bit() -> None:
    assert encode_text("Hello £5 é") == EncodedText("Hello £5 é", "7bit", 1)


def test_greek_gsm_letters_use_latin1_stand_ins() -> None:
    encoded = encode_text("ΔΦΓΛΩΠΨΣΘΞ")
    assert encoded.dca == "7bit"
    assert encoded.field == "\xd0\xde\xac\xc2\xdb\xba\xdd\xca\xd4\xb1"
    assert protocol.decode_text(encoded.field, "7bit") == "ΔΦΓΛΩΠΨΣΘΞ"


def test_unicode_goes_as_utf16be_hex() -> None:
    assert encode_text("Привет") == EncodedText("041F04400438043204350442", "16bit", 1)


def test_euro_sign_has_no_latin1_stand_in_so_goes_16bit() -> None:
    encoded = encode_text("5 €")
    assert encoded.dca == "16bit"
    assert protocol.decode_text(encoded.field, "16bit") == "5 €"
    with pytest.raises(ValueError, match="euro"):
        encode_text("5 €", encoding="GSM-7")


def test_parts_follow_segmentation() -> None:
    assert encode_text("a" * 160).parts == 1
    assert encode_text("a" * 161).parts == 2
    assert encode_text("я" * 71).parts == 2


def test_forced_ucs2_and_transliteration() -> None:
    assert encode_text("abc", encoding="UCS-2").dca == "16bit"
    assert encode_text("“quoted”", transliterate=True) == EncodedText('"quoted"', "7bit", 1)


@given(st.text(min_size=1, max_size=400))
def test_encoding_round_trips(text: str) -> None:
    encoded = encode_text(text)
    assert protocol.decode_text(encoded.field, encoded.dca) == text
    if encoded.dca == "7bit":
        encoded.field.encode("iso-8859-1")


# -- CSV ---------------------------------------------------------------------------------


def test_csv_matches_the_documented_example() -> None:
    data = protocol.write_batch_csv(
        ["msisdn", "message"], [["111111111", "Hi there"], ["333333333", "Hello again"]]
    )
    assert data == 'msisdn,message\n"111111111","Hi there"\n"333333333","Hello again"\n'


def test_csv_escapes_quotes_and_newlines_with_backslash() -> None:
    data = protocol.write_batch_csv(["msisdn", "message"], [["1", 'a "q", b\nc\\d\re']])
    assert data == 'msisdn,message\n"1","a \\"q\\", b\\\nc\\\\d\\\re"\n'
    assert read_csv(data)[1] == ["1", 'a "q", b\nc\\d\re']


@given(st.lists(st.text(alphabet=st.characters(codec="latin-1"), min_size=1), max_size=5))
def test_csv_round_trips_any_bodies(bodies: list[str]) -> None:
    rows = [[str(i), body] for i, body in enumerate(bodies)]
    assert read_csv(protocol.write_batch_csv(["msisdn", "message"], rows))[1:] == rows


def test_choose_columns_uses_defaults_and_columns() -> None:
    rows: list[dict[str, str | None]] = [
        {"sender": "Shop", "dca": "7bit", "msg_class": None, "routing_group": "2"},
        {"sender": "Shop", "dca": "16bit", "msg_class": "0", "routing_group": "2"},
    ]
    columns, params = protocol.choose_columns(rows)
    assert columns == ["msg_class", "dca"]
    assert params == {"sender": "Shop", "routing_group": "2"}
    assert protocol.choose_columns([{"dca": "7bit", "msg_class": "2"}]) == ([], {})
    assert protocol.choose_columns([{"dca": "16bit"}]) == ([], {"dca": "16bit"})


# -- chunks ---------------------------------------------------------------------------------


def _row(number: str, text: str, settings: Settings | None = None, **params: Any) -> Row:
    return Row(
        number, f"ref-{number}", encode_text(text), settings or Settings(), RequestParams(**params)
    )


def test_batch_chunk_minimal_shape() -> None:
    chunk = build_batch_chunk([_row("+441", "Hi there"), _row("+443", "Hello again")], 7)
    fields = form(chunk.body)
    assert fields == {
        "batch_data": 'msisdn,message\n"441","Hi there"\n"443","Hello again"\n',
        "stop_dup_id": "7",
    }
    assert chunk.stop_dup_id == 7
    assert [(r.number, r.reference, r.parts) for r in chunk.recipients] == [
        ("+441", "ref-+441", 1),
        ("+443", "ref-+443", 1),
    ]
    assert "bytes" in repr(chunk)


def test_batch_chunk_columns_only_when_needed() -> None:
    shop = Settings(sender="Shop")
    flash = Settings(sender="Other", msg_class="0", source_id="acct")
    chunk = build_batch_chunk([_row("+1", "plain", shop), _row("+2", "Привет", flash)], 9)
    fields = form(chunk.body)
    lines = read_csv(fields["batch_data"])
    assert lines[0] == ["msisdn", "message", "sender", "msg_class", "dca", "source_id"]
    assert lines[1] == ["1", "plain", "Shop", "", "7bit", ""]
    assert lines[2] == ["2", "041F04400438043204350442", "Other", "0", "16bit", "acct"]
    assert "sender" not in fields
    assert "dca" not in fields


def test_batch_chunk_all_unicode_uses_request_level_dca_and_concat() -> None:
    chunk = build_batch_chunk([_row("+1", "я" * 100), _row("+2", "ж")], 3)
    fields = form(chunk.body)
    assert fields["dca"] == "16bit"
    assert fields["allow_concat_text_sms"] == "1"
    assert fields["concat_text_sms_max_parts"] == "2"
    assert read_csv(fields["batch_data"])[0] == ["msisdn", "message"]


def test_batch_chunk_request_params() -> None:
    row = _row(
        "+1",
        "x",
        send_time_unixtime=1_900_000_000,
        want_report=False,
        scheduling_description="promo",
        test_mode="succeed",
    )
    fields = form(build_batch_chunk([row], 1).body)
    assert fields["send_time_unixtime"] == "1900000000"
    assert fields["want_report"] == "0"
    assert fields["scheduling_description"] == "promo"
    assert fields["test_always_succeed"] == "1"
    fail = form(build_batch_chunk([_row("+1", "x", test_mode="fail")], 1).body)
    assert fail["test_always_fail"] == "1"


def test_batch_chunk_is_deterministic() -> None:
    rows = [_row(f"+44{i}", f'msg "{i}", ok\n') for i in range(50)]
    assert build_batch_chunk(rows, 5) == build_batch_chunk(rows, 5)


def test_batch_chunk_refuses_mixed_params_and_empty() -> None:
    with pytest.raises(ValueError, match="share"):
        build_batch_chunk([_row("+1", "x"), _row("+2", "x", want_report=False)], 1)
    with pytest.raises(ValueError, match="at least one"):
        build_batch_chunk([], 1)


def test_sms_chunk_fields() -> None:
    chunk = build_sms_chunk(
        [("+441", "a"), ("+442", "b")],
        encode_text("Привет"),
        Settings(sender="Shop", msg_class="2", routing_group="3"),
        RequestParams(send_time="2030-01-01 10:00:00"),
        42,
    )
    assert isinstance(chunk, Chunk)
    assert form(chunk.body) == {
        "msisdn": "441,442",
        "message": "041F04400438043204350442",
        "dca": "16bit",
        "sender": "Shop",
        "routing_group": "3",
        "send_time": "2030-01-01 10:00:00",
        "stop_dup_id": "42",
    }


# -- stop_dup_id -------------------------------------------------------------------------------


def test_allocator_counts_and_wraps() -> None:
    allocator = InMemoryStopDupAllocator(STOP_DUP_MAX - 1)
    assert isinstance(allocator, StopDupAllocator)
    assert [allocator.allocate() for _ in range(3)] == [STOP_DUP_MAX - 1, STOP_DUP_MAX, 1]
    assert allocator.next == 2
    assert "next=2" in repr(allocator)


@pytest.mark.parametrize("start", [0, -1, STOP_DUP_MAX + 1, True])
def test_allocator_refuses_out_of_range_start(start: int) -> None:
    with pytest.raises(ValueError, match="stop_dup_id"):
        InMemoryStopDupAllocator(start)


def test_allocator_is_unique_across_threads() -> None:
    allocator = InMemoryStopDupAllocator(1)
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [allocator.allocate() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 16001))


def test_clock_start_is_in_range_and_advances() -> None:
    assert clock_start() in range(1, STOP_DUP_MAX + 1)
    assert clock_start(1000.0) == 1_000_001
    assert clock_start(1000.5) > clock_start(1000.0)
    assert InMemoryStopDupAllocator().allocate() in range(1, STOP_DUP_MAX + 1)


# -- parsers -------------------------------------------------------------------------------


def test_parse_submission() -> None:
    reply = parsers.parse_submission("0|IN_PROGRESS|30430\n")
    assert (reply.code, reply.batch_id, reply.outcome.status) == ("0", "30430", Status.ACCEPTED)
    assert parsers.parse_submission("1|SCHEDULED|5").outcome.status is Status.SCHEDULED


@pytest.mark.parametrize("code", ["22", "23", "24", "25", "26", "27", "28", "40", "201"])
def test_parse_submission_failures_raise_by_code(code: str) -> None:
    with pytest.raises(ProviderError) as info:
        parsers.parse_submission(f"{code}|anything at all|")
    assert info.value.code == code
    # The description is informational only: the message comes from the table.
    assert "anything" not in info.value.message
    assert info.value.provider_text == "anything at all"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0|IN_PROGRESS|",
        "0|IN_PROGRESS|0",
        "0|IN_PROGRESS|-5",
        "99|new|1",
        "x|y|z",
        "0|a|1\n0|a|2",
        "<html>",
        "0|IN_PROGRESS|12a",
    ],
)
def test_parse_submission_garbage(text: str) -> None:
    with pytest.raises(MalformedResponseError):
        parsers.parse_submission(text)


def test_parse_credits_and_quote() -> None:
    assert parsers.parse_credits("0|2101.15\n") == Decimal("2101.15")
    assert parsers.parse_quote("0|Quotation issued|12.5") == Decimal("12.5")
    with pytest.raises(ProviderError) as info:
        parsers.parse_credits("23|invalid credentials")
    assert info.value.code == "23"
    for bad in ("0|NaN", "0|", "0|1|2", "1000|Results", "0|inf"):
        with pytest.raises(MalformedResponseError):
            parsers.parse_credits(bad)
    with pytest.raises(MalformedResponseError):
        parsers.parse_quote("0|Quotation issued")


def test_parse_report() -> None:
    text = "0|Results to follow\n\n447123123456|11\n447123123457|0|1.00|x\n"
    rows = parsers.parse_report(text)
    assert rows == [
        parsers.ReportRow("447123123456", "11"),
        parsers.ReportRow("447123123457", "0", ("1.00", "x")),
    ]
    assert parsers.parse_report("0|Returns to follow\n\n") == []
    report = parsers.report_from_row(rows[0], "77")
    assert (report.message_id, report.recipient, report.status) == (
        "77:447123123456",
        "+447123123456",
        Status.DELIVERED,
    )
    with pytest.raises(ProviderError):
        parsers.parse_report("24|bad batch id")
    for bad in ("0|x\n\n4471|99\n", "0|x\n\nabc|11\n", "0|x\n\n4471\n"):
        with pytest.raises(MalformedResponseError):
            parsers.parse_report(bad)


def test_parse_callback_query() -> None:
    from zoneinfo import ZoneInfo

    query = {
        "msisdn": "447700900123",
        "batch_id": "30431",
        "status": "11",
        "completed_time": "24-03-05 13:14:15",
        "source_id": "acct",
        "pass": "x",
    }
    report = parsers.parse_callback_query(query, zone=ZoneInfo("UTC"))
    assert report.status is Status.DELIVERED
    assert report.message_id == "30431:447700900123"
    assert report.occurred_at is not None and report.occurred_at.year == 2024
    assert "pass" not in report.raw
    assert parsers.parse_callback_query(query).occurred_at is None
    with pytest.raises(MalformedResponseError):
        parsers.parse_callback_query({**query, "status": "abc"})
    with pytest.raises(MalformedResponseError):
        parsers.parse_callback_query({**query, "completed_time": "bad"}, zone=ZoneInfo("UTC"))


# -- fuzz: a result or an SmsBridgeError, nothing else -----------------------------------

_reply_text = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda code, desc, tail: f"{code}|{desc}|{tail}",
        st.sampled_from(["0", "1", "22", "40", "99", "-1", " 0", "00", "1e3"]),
        st.text(max_size=20),
        st.one_of(st.text(max_size=12), st.integers().map(str)),
    ),
)


@given(_reply_text)
def test_parse_submission_fuzz(text: str) -> None:
    with contextlib.suppress(SmsBridgeError):
        parsers.parse_submission(text)


@given(_reply_text)
def test_parse_credits_and_quote_fuzz(text: str) -> None:
    for parser in (parsers.parse_credits, parsers.parse_quote):
        with contextlib.suppress(SmsBridgeError):
            parser(text)


@given(
    st.lists(st.one_of(st.text(max_size=30), st.from_regex(r"\A\d{1,12}\|\d{1,3}\Z")), max_size=8),
    st.sampled_from(["0|Results to follow", "0|x", "23|no", "zz"]),
)
def test_parse_report_fuzz(lines: list[str], header: str) -> None:
    with contextlib.suppress(SmsBridgeError):
        parsers.parse_report("\n".join([header, "", *lines]))


@given(
    st.dictionaries(
        st.sampled_from(["msisdn", "batch_id", "status", "completed_time", "source_id"]),
        st.text(max_size=20),
    )
)
def test_parse_callback_fuzz(query: dict[str, str]) -> None:
    from zoneinfo import ZoneInfo

    with contextlib.suppress(SmsBridgeError):
        parsers.parse_callback_query(query, zone=ZoneInfo("Europe/London"))
