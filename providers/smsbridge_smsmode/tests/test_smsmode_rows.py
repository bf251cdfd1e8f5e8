"""Rows sharing one text, grouped by request key into one ``sendSMS`` each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from smsbridge import InvalidMessageError, Message, SendOptions, Status
from smsbridge_smsmode import SmsmodeProvider
from smsbridge_smsmode.emulator import SmsmodeEmulator

MakeProvider = Callable[..., SmsmodeProvider]
TEXT = "Votre colis arrive demain entre 9h et 12h."
WHEN = datetime(2030, 1, 1, 9, tzinfo=UTC)


def row(index: int, *, text: str = TEXT, **options: Any) -> Message:
    return Message(
        f"+336123{index:05d}", text, "ACME", f"row-{index:05d}", options=SendOptions(**options)
    )


def send_requests(emulator: SmsmodeEmulator) -> list[dict[str, str]]:
    return [r.request.form.to_dict() for r in emulator.requests if r.path.endswith("sendSMS.do")]


def test_rows_go_as_one_send_sms(provider: SmsmodeProvider, emulator: SmsmodeEmulator) -> None:
    assert provider.capabilities.shared_row_reference
    rows = [row(i) for i in range(300)]
    results = provider.send_rows(rows)
    [request] = send_requests(emulator)
    assert len(request["numero"].split(",")) == 300
    assert request["refClient"] == "row-00000"
    assert [r.reference for r in results] == [m.reference for m in rows]
    assert [r.recipient for r in results] == [m.to[0] for m in rows]
    assert {r.status for r in results} == {Status.ACCEPTED}
    # One smsID for the request; the reports tell the rows apart by number.
    [sms_id] = {r.message_id for r in results}
    emulator.tick()
    reports = provider.delivery_reports(sms_id or "")
    assert {r.recipient for r in reports} == {m.to[0] for m in rows}
    assert emulator.submissions.duplicates() == {}


def test_single_row_goes_as_send_does(provider: SmsmodeProvider, emulator: SmsmodeEmulator) -> None:
    [result] = provider.send_rows([row(1)])
    provider.send(row(2))
    first, second = send_requests(emulator)
    assert first["refClient"] == "row-00001"
    assert set(first) == set(second)
    assert result.reference == "row-00001"


def test_scheduled_rows(provider: SmsmodeProvider, emulator: SmsmodeEmulator) -> None:
    when = datetime.now(UTC) + timedelta(days=1)
    results = provider.send_rows([row(0, scheduled_at=when), row(1, scheduled_at=when)])
    assert {r.status for r in results} == {Status.SCHEDULED}
    assert "date_envoi" in send_requests(emulator)[0]


def test_rows_that_cannot_go_together_are_refused_before_sending(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator
) -> None:
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(0), row(1, text="Autre texte")])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([Message(["+33612300001", "+33612300002"], TEXT, reference="two")])
    with pytest.raises(InvalidMessageError):
        provider.send_rows([row(i) for i in range(301)])
    assert provider.send_rows([]) == []
    assert send_requests(emulator) == []


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0), row(1)),
        (row(0), attrs.evolve(row(0), reference="other")),
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN)),
        (row(0, validity=timedelta(hours=1)), row(1)),  # smsmode has no validity
    ],
)
def test_equal_keys(provider: SmsmodeProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) == provider.request_key(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (row(0, scheduled_at=WHEN), row(1, scheduled_at=WHEN + timedelta(minutes=5))),
        (row(0), row(1, text="Autre texte")),
        (row(0), attrs.evolve(row(1), sender="OTHER")),
        (row(0), row(1, callback_url="https://app.example/cr")),
        (row(0), row(1, encoding="UCS-2")),
        (row(0), row(1, max_parts=1)),
    ],
)
def test_different_keys(provider: SmsmodeProvider, left: Message, right: Message) -> None:
    assert provider.request_key(left) != provider.request_key(right)


def test_the_configured_notification_url_is_part_of_the_key(
    emulator: SmsmodeEmulator, make_provider: MakeProvider
) -> None:
    provider = make_provider(emulator, notification_url="https://app.example/cr")
    assert provider.request_key(row(0)) == provider.request_key(
        row(1, callback_url="https://app.example/cr")
    )


def test_an_unknown_option_is_refused_by_name_before_sending(
    provider: SmsmodeProvider, emulator: SmsmodeEmulator
) -> None:
    odd = row(1, extra={"priority": "high"})
    assert provider.request_key(odd) != provider.request_key(row(2))
    with pytest.raises(InvalidMessageError) as caught:
        provider.send_rows([odd, row(2, extra={"priority": "high"})])
    assert caught.value.field == "extra.priority" and "priority" in str(caught.value)
    assert send_requests(emulator) == []
    # Options scoped to other providers (or the bridge's own) are not smsmode's business.
    others = {"clickatell.req_feat": 16, "smsbridge_task_provider": "smsmode"}
    assert provider.send(row(3, extra=others))[0].ok


def test_raw_parameters_go_as_given(provider: SmsmodeProvider, emulator: SmsmodeEmulator) -> None:
    raw = {"smsmode": {"nouveau": "oui"}, "bulksms": {"other": "x"}}
    provider.send_rows([row(0, raw=raw), row(1, raw=raw)])
    [request] = send_requests(emulator)
    assert request["nouveau"] == "oui" and "other" not in request
    with pytest.raises(InvalidMessageError) as caught:
        provider.send(row(2, raw={"smsmode": {"emetteur": "OTHER"}}))
    assert caught.value.field == "raw.smsmode.emetteur"
