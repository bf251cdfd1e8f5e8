"""Personalised and shared-body batches through SmsBridge use the providers' batch forms.

The dispatcher groups outbox items by the provider's request key (what must be equal in
one request), not by rendered text, so a personalised campaign takes the same few
requests a shared body does. Counted at the emulators: requests served and recipients
accepted, each exactly once.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from smsbridge import Batch, Recipient, SmsBridge, Status, Template
from smsbridge.testing import EmulatorFactory
from smsbridge_bulksms.emulator import BulkSmsEmulator
from smsbridge_bulksms.provider import BulkSmsProvider
from smsbridge_clickatell import ClickatellProvider
from smsbridge_clickatell.emulator import ClickatellEmulator
from smsbridge_huawei import HuaweiProvider
from smsbridge_huawei.emulator import HuaweiEmulator
from tests.workers.harness import numbers


def sends(emulator: BulkSmsEmulator | ClickatellEmulator | HuaweiEmulator, path: str) -> int:
    return sum(1 for record in emulator.requests.snapshot() if path in record.path)


def test_bulksms_personalised_batch_takes_one_or_two_requests(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(BulkSmsEmulator, credits=Decimal(10**7))
    wanted = numbers(10_000)
    batch = Batch(
        [Recipient(n, variables={"code": f"{i:06d}"}) for i, n in enumerate(wanted)],
        template=Template("Your code is {code}"),
        reference="otp",
    )
    provider = BulkSmsProvider.from_options(**BulkSmsProvider.emulator_options(emulator))
    with SmsBridge([provider], store=tmp_path / "o.sqlite3", max_wait=60) as bridge:
        results = bridge.send_batch(batch)
    assert {r.status for r in results} == {Status.ACCEPTED}
    assert sends(emulator, "/send_batch/") in (1, 2)
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(wanted, 1)
    # Each row carried its own text, in the CSV's message column.
    data = "".join(r.request.param("batch_data") or "" for r in emulator.requests.snapshot())
    assert "Your code is 000042" in data and "Your code is 009999" in data


def test_clickatell_shared_text_takes_at_most_ten_requests(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    emulator = smsbridge_emulator_factory(ClickatellEmulator, balance=Decimal(10**6))
    wanted = numbers(3_000)
    provider = ClickatellProvider.from_options(**ClickatellProvider.emulator_options(emulator))
    with SmsBridge([provider], store=tmp_path / "o.sqlite3", max_wait=60) as bridge:
        results = bridge.send_batch(Batch(wanted, body="Doors open at 7", reference="gig"))
    assert {r.status for r in results} == {Status.ACCEPTED}
    assert len({r.message_id for r in results}) == len(wanted)
    assert 1 <= sends(emulator, "/sendmsg") <= 10
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(wanted, 1)


def test_huawei_distinct_template_values_take_at_most_ten_requests(
    tmp_path: Path, smsbridge_emulator_factory: EmulatorFactory
) -> None:
    template_id = "tplintl0000000000000000000000001"
    emulator = smsbridge_emulator_factory(HuaweiEmulator, app_key="key-1", app_secret="s3cret-1")
    emulator.register_template(template_id, "Your code is ${NUM_6}", region="INTL")
    template = Template("Your code is {num_6}", provider_ids={"huawei": template_id})
    wanted = numbers(1_000)
    batch = Batch(
        [Recipient(n, variables={"num_6": f"{i:06d}"}) for i, n in enumerate(wanted)],
        template=template,
        reference="hw",
    )
    provider = HuaweiProvider.from_options(**HuaweiProvider.emulator_options(emulator))
    with SmsBridge([provider], store=tmp_path / "o.sqlite3", max_wait=60) as bridge:
        results = bridge.send_batch(batch)
    assert {r.status for r in results} == {Status.ACCEPTED}
    assert len(emulator.requests) <= 10
    assert emulator.submissions.accepted_recipients() == dict.fromkeys(wanted, 1)
