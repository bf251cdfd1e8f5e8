"""Request builders and answer parsers, with the documented examples and fuzzing."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge import (
    InvalidMessageError,
    Kind,
    MalformedResponseError,
    MessageNotFoundError,
    ProviderError,
    Scope,
    SendOptions,
    SmsBridgeError,
    Status,
)
from smsbridge_smsmode import protocol as p

PARIS = ZoneInfo("Europe/Paris")
REAL_ACCEPT = (
    "0 | Accepté - le message a été accepté par le système et est en cours de traitement"
    " | Vz4lHUWycCKb"
)


def test_send_answer_from_the_field() -> None:
    assert p.parse_send(REAL_ACCEPT) == "Vz4lHUWycCKb"
    assert p.parse_send("0|Accepted|S7EpYZ5kmS87\r\n") == "S7EpYZ5kmS87"


@pytest.mark.parametrize(
    ("answer", "scope", "kind"),
    [
        ("31 | Erreur interne", Scope.PROVIDER, Kind.TRANSIENT),
        ("32 | Erreur d'authentification", Scope.PROVIDER, Kind.PERMANENT),
        ("33 | Crédits insuffisants", Scope.PROVIDER, Kind.PERMANENT),
        ("35 | Paramètre obligatoire manquant", Scope.REQUEST, Kind.PERMANENT),
        ("50 | Temporairement inaccessible", Scope.PROVIDER, Kind.TRANSIENT),
    ],
)
def test_send_refusals(answer: str, scope: Scope, kind: Kind) -> None:
    with pytest.raises(ProviderError) as caught:
        p.parse_send(answer)
    assert (caught.value.scope, caught.value.kind) == (scope, kind)
    assert caught.value.code == answer.split(" ")[0]


@pytest.mark.parametrize("answer", ["", "OK", "0 | Accepted", "0 | Accepted | bad id!", "x | y"])
def test_unreadable_send_answers(answer: str) -> None:
    with pytest.raises(MalformedResponseError):
        p.parse_send(answer)


def test_report_answer() -> None:
    lines = p.parse_report("33600000000 11 | 33611111111 13")
    assert [(x.number, x.status) for x in lines] == [("33600000000", "11"), ("33611111111", "13")]
    assert p.parse_report("  \n") == []
    with pytest.raises(MessageNotFoundError):
        p.parse_report("61 | SMS not found")
    with pytest.raises(ProviderError):
        p.parse_report("35 | Missing parameter")
    with pytest.raises(MalformedResponseError):
        p.parse_report("33600000000 11 | garbage")


def test_status_answer() -> None:
    assert p.parse_status("0 | Sent") == ("0", "Sent")
    assert p.parse_status("3502 | Temporary absence") == ("3502", "Temporary absence")
    with pytest.raises(MessageNotFoundError):
        p.parse_status("61 | invalid smsID")
    with pytest.raises(ProviderError):
        p.parse_status("32 | Authentication error")


def test_credit_answer() -> None:
    assert p.parse_credit("212.5") == Decimal("212.5")
    assert p.parse_credit("-3\n") == Decimal(-3)
    with pytest.raises(ProviderError):
        p.parse_credit("32 | Erreur d'authentification")
    with pytest.raises(MalformedResponseError):
        p.parse_credit("lots")


def test_encoding_choice() -> None:
    plain = p.encode_text("Votre code : 482913, à très vite", SendOptions())
    assert (plain.classe_msg, plain.charset) == ("2", "iso-8859-15")
    smiley = p.encode_text("Merci ☺", SendOptions())
    assert (smiley.classe_msg, smiley.charset) == ("9", "utf-8")
    # Δ is GSM-7 but not ISO-8859-15: smsmode would print "?", so it goes as Unicode.
    assert p.encode_text("Δ = 3", SendOptions()).classe_msg == "9"
    with pytest.raises(InvalidMessageError):
        p.encode_text("Δ = 3", SendOptions(encoding="GSM-7"))


def test_part_limit() -> None:
    assert p.encode_text("x" * 765, SendOptions()).segmentation.part_count == 5
    with pytest.raises(InvalidMessageError) as caught:
        p.encode_text("x" * 766, SendOptions())
    assert caught.value.field == "max_parts"
    with pytest.raises(InvalidMessageError):
        p.encode_text("x" * 200, SendOptions(max_parts=1))


def test_form_body_charsets() -> None:
    assert p.encode_form([("message", "€é")], "iso-8859-15") == b"message=%A4%E9"
    assert p.encode_form([("message", "☺")], "utf-8") == b"message=%E2%98%BA"


def test_schedule_is_paris_time_rounded_up() -> None:
    when = datetime(2030, 12, 21, 13, 34, 5, tzinfo=UTC)
    assert p.schedule_field(when, PARIS) == "21122030-14:35"
    assert p.schedule_field(datetime(2030, 7, 1, 8, 0, tzinfo=UTC), PARIS) == "01072030-10:00"


def test_reference_and_sender() -> None:
    assert p.ref_client("order-1") == "order-1"
    long = "r" * 64
    assert len(p.ref_client(long)) == 40 and p.ref_client(long) == p.ref_client(long)
    assert p.check_sender("MyShop") == "MyShop"
    for bad in ("My Shop", "Élodie", "336123456", "TwelveChars!"):
        with pytest.raises(InvalidMessageError):
            p.check_sender(bad)


def test_callback_fields_from_the_documented_example() -> None:
    report = p.callback_report(
        {
            "numero": "33612345678",
            "date_reception": "2010-03-25 09:52:17",
            "statut": "3502",
            "smsID": "S7EpYZ5kmS87",
            "refClient": "12azer34",
            "mcc_mnc": "20801",
            "cost": "1",
        },
        PARIS,
    )
    assert report.status is Status.FAILED_TEMPORARY and not report.status.number_invalid
    assert (report.message_id, report.reference) == ("S7EpYZ5kmS87", "12azer34")
    assert report.recipient == "+33612345678"
    assert report.occurred_at == datetime(2010, 3, 25, 9, 52, 17, tzinfo=PARIS)
    assert report.cost is not None and report.cost.amount == 1
    assert report.error is not None and report.error.transient


@pytest.mark.parametrize(
    "fields",
    [
        {"statut": "11", "numero": "33600000000"},
        {"smsID": "abc", "numero": "33600000000"},
        {"smsID": "abc", "statut": "11"},
        {"smsID": "abc", "statut": "11", "numero": "+33600000000"},
        {"smsID": "abc", "statut": "11", "numero": "33600000000", "date_reception": "25/03"},
    ],
)
def test_callback_missing_or_bad_fields(fields: dict[str, str]) -> None:
    with pytest.raises(MalformedResponseError):
        p.callback_report(fields, PARIS)


# -- fuzz: a parser returns a result or raises SmsBridgeError, nothing else ---------------

_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["0", "61", "35", " | ", "|", "336000", " 11", "abc", "\n"])).map(
        "".join
    ),
)


@given(_texts)
def test_parsers_never_raise_anything_else(text: str) -> None:
    for parser in (p.parse_send, p.parse_report, p.parse_status, p.parse_credit):
        with contextlib.suppress(SmsBridgeError):
            parser(text)


@given(st.dictionaries(st.sampled_from(["numero", "statut", "smsID", "date_reception",
                                        "cost", "refClient"]), st.text(max_size=30)))  # fmt: skip
def test_callback_parser_never_raises_anything_else(fields: dict[str, str]) -> None:
    try:
        report = p.callback_report(fields, PARIS)
    except SmsBridgeError:
        return
    assert report.message_id == fields["smsID"]


@given(st.text(min_size=1, max_size=400))
def test_encode_text_is_total(body: str) -> None:
    try:
        encoded = p.encode_text(body, SendOptions())
    except InvalidMessageError:
        return
    encoded.segmentation.text.encode(encoded.charset)
    assert encoded.segmentation.part_count in range(1, p.MAX_PARTS + 1)
